"""Every place a password is set refuses easy ones, in the user's language."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk_core.models import Role, User
from tests.webapp.admin.conftest import login_as
from webapp.extensions import db

TOO_EASY = "Mật khẩu này quá dễ đoán."
PERSONAL = "Mật khẩu không được chứa tên đăng nhập, họ tên hay địa chỉ e-mail."


def _accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_administration_refuses_easy_passwords(app, world):
    client = app.test_client()
    login_as(client, world.admin)
    before = _accounts(app)
    for password, message in (("12345678", TOO_EASY), ("aaaaaaaa", TOO_EASY),
                              ("canbo.hoacuong", PERSONAL)):
        page = client.post("/admin/users/new", data={
            "login": "canbo.hoacuong", "name": "Nguyễn Văn Cán", "password": password,
            "role": Role.COORDINATOR, "ward": "", "locale": "vi"})
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and message in body, password
        assert 'value="Nguyễn Văn Cán"' in body  # the rest of the form is kept
    assert _accounts(app) == before
    with app.app_context():
        login = db.session.get(User, world.staff_a).login
        old_hash = db.session.get(User, world.staff_a).password_hash
    reset = client.post(f"/admin/users/{world.staff_a}/password", data={"password": login + "!!"})
    assert PERSONAL in reset.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.staff_a).password_hash == old_hash


def test_the_command_line_refuses_easy_passwords(app, runner):
    result = runner.invoke(args=["user", "create", "--login", "dieuphoi.moi", "--name",
                                 "Điều phối Mới", "--role", "coordinator",
                                 "--password", "12345678"])
    assert result.exit_code != 0
    assert "password" in result.output and "dễ đoán" in result.output
    assert _accounts(app) == 0
