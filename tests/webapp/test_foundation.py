"""The app's ground floor: login in Vietnamese, demo data, CLI commands, /healthz."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from helpdesk_core import demo
from helpdesk_core.models import Status, Ticket, User, Ward
from helpdesk_core.services import heartbeat
from webapp.extensions import db


def login(client, name, password=demo.PASSWORD):
    return client.post("/login", data={"login": name, "password": password})


def test_login_page_is_in_vietnamese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Đăng nhập" in page.get_data(as_text=True)
    assert 'lang="vi"' in page.get_data(as_text=True)


def test_protected_pages_redirect_to_login(client):
    response = client.get("/tickets/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_loads_once_and_its_logins_work(app, client, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "canbo.haichau" in first.output and demo.PASSWORD in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ward)) == 3
        statuses = set(db.session.scalars(select(Ticket.status)))
        assert {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_VENDOR,
                Status.WAITING_CITY, Status.RESOLVED, Status.CLOSED, Status.CANCELLED} <= statuses
    for name, _role, _where in demo.LOGINS:
        client.post("/logout")
        response = login(client, name)
        assert response.status_code == 302, name
        assert client.get("/tickets/").status_code == 200


def test_demo_has_a_ticket_and_devices_in_every_category(app, runner):
    from helpdesk_core.models import Asset, AssetCheck
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        registry = app.extensions["helpdesk"]
        categories = set(db.session.scalars(select(Ticket.category)))
        assert categories == set(registry.categories)  # every front-desk button is shown
        kiosks = db.session.scalars(select(Asset).where(Asset.kind == "queue_kiosk")).all()
        assert kiosks and {k.category for k in kiosks} == {"kiosk"}
        portal = db.session.scalar(select(AssetCheck).where(AssetCheck.check_type == "egov_page"))
        assert portal.asset.category == "public_portal" and portal.config["keyword"]


def test_wrong_password_is_refused_in_vietnamese(app, client, runner):
    runner.invoke(args=["demo"])
    page = login(client, "canbo.haichau", "wrong-password")
    assert page.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in page.get_data(as_text=True)


def test_staff_sees_only_their_wards_tickets(app, client, runner):
    runner.invoke(args=["demo"])
    login(client, "canbo.haichau")
    body = client.get("/tickets/?status=").get_data(as_text=True)
    assert "HCH-" in body and "HKH-" not in body and "STR-" not in body
    with app.app_context():
        other = db.session.scalar(select(Ticket).where(Ticket.number.like("HKH-%")))
    assert client.get(f"/tickets/{other.id}").status_code == 404


def test_language_switch_is_remembered_on_the_account(app, client, runner):
    runner.invoke(args=["demo"])
    login(client, "sv.haichau1")
    client.post("/language/en", data={"next": "/tickets/"})
    assert "Tickets" in client.get("/tickets/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.login == "sv.haichau1")) == "en"


def test_unknown_page_is_a_vietnamese_404_without_trace(client):
    page = client.get("/khong-co")
    assert page.status_code == 404
    assert "Không tìm thấy" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)


def test_healthz_reports_database_and_scheduler(app, client):
    app.config["SCHEDULER_EXPECTED"] = True  # the default outside tests
    response = client.get("/healthz")
    body = response.get_json()
    assert body["database"]["ok"] is True
    assert body["scheduler"]["ok"] is False and body["status"] == "degraded"
    # A scheduler is expected and silent: monitoring must see a failure, but the load
    # balancer's check still lets this web worker serve.
    assert body["scheduler"]["expected"] is True and response.status_code == 503
    web = client.get("/healthz/web")
    assert web.status_code == 200 and web.get_json()["status"] == "degraded"
    with app.app_context():
        heartbeat.beat(db.session, heartbeat.SCHEDULER, dt.datetime.now(dt.timezone.utc))
        db.session.commit()
    response = client.get("/healthz")
    body = response.get_json()
    assert body["scheduler"]["ok"] is True and body["status"] == "ok"
    assert response.status_code == 200


def test_healthz_ignores_a_silent_scheduler_when_none_is_expected(app, client):
    app.config["SCHEDULER_EXPECTED"] = False
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["scheduler"]["expected"] is False


def test_healthz_fails_once_the_heartbeat_is_stale(app, client):
    app.config["SCHEDULER_EXPECTED"] = True
    old = app.config["NOW"]() - dt.timedelta(minutes=10)
    with app.app_context():
        heartbeat.beat(db.session, heartbeat.SCHEDULER, old)
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["scheduler"]["ok"] is False
    assert response.get_json()["scheduler"]["age_seconds"] >= 600


def test_user_create_reports_bad_input_clearly(runner):
    result = runner.invoke(args=["user", "create", "--login", "A B", "--name", "X",
                                 "--role", "staff", "--password", "short"])
    assert result.exit_code != 0
    assert "login" in result.output and "password" in result.output
    result = runner.invoke(args=["user", "create", "--login", "sv.moi", "--name", "Sinh viên Mới",
                                 "--role", "student", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output


def test_plugins_command_lists_builtins_and_their_hooks(runner):
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0
    for name in ("printer", "network", "signing", "vneid"):
        assert f"{name}: " in result.output
    assert "helpdesk_triage_form" in result.output


def test_demo_has_an_open_city_wide_incident_with_ward_tickets(app, client, runner):
    from helpdesk_core.models import Incident
    from helpdesk_core.services import incidents
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        (incident,) = incidents.open_incidents(db.session)
        assert (incident.service_key, incident.source) == ("dvcqg", "health")
        numbers = sorted(link.ticket.number[:3] for link in incidents.linked(db.session,
                                                                              incident))
        assert numbers == ["HCH", "HKH", "STR"]  # two from the checks, one linked by hand
        assert len(incident.ward_ids) == 3
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
    banner = "Cổng dịch vụ công quốc gia đang gián đoạn: không cần khởi động lại máy"
    login(client, "canbo.sontra")
    assert banner in client.get("/tickets/new").get_data(as_text=True)
    client.post("/logout")
    login(client, "dieuphoi")
    response = client.get(f"/incidents/{incident.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-800:]
    assert "Phường Hải Châu" in page and "Phường Sơn Trà" in page and "Đang diễn ra" in page
