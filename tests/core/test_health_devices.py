"""One ticket per device and outage, dependencies, the device's category and its outage
history, against real loopback peers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from helpdesk_core.models import Asset, AssetCheck, CheckOutage, Criticality, Status, Ticket
from helpdesk_core.services import health
from helpdesk_core.testing import closed_port
from helpdesk_core.testing.peers import make_cert
from tests.core.test_health import events
from tests.factories import make_ward

MINUTE = dt.timedelta(minutes=1)


def device(session, ward, name, checks, category="network", kind="router",
           depends_on=None, criticality=Criticality.HIGH, address="127.0.0.1"):
    asset = Asset(ward=ward, category=category, kind=kind, name=name, address=address,
                  criticality=criticality, depends_on=depends_on,
                  checks=[AssetCheck(check_type=check_type, config=config, interval_seconds=60,
                                     timeout_seconds=3, failure_threshold=3,
                                     recovery_threshold=2)
                          for check_type, config in checks])
    session.add(asset)
    session.commit()
    return asset


def health_tickets(session, asset):
    return list(session.scalars(select(Ticket).where(Ticket.asset_id == asset.id)
                                .order_by(Ticket.id)))


def run(session, registry, check, when):
    return health.check_now(session, registry, check.id, now=when)


def test_one_outage_of_a_portal_is_one_ticket_in_the_devices_category(
        db_session, registry, now, http_server, tmp_path):
    ward = make_ward(db_session)
    http_server.set("/portal", "fail")
    portal = device(db_session, ward, "Cổng dịch vụ công", [
        ("http", {}), ("cert_expiry", {"cert_file": str(tmp_path / "missing.pem")})],
        address=http_server.url("/portal"))
    web, cert = portal.checks
    for i in range(3):
        run(db_session, registry, web, now + 2 * i * MINUTE)
        run(db_session, registry, cert, now + (2 * i + 1) * MINUTE)
    [ticket] = health_tickets(db_session, portal)
    # The certificate check's plugin files in "signing"; the device is a network device.
    assert ticket.category == "network" and ticket.priority == 2
    notes = events(db_session, ticket, "health")
    assert {e.data["check_id"] for e in notes} == {web.id, cert.id}
    assert any("fails too" in e.body or "cũng" in e.body for e in notes)

    # The web page answers again, the certificate still cannot be read: not resolved.
    http_server.set("/portal", "ok")
    for i in range(3):
        assert run(db_session, registry, web, now + (10 + i) * MINUTE).action is None
    db_session.refresh(ticket)
    assert ticket.is_open
    # A valid certificate file: the device is well, its ticket resolves by itself.
    cert.config = {"cert_file": str(make_cert(tmp_path, 365)[0])}
    db_session.commit()
    actions = [run(db_session, registry, cert, now + (20 + i) * MINUTE).action
               for i in range(2)]
    assert actions == [None, "resolved"]
    db_session.refresh(ticket)
    assert ticket.status == Status.RESOLVED
    assert len(health_tickets(db_session, portal)) == 1


def test_behind_a_failing_router_a_printer_attaches_to_the_routers_ticket(
        db_session, registry, now, tcp_server):
    ward = make_ward(db_session)
    router = device(db_session, ward, "Router tầng 1", [("tcp", {"port": closed_port()})])
    printer = device(db_session, ward, "Máy in một cửa", [("tcp", {"port": closed_port()})],
                     category="printer", kind="printer", depends_on=router,
                     criticality=Criticality.NORMAL)
    [router_check], [printer_check] = router.checks, printer.checks
    for i in range(3):
        run(db_session, registry, router_check, now + i * MINUTE)
    [router_ticket] = health_tickets(db_session, router)
    outcomes = [run(db_session, registry, printer_check, now + (5 + i) * MINUTE)
                for i in range(5)]
    assert [o.action for o in outcomes] == [None, None, "attached", None, None]
    assert outcomes[2].ticket_id == router_ticket.id
    assert health_tickets(db_session, printer) == []
    [attached] = [e for e in events(db_session, router_ticket, "health")
                  if e.data.get("downstream") == printer.id]
    assert "Máy in một cửa" in attached.body

    # The router is back; the printer still fails: now it is the printer's own outage.
    router_check.config = {"port": tcp_server().port}
    db_session.commit()
    for i in range(2):
        run(db_session, registry, router_check, now + (20 + i) * MINUTE)
    db_session.refresh(router_ticket)
    assert router_ticket.status == Status.RESOLVED
    assert run(db_session, registry, printer_check, now + 25 * MINUTE).action == "filed"
    [printer_ticket] = health_tickets(db_session, printer)
    assert printer_ticket.category == "printer"


def test_short_outages_stay_in_the_devices_history_without_a_ticket(
        db_session, registry, now, http_server):
    ward = make_ward(db_session)
    http_server.set("/kiosk", "ok")
    kiosk = device(db_session, ward, "Kiosk lấy số", [("http", {})], category="kiosk",
                   kind="kiosk", address=http_server.url("/kiosk"))
    [check] = kiosk.checks
    step = dt.timedelta(seconds=10)
    for i, mode in enumerate(["ok", "fail", "fail", "ok", "ok", "fail", "ok"]):
        http_server.set("/kiosk", mode)
        run(db_session, registry, check, now + i * step)
    assert health_tickets(db_session, kiosk) == []
    outages = list(db_session.scalars(select(CheckOutage).order_by(CheckOutage.id)))
    assert [(o.started_at - now, o.ended_at - now, o.confirmed) for o in outages] == [
        (1 * step, 3 * step, False), (5 * step, 6 * step, False)]
    assert all(o.asset_id == kiosk.id and "500" in o.message for o in outages)

    # A confirmed outage names its ticket.
    http_server.set("/kiosk", "fail")
    for i in range(3):
        run(db_session, registry, check, now + (10 + i) * step)
    [ticket] = health_tickets(db_session, kiosk)
    last = db_session.scalars(select(CheckOutage).order_by(CheckOutage.id.desc())).first()
    assert last.confirmed and last.ticket_id == ticket.id and last.ended_at is None
