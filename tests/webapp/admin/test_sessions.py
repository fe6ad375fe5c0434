"""What ends a session: logging out, a new password, a new role or ward, deactivation and
"log out everywhere"; and logging in starts a fresh session (no fixation)."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import Role, TicketEvent, User
from helpdesk_core.services import admin as admin_service
from helpdesk_core.services import users
from tests.factories import PASSWORD
from tests.webapp.admin.conftest import build_world, login_as
from webapp.extensions import db

PAGE = "/tickets/"


def _login_with_remember(client, login: str) -> tuple[str, str]:
    """Log in through the form with "stay logged in"; the two cookies it set."""
    response = client.post("/login", data={"login": login, "password": PASSWORD,
                                           "remember": "y"})
    assert response.status_code == 302
    return client.get_cookie("session").value, client.get_cookie("remember_token").value


def _client_with(app, name: str, value: str):
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def _login_name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).login


def _opens(client, path: str = PAGE) -> bool:
    response = client.get(path)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _update(app, user_id: int, **changes) -> None:
    """Change an account through the administration service, as every entry point does."""
    with app.app_context():
        user = db.session.get(User, user_id)
        values = {"name": user.name, "role": user.role, "ward": user.ward,
                  "locale": user.locale, "active": user.active}
        values.update(changes)
        if "ward_id" in values:
            values["ward"] = db.session.get(type(user.ward), values.pop("ward_id"))
        admin_service.update_user(db.session, user, **values)
        db.session.commit()


def _logout(app, world, client) -> None:
    client.post("/logout")


def _new_password(app, world, client) -> None:
    with app.app_context():
        users.set_password(db.session.get(User, world.staff_a), "mot cau mat khau moi")
        db.session.commit()


def _new_role(app, world, client) -> None:
    _update(app, world.staff_a, role=Role.COORDINATOR, ward=None)


def _new_ward(app, world, client) -> None:
    _update(app, world.staff_a, ward_id=world.ward_b)


def _deactivated(app, world, client) -> None:
    _update(app, world.staff_a, active=False)


def _ended_by_an_administrator(app, world, client) -> None:
    admin = app.test_client()
    login_as(admin, world.admin)
    response = admin.post(f"/admin/users/{world.staff_a}/sessions")
    assert response.status_code == 302


@pytest.mark.parametrize("event", [_logout, _new_password, _new_role, _new_ward, _deactivated,
                                   _ended_by_an_administrator])
def test_old_session_and_remember_cookies_stop_working(app, world, event):
    client = app.test_client()
    session_cookie, remember_cookie = _login_with_remember(client, _login_name(app, world.staff_a))
    bystander = app.test_client()
    login_as(bystander, world.staff_b)
    assert _opens(_client_with(app, "session", session_cookie))
    assert _opens(_client_with(app, "remember_token", remember_cookie))

    event(app, world, client)

    assert not _opens(_client_with(app, "session", session_cookie))
    assert not _opens(_client_with(app, "remember_token", remember_cookie))
    assert _opens(bystander)  # other accounts keep their sessions


def test_a_new_login_gets_a_new_remember_cookie(app, world):
    client = app.test_client()
    login = _login_name(app, world.staff_a)
    _session, first = _login_with_remember(client, login)
    client.post("/logout")
    _session, second = _login_with_remember(client, login)
    assert first != second
    assert _opens(_client_with(app, "remember_token", second))


def test_a_deactivated_account_is_refused_on_every_request(app, world):
    client = app.test_client()
    login_as(client, world.student_a)
    assert _opens(client, f"/tickets/{world.ticket_a}")
    with app.app_context():
        # Behind the services' back too (a script, an older version): the flag alone counts.
        db.session.get(User, world.student_a).active = False
        db.session.commit()
    assert not _opens(client, f"/tickets/{world.ticket_a}")
    response = client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "vẫn vào được"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TicketEvent)
                                 .where(TicketEvent.kind == "comment")) == 0


def test_an_administrator_changing_their_own_password_stays_logged_in(app, world):
    client = app.test_client()
    login_as(client, world.admin)
    changed = client.post(f"/admin/users/{world.admin}/password",
                          data={"password": "mot cau mat khau moi"})
    assert changed.status_code == 302
    assert _opens(client, "/admin/")


def test_the_account_page_offers_to_end_every_session(app, world):
    client = app.test_client()
    login_as(client, world.admin)
    page = client.get(f"/admin/users/{world.staff_a}").get_data(as_text=True)
    assert f'action="/admin/users/{world.staff_a}/sessions"' in page
    assert "Đăng xuất khỏi mọi thiết bị" in page


def test_only_administrators_end_sessions(app, world):
    client = app.test_client()
    login_as(client, world.coordinator)
    assert client.post(f"/admin/users/{world.staff_a}/sessions").status_code == 403
    other = app.test_client()
    login_as(other, world.staff_a)
    assert _opens(other)


def _csrf_token(page) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)


def test_logging_in_starts_a_fresh_session_with_a_new_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = build_world(db.session, app.extensions["helpdesk"])
    client = app.test_client()
    before_token = _csrf_token(client.get("/login"))
    before_cookie = client.get_cookie("session").value
    response = client.post("/login", data={"csrf_token": before_token,
                                           "login": _login_name(app, world.staff_a),
                                           "password": PASSWORD})
    assert response.status_code == 302
    assert client.get_cookie("session").value != before_cookie
    # The token of the anonymous session no longer passes...
    stale = client.post("/language/en", data={"csrf_token": before_token, "next": PAGE})
    assert stale.status_code == 400
    # ...the one of the new session does.
    fresh_token = _csrf_token(client.get("/tickets/new/printer"))
    assert fresh_token != before_token
    switched = client.post("/language/en", data={"csrf_token": fresh_token, "next": PAGE})
    assert switched.status_code == 302


def test_stay_logged_in_lasts_a_month_not_a_year(app, world):
    client = app.test_client()
    response = client.post("/login", data={"login": _login_name(app, world.staff_a),
                                           "password": PASSWORD, "remember": "y"})
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", header).group(1))
    days = (expires - dt.datetime.now(dt.timezone.utc)).days
    assert 29 <= days <= 30
