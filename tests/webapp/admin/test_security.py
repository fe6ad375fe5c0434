"""Web security guarantees: CSRF, rate-limited logins, cookie flags, no personal data in
logs, error pages in the user's language without a stack trace."""

from __future__ import annotations

import datetime as dt
import logging
import re

from helpdesk_core.models import Ticket, User
from tests.conftest import FIXED_NOW
from tests.factories import PASSWORD, make_ticket
from tests.webapp.admin.conftest import build_world, login_as
from webapp.extensions import db, limiter

PHONE = "0905123456"
CITIZEN_ID = "048295012345"


def _world(app):
    app.config["NOW"] = lambda: FIXED_NOW
    with app.app_context():
        return build_world(db.session, app.extensions["helpdesk"])


def _login_name(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).login


def test_a_post_without_csrf_token_is_refused_with_a_translated_400(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    world = _world(app)
    client = app.test_client()
    page = client.post("/login", data={"login": _login_name(app, world.admin),
                                       "password": PASSWORD})
    body = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Biểu mẫu đã hết hạn" in body and "Traceback" not in body
    login_as(client, world.admin)
    refused = client.post("/admin/wards/new", data={"code": "HCX", "name": "Phường Mới"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.query(Ticket).count() == 2  # nothing else was touched
    for path in ("/admin/sla/%d/delete" % world.policy, "/logout", "/language/en"):
        assert client.post(path).status_code == 400, path


def test_forms_carry_a_token_that_is_accepted(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    world = _world(app)
    client = app.test_client()
    login_as(client, world.admin)
    form = client.get("/admin/wards/new")
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                      form.get_data(as_text=True)).group(1)
    saved = client.post("/admin/wards/new", data={
        "csrf_token": token, "code": "HCX", "name": "Phường Mới", "morning_start": "07:30",
        "morning_end": "11:30", "afternoon_start": "13:30", "afternoon_end": "17:00",
        "active": "y"})
    assert saved.status_code == 302


def test_the_eleventh_login_attempt_in_a_minute_gets_a_translated_429(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    for attempt in range(10):
        page = client.post("/login", data={"login": "nobody", "password": f"guess-{attempt}"})
        assert page.status_code == 200, attempt
    blocked = client.post("/login", data={"login": "nobody", "password": "guess-10"})
    body = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert "Quá nhiều lần thử" in body and "Traceback" not in body
    assert client.get("/login").status_code == 200  # reading the form is not limited


def _cookie_headers(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_session_cookies_are_httponly_and_samesite(app, world):
    client = app.test_client()
    response = client.post("/login", data={"login": _login_name(app, world.staff_a),
                                           "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = _cookie_headers(response)
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
        assert "Secure" not in cookies[name]


def test_cookies_are_secure_when_served_over_https(make_app):
    app = make_app(PREFERRED_URL_SCHEME="https")
    world = _world(app)
    client = app.test_client()
    response = client.post("/login", data={"login": _login_name(app, world.staff_a),
                                           "password": PASSWORD, "remember": "y"},
                           base_url="https://localhost")
    cookies = _cookie_headers(response)
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name], cookies[name]
        assert "SameSite=Lax" in cookies[name]


def test_logs_hold_no_phone_citizen_id_or_password(app, world, caplog):
    caplog.set_level(logging.DEBUG)
    # SQL statements with their parameters: the most talkative log there is.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ticket = db.session.get(Ticket, world.ticket_a)
        filed = make_ticket(db.session, registry, ticket.ward, FIXED_NOW - dt.timedelta(hours=1),
                            title=f"Công dân CCCD {CITIZEN_ID} cần in lại",
                            description=f"Liên hệ {PHONE}, CCCD {CITIZEN_ID}")
        db.session.commit()
        filed_id = filed.id
    for user_id in (world.staff_a, world.coordinator, world.admin):
        client = app.test_client()
        login = client.post("/login", data={"login": _login_name(app, user_id),
                                            "password": PASSWORD})
        assert login.status_code == 302
        for path in ("/", "/tickets/?status=", f"/tickets/{filed_id}", "/dashboard/",
                     "/dashboard/export/tickets.csv", "/dashboard/students", "/admin/users",
                     f"/admin/users/{world.staff_a}"):
            response = client.get(path)
            assert PHONE not in response.get_data(as_text=True)
            response.close()
    client = app.test_client()
    client.post("/login", data={"login": "canbo.khongco", "password": "mat-khau-sai-123"})
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "INSERT INTO ticket" in logged  # the filing was logged, masked
    for secret in (PHONE, CITIZEN_ID, PASSWORD, "mat-khau-sai-123"):
        assert secret not in logged, secret


def test_an_unexpected_error_is_a_translated_500_without_trace(app, world):
    def explode():
        raise RuntimeError("secret internals at /srv/helpdesk")

    app.add_url_rule("/__test_boom", "test_boom", explode)
    client = app.test_client()
    page = client.get("/__test_boom")
    body = page.get_data(as_text=True)
    assert page.status_code == 500
    assert "Đã xảy ra lỗi" in body
    assert "Traceback" not in body and "RuntimeError" not in body and "secret internals" not in body
    with app.app_context():
        db.session.get(User, world.staff_a).locale = "en"
        db.session.commit()
    login_as(client, world.staff_a)
    english = client.get("/__test_boom").get_data(as_text=True)
    assert "Something went wrong" in english and "Traceback" not in english
    assert "Not found" in client.get("/khong-co-trang-nay").get_data(as_text=True)
    assert "Not allowed" in client.get("/admin/").get_data(as_text=True)
