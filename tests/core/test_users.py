"""Accounts: logging in costs the same whatever is wrong; session versions."""

from __future__ import annotations

import pytest

from helpdesk_core import i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.models import Role
from helpdesk_core.services import admin, users

from ..factories import PASSWORD, make_user, make_ward
from .conftest import quick_user


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts password-hash verifications (the slow, deliberately costly step)."""
    calls: list[str] = []
    real = users.check_password_hash

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    return calls


def test_every_login_attempt_verifies_exactly_one_hash(db_session, hash_checks):
    user = quick_user(db_session, Role.COORDINATOR)
    gone = quick_user(db_session, Role.STAFF, make_ward(db_session))
    gone.active = False
    db_session.flush()
    attempts = [(user.login, PASSWORD, True), (user.login, "doan-bua", False),
                ("khong.co.ai", PASSWORD, False), (gone.login, PASSWORD, False),
                ("", "", False), (None, None, False)]
    for login, password, succeeds in attempts:
        hash_checks.clear()
        assert (users.authenticate(db_session, login, password) is not None) is succeeds
        assert len(hash_checks) == 1, login


def test_the_stand_in_hash_is_as_costly_as_a_real_one(db_session, hash_checks):
    user = quick_user(db_session, Role.COORDINATOR)
    users.authenticate(db_session, "khong.co.ai", PASSWORD)
    method = user.password_hash.split("$", 1)[0]  # "scrypt:32768:8:1": algorithm and cost
    assert hash_checks[0].split("$", 1)[0] == method


def test_session_ids_carry_the_version(db_session):
    user = quick_user(db_session, Role.COORDINATOR)
    first = user.get_id()
    assert users.user_for_session(db_session, first) is user
    users.end_sessions(user)
    assert users.user_for_session(db_session, first) is None
    assert users.user_for_session(db_session, user.get_id()) is user
    for malformed in ("", None, str(user.id), f"{user.id}:", f":{user.session_version}",
                      f"{user.id}:x", f"{user.id}:{user.session_version}:1",
                      f"{user.id}:{user.session_version}\n", "٣:١", "9" * 40 + ":1"):
        assert users.user_for_session(db_session, malformed) is None, malformed


def test_profile_changes_that_matter_end_sessions(db_session):
    a, b = make_ward(db_session), make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, a)

    def update(**changes) -> int:
        before = staff.session_version
        values = {"name": staff.name, "role": staff.role, "ward": staff.ward,
                  "locale": staff.locale, "active": staff.active, "email": staff.email}
        values.update(changes)
        admin.update_user(db_session, staff, **values)
        return staff.session_version - before

    assert update(name="Tên mới", locale="en", email="a@example.org") == 0
    assert update(ward=b) == 1
    assert update(role=Role.STUDENT, ward=None) == 1
    assert update(active=False) == 1
    assert update(active=True) == 0


WEAK = ["12345678", "aaaaaaaa", "password1", "qwertyuiop", "1qaz2wsx", "abcd1234",
        "matkhau123", "Danang2026"]
STRONG = [PASSWORD, "mot cau mat khau moi", "mat-khau-moi-123", "Ghe-Xanh-Bien-Nho"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_guessable_passwords_are_refused(db_session, password):
    with pytest.raises(ValidationFailed) as refused:
        users.create_user(db_session, login="canbo.moi", name="Cán bộ Mới", password=password,
                          role=Role.COORDINATOR)
    assert list(refused.value.field_errors) == ["password"]
    with i18n.use_locale("vi"):
        assert refused.value.field_errors["password"] == [
            "Mật khẩu này quá dễ đoán. Hãy dùng mật khẩu dài hơn, ví dụ vài từ không liên quan "
            "đến nhau."]


@pytest.mark.parametrize("password", ["sv.haichau1", "SV.HAICHAU1", "Võ Minh Tuấn",
                                      "vominhtuan", "vo.minh.tuan", "tuan@example.org",
                                      "sv.haichau1-xyz"])
def test_the_login_name_or_e_mail_are_refused(db_session, password):
    with pytest.raises(ValidationFailed) as refused:
        users.create_user(db_session, login="sv.haichau1", name="Võ Minh Tuấn",
                          email="tuan@example.org", password=password, role=Role.STUDENT)
    with i18n.use_locale("vi"):
        assert refused.value.field_errors["password"] == [
            "Mật khẩu không được chứa tên đăng nhập, họ tên hay địa chỉ e-mail."]


@pytest.mark.parametrize("password", STRONG)
def test_long_unusual_passwords_are_accepted(db_session, password):
    user = users.create_user(db_session, login="canbo.moi", name="Cán bộ Mới",
                             password=password, role=Role.COORDINATOR)
    assert users.authenticate(db_session, "canbo.moi", password) is user


def test_set_password_follows_the_same_rule(db_session):
    user = quick_user(db_session, Role.COORDINATOR)
    for weak in ("12345678", user.login, "x" * (users.MAX_PASSWORD + 1), "ngan"):
        with pytest.raises(ValidationFailed) as refused:
            users.set_password(user, weak)
        assert refused.value.field_errors["password"], weak
    before = user.session_version
    users.set_password(user, "mot cau mat khau moi")
    assert user.session_version == before + 1


def test_a_long_password_is_judged_by_its_start_and_refused_past_the_limit(db_session):
    long_enough = "mot cau mat khau rat dai " * 10  # 250 characters: fine
    assert users.password_errors(long_enough[:users.MAX_PASSWORD], login="a.b", name="A B") == []
    with i18n.use_locale("en"):
        assert users.password_errors("z" * 5000, login="a.b", name="A B") == [
            f"At most {users.MAX_PASSWORD} characters."]
