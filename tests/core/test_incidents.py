"""City-wide incidents against real loopback peers, on both engines.

A portal that fails from several wards becomes one incident; the wards' tickets link to
it and their SLA clocks wait; its recovery resolves it. Staff tickets that look alike in
several wards are suggested to coordinators, who confirm or dismiss them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from helpdesk_core.errors import Conflict, PermissionDenied
from helpdesk_core.models import (Asset, AssetCheck, Incident, IncidentTicket,
                                  Role, Source, Status, Ticket, TicketEvent)
from helpdesk_core.services import health, incidents, tickets
from tests.factories import make_student, make_ticket, make_user, make_ward

MINUTE = dt.timedelta(minutes=1)
FIXED = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc)


def portal_check(session, ward, url, service_key="dvcqg"):
    check = AssetCheck(check_type="http", config={}, interval_seconds=60, timeout_seconds=3,
                       failure_threshold=3, recovery_threshold=2)
    session.add(Asset(ward=ward, category="network", kind="cổng dịch vụ công",
                      name="Cổng DVC quốc gia", address=url, service_key=service_key,
                      checks=[check]))
    session.commit()
    return check


def poll(session, registry, check, start, times):
    for i in range(times):
        health.check_now(session, registry, check.id, now=start + i * MINUTE)


def portal_down(session, registry, now, http_server, wards):
    """The portal failing, watched from *wards*: their checks, each failed to its threshold."""
    http_server.set("/portal", "fail")
    checks = [portal_check(session, w, http_server.url("/portal")) for w in wards]
    for check in checks:
        poll(session, registry, check, now, 3)
    return checks


def the_incidents(session):
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def incident_events(session, ticket):
    return [e.new_value for e in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                  TicketEvent.kind == "incident").order_by(TicketEvent.id))]


def auto_ticket(session, check):
    return session.scalar(select(Ticket).where(Ticket.check_id == check.id))


def test_a_portal_failing_in_two_wards_is_one_incident_until_it_recovers(
        db_session, registry, now, http_server):
    http_server.set("/portal", "fail")
    wards = [make_ward(db_session) for _ in range(3)]
    checks = [portal_check(db_session, w, http_server.url("/portal")) for w in wards]

    poll(db_session, registry, checks[0], now, 3)       # one ward: its own ticket, no incident
    assert auto_ticket(db_session, checks[0]) is not None
    assert the_incidents(db_session) == []
    assert incidents.open_incidents(db_session) == []

    poll(db_session, registry, checks[1], now + 3 * MINUTE, 3)   # a second ward: city-wide
    [incident] = the_incidents(db_session)
    assert (incident.status, incident.service_key, incident.source) == ("open", "dvcqg", "health")
    assert set(incident.ward_ids) == {wards[0].id, wards[1].id}
    first, second = auto_ticket(db_session, checks[0]), auto_ticket(db_session, checks[1])
    for ticket in (first, second):
        assert ticket.paused_at == now + 5 * MINUTE and ticket.sla_next_at is None
        assert incident_events(db_session, ticket) == ["linked"]
    assert incidents.banner_text(incident) == (
        "Cổng dịch vụ công quốc gia đang gián đoạn: không cần khởi động lại máy")

    # The third ward fails too: its new ticket joins the same incident.
    poll(db_session, registry, checks[2], now + 6 * MINUTE, 3)
    third = auto_ticket(db_session, checks[2])
    assert len(the_incidents(db_session)) == 1
    assert set(incident.ward_ids) == {w.id for w in wards}
    assert incident_events(db_session, third) == ["linked"] and third.paused_at is not None

    # The portal recovers: each check's ticket resolves by the existing rules; the
    # incident resolves once no ward's check is bad any more.
    http_server.set("/portal", "ok")
    start = now + 20 * MINUTE  # within the window of the third ward's last result
    poll(db_session, registry, checks[0], start, 2)
    poll(db_session, registry, checks[1], start, 2)
    db_session.refresh(incident)
    assert incident.status == "open"                  # the third ward still fails
    poll(db_session, registry, checks[2], start, 1)
    db_session.refresh(incident)
    assert (incident.status, incident.resolved_at) == ("resolved", start)
    assert incidents.open_incidents(db_session) == []
    for ticket in (first, second):
        db_session.refresh(ticket)
        assert ticket.status == Status.RESOLVED
        assert incident_events(db_session, ticket) == ["linked", "released"]
    # The third ticket is still open (one good result): its clock runs again, moved on
    # by the working time it waited; the next good result resolves it as before.
    db_session.refresh(third)
    assert third.status == Status.NEW and third.paused_at is None
    assert third.paused_minutes == pytest.approx(start.timestamp() / 60
                                                 - (now + 8 * MINUTE).timestamp() / 60)
    assert third.sla_next_at is not None
    poll(db_session, registry, checks[2], start + MINUTE, 1)
    db_session.refresh(third)
    assert third.status == Status.RESOLVED
    assert db_session.scalar(select(func.count()).select_from(IncidentTicket)
                             .where(IncidentTicket.released_at.is_(None))) == 0


def test_checks_without_a_service_never_make_an_incident(db_session, registry, now, closed_port):
    wards = [make_ward(db_session) for _ in range(3)]
    for ward in wards:
        check = portal_check(db_session, ward, f"http://127.0.0.1:{closed_port}/", service_key="")
        poll(db_session, registry, check, now, 3)
        assert auto_ticket(db_session, check) is not None
    assert the_incidents(db_session) == []


def test_a_linked_ticket_keeps_its_clock_stopped_while_people_work_on_it(
        db_session, registry, now, http_server):
    a, b = make_ward(db_session), make_ward(db_session)
    checks = portal_down(db_session, registry, now, http_server, (a, b))
    ticket = auto_ticket(db_session, checks[0])
    student = make_student(db_session, a, now.date())
    paused_at = ticket.paused_at
    for action, reason in (("claim", ""), ("start", ""), ("wait_reporter", "Hỏi lại cán bộ"),
                           ("resume", "")):
        tickets.perform(db_session, registry, ticket, student, action, now + 10 * MINUTE,
                        reason=reason)
    tickets.commit(db_session)
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.paused_at == paused_at and ticket.sla_next_at is None
    assert incidents.holds_clock(db_session, ticket)


def test_a_coordinator_closes_it_by_hand_and_it_does_not_reopen_until_recovery(
        db_session, registry, now, http_server):
    a, b = make_ward(db_session), make_ward(db_session)
    checks = portal_down(db_session, registry, now, http_server, (a, b))
    [incident] = the_incidents(db_session)
    coordinator = make_user(db_session, Role.COORDINATOR)
    staff = make_user(db_session, Role.STAFF, a)
    with pytest.raises(PermissionDenied):
        incidents.close(db_session, registry, incident, staff, now + 5 * MINUTE)
    incidents.close(db_session, registry, incident, coordinator, now + 5 * MINUTE,
                    note="Bộ TT&TT đã xác nhận")
    tickets.commit(db_session)
    assert (incident.status, incident.closed_by_id) == ("closed", coordinator.id)
    ticket = auto_ticket(db_session, checks[0])
    assert ticket.paused_at is None and incident_events(db_session, ticket) == [
        "linked", "released"]
    with pytest.raises(Conflict):
        incidents.close(db_session, registry, incident, coordinator, now + 6 * MINUTE)

    poll(db_session, registry, checks[0], now + 10 * MINUTE, 2)   # still failing everywhere
    assert len(the_incidents(db_session)) == 1
    http_server.set("/portal", "ok")
    for check in checks:
        poll(db_session, registry, check, now + 20 * MINUTE, 1)
    db_session.refresh(incident)
    assert incident.recovered_at == now + 20 * MINUTE
    http_server.set("/portal", "fail")                             # down again: a new one
    for check in checks:
        poll(db_session, registry, check, now + 30 * MINUTE, 3)
    assert [i.status for i in the_incidents(db_session)] == ["closed", "open"]


def staff_tickets(session, registry, wards, start, text="Hệ thống đang bận, vui lòng thử lại"):
    filed = []
    for i, ward in enumerate(wards):
        filed.append(make_ticket(session, registry, ward, start + i * 5 * MINUTE,
                                 category="public_portal", title="Không nộp được hồ sơ",
                                 triage={"portal": "national", "step": "attach",
                                         "error_text": f"{text} ({500 + i})"}))
    tickets.commit(session)
    return filed


def test_alike_staff_tickets_in_two_wards_are_suggested_and_confirmed_in_one_click(
        db_session, registry, now):
    a, b = make_ward(db_session), make_ward(db_session)
    filed = staff_tickets(db_session, registry, [a, b, a], now)
    make_ticket(db_session, registry, b, now, title="Máy in kẹt giấy")  # another problem
    tickets.commit(db_session)
    later = now + 15 * MINUTE
    [found] = incidents.suggestions(db_session, later)
    assert found.category == "public_portal" and found.text == "he thong dang ban vui long"
    assert found.ticket_ids == tuple(t.id for t in filed)

    coordinator = make_user(db_session, Role.COORDINATOR)
    student = make_student(db_session, a, now.date())
    with pytest.raises(PermissionDenied):
        incidents.confirm(db_session, registry, student, found.key, later)
    incident = incidents.confirm(db_session, registry, coordinator, found.key, later,
                                 service_key="dvcqg")
    tickets.commit(db_session)
    assert (incident.source, incident.service_key, incident.opened_by_id) == (
        "tickets", "dvcqg", coordinator.id)
    assert set(incident.ward_ids) == {a.id, b.id}
    for ticket in filed:
        assert ticket.paused_at == later and incident_events(db_session, ticket) == ["linked"]
    assert incidents.suggestions(db_session, later) == []        # confirmed: not again
    with pytest.raises(Conflict):
        incidents.confirm(db_session, registry, coordinator, found.key, later)
    assert incidents.waiting_ticket_ids(db_session, [t.id for t in filed]) == {
        t.id for t in filed}


def test_a_dismissed_suggestion_comes_back_only_with_new_tickets(db_session, registry, now):
    a, b = make_ward(db_session), make_ward(db_session)
    staff_tickets(db_session, registry, [a, b, b], now)
    coordinator = make_user(db_session, Role.COORDINATOR)
    [found] = incidents.suggestions(db_session, now + 15 * MINUTE)
    incidents.dismiss(db_session, coordinator, found.key, now + 15 * MINUTE)
    tickets.commit(db_session)
    assert incidents.suggestions(db_session, now + 16 * MINUTE) == []
    assert the_incidents(db_session) == []
    staff_tickets(db_session, registry, [b, a, b], now + 30 * MINUTE)
    [again] = incidents.suggestions(db_session, now + 50 * MINUTE)
    assert len(again.ticket_ids) == 3 and again.first_at == now + 30 * MINUTE


def test_health_tickets_are_not_suggested(db_session, registry, now, closed_port):
    wards = [make_ward(db_session) for _ in range(3)]
    for ward in wards:
        check = portal_check(db_session, ward, f"http://127.0.0.1:{closed_port}/", service_key="")
        poll(db_session, registry, check, now, 3)
    assert db_session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.source == Source.HEALTH_CHECK)) == 3
    assert incidents.suggestions(db_session, now + 5 * MINUTE) == []


def test_devices_are_marked_with_a_service_in_a_bulk_import(db_session, registry):
    from helpdesk_core.services import bulk
    from tests.core.test_bulk import csv_bytes
    make_ward(db_session, code="HCH")
    db_session.commit()
    rows = [["Mã phường", "Tên thiết bị", "Nhóm", "Loại", "Địa chỉ mạng", "Dịch vụ chung"],
            ["HCH", "Cổng DVC từ phường", "network", "portal", "https://dichvucong.gov.vn",
             "dvcqg"],
            ["HCH", "Router tầng 1", "network", "router", "10.0.1.1", ""]]
    outcome = bulk.import_file(db_session, registry, csv_bytes(rows), "devices.csv", FIXED,
                               apply=True)
    assert outcome.applied and not outcome.errors
    keys = dict(db_session.execute(select(Asset.name, Asset.service_key)).all())
    assert keys == {"Cổng DVC từ phường": "dvcqg", "Router tầng 1": ""}
    rows[2][5] = "zalo"
    outcome = bulk.import_file(db_session, registry, csv_bytes(rows), "devices.csv", FIXED,
                               apply=True)
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "Dịch vụ chung")]


def test_the_admin_service_refuses_an_unknown_service(db_session, registry):
    from helpdesk_core.errors import ValidationFailed
    from helpdesk_core.services import admin
    ward = make_ward(db_session)
    asset = admin.save_asset(db_session, registry, None, ward=ward, category="network",
                             kind="portal", name="Cổng", service_key="vneid")
    assert asset.service_key == "vneid"
    with pytest.raises(ValidationFailed) as caught:
        admin.save_asset(db_session, registry, asset, ward=ward, category="network",
                         kind="portal", name="Cổng", service_key="zalo")
    assert "service_key" in caught.value.field_errors


def test_a_failing_incident_rule_never_loses_the_check_result(db_session, registry, now,
                                                               closed_port, monkeypatch):
    from helpdesk_core.errors import HelpdeskError

    def broken(*args, **kwargs):
        raise HelpdeskError("broken on purpose")

    monkeypatch.setattr(incidents, "_observe", broken)
    ward = make_ward(db_session)
    check = portal_check(db_session, ward, f"http://127.0.0.1:{closed_port}/")
    poll(db_session, registry, check, now, 3)
    db_session.refresh(check)
    assert check.consecutive_failures == 3
    assert auto_ticket(db_session, check) is not None


def actors(session, ticket):
    return [(e.new_value, e.actor_id) for e in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                  TicketEvent.kind == "incident").order_by(TicketEvent.id))]


def test_a_coordinator_links_a_staff_ticket_by_hand_and_takes_it_out(
        db_session, registry, now, http_server):
    a, b, c = make_ward(db_session), make_ward(db_session), make_ward(db_session)
    portal_down(db_session, registry, now, http_server, (a, b))
    [incident] = the_incidents(db_session)
    staff_ticket = make_ticket(db_session, registry, c, now, category="public_portal",
                               title="Không nộp được hồ sơ trên cổng",
                               triage={"portal": "national", "step": "attach",
                                       "error_text": "Hệ thống đang bận"})
    tickets.commit(db_session)
    assert staff_ticket.sla_next_at is not None and staff_ticket.paused_at is None
    coordinator = make_user(db_session, Role.COORDINATOR)
    student = make_student(db_session, c, now.date())
    with pytest.raises(PermissionDenied):
        incidents.link_by_hand(db_session, registry, student, incident, staff_ticket, now)

    incidents.link_by_hand(db_session, registry, coordinator, incident, staff_ticket,
                           now + 5 * MINUTE)
    tickets.commit(db_session)
    assert staff_ticket.paused_at == now + 5 * MINUTE and staff_ticket.sla_next_at is None
    assert c.id in incident.ward_ids and incidents.holds_clock(db_session, staff_ticket)
    assert incidents.ticket_incidents(db_session, staff_ticket) == ([incident], [])
    with pytest.raises(Conflict):
        incidents.link_by_hand(db_session, registry, coordinator, incident, staff_ticket, now)
    # Working on it does not restart the clock, as with an automatic link.
    tickets.perform(db_session, registry, staff_ticket, student, "claim", now + 6 * MINUTE)
    tickets.commit(db_session)
    assert staff_ticket.paused_at == now + 5 * MINUTE

    incidents.unlink(db_session, registry, coordinator, incident, staff_ticket,
                     now + 15 * MINUTE)
    tickets.commit(db_session)
    assert staff_ticket.paused_at is None and staff_ticket.sla_next_at is not None
    assert staff_ticket.paused_minutes == pytest.approx(10)
    assert not incidents.holds_clock(db_session, staff_ticket)
    assert incidents.ticket_incidents(db_session, staff_ticket) == ([], [incident])
    with pytest.raises(Conflict):
        incidents.unlink(db_session, registry, coordinator, incident, staff_ticket, now)

    # Linked again (one link row), then the incident is closed: released like the others.
    incidents.link_by_hand(db_session, registry, coordinator, incident, staff_ticket,
                           now + 20 * MINUTE)
    incidents.close(db_session, registry, incident, coordinator, now + 30 * MINUTE)
    tickets.commit(db_session)
    assert actors(db_session, staff_ticket) == [
        ("linked", coordinator.id), ("unlinked", coordinator.id), ("linked", coordinator.id),
        ("released", coordinator.id)]
    assert staff_ticket.paused_at is None
    assert db_session.scalar(select(func.count()).select_from(IncidentTicket).where(
        IncidentTicket.ticket_id == staff_ticket.id)) == 1
    with pytest.raises(Conflict):  # the incident is over
        incidents.link_by_hand(db_session, registry, coordinator, incident, staff_ticket,
                               now + 31 * MINUTE)


def test_a_ticket_taken_out_is_not_linked_again_by_the_checks_nor_a_closed_one_by_hand(
        db_session, registry, now, http_server):
    a, b = make_ward(db_session), make_ward(db_session)
    checks = portal_down(db_session, registry, now, http_server, (a, b))
    [incident] = the_incidents(db_session)
    coordinator = make_user(db_session, Role.COORDINATOR)
    health_ticket = auto_ticket(db_session, checks[0])
    incidents.unlink(db_session, registry, coordinator, incident, health_ticket,
                     now + 5 * MINUTE)
    tickets.commit(db_session)
    poll(db_session, registry, checks[0], now + 6 * MINUTE, 2)  # still failing
    assert incident_events(db_session, health_ticket) == ["linked", "unlinked"]
    assert not incidents.holds_clock(db_session, health_ticket)

    done = make_ticket(db_session, registry, a, now)
    student = make_student(db_session, a, now.date())
    tickets.perform(db_session, registry, done, student, "claim", now + MINUTE)
    tickets.perform(db_session, registry, done, student, "resolve", now + 2 * MINUTE,
                    reason="Đã xử lý")
    tickets.commit(db_session)
    with pytest.raises(Conflict):
        incidents.link_by_hand(db_session, registry, coordinator, incident, done,
                               now + 10 * MINUTE)
    assert incident_events(db_session, done) == []
