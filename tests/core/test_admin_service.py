"""Administration rules, without the web: validation per field, uniqueness with NULL
scopes, plugin switches."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.errors import ValidationFailed
from helpdesk_core.models import Role
from helpdesk_core.services import admin, sla
from tests.factories import make_user, make_ward


def test_save_ward_normalises_and_reports_every_bad_field(db_session):
    ward = admin.save_ward(db_session, None, code=" hcx ", name=" Phường  Hòa Cường ",
                           saturday_morning=True)
    assert (ward.code, ward.name.startswith("Phường"), ward.saturday_morning) == ("HCX", True, True)
    with pytest.raises(ValidationFailed) as error:
        admin.save_ward(db_session, None, code="HCX", name="", morning_start="7h30")
    assert set(error.value.field_errors) == {"code", "name", "morning_start"}
    with pytest.raises(ValidationFailed) as order:
        admin.save_ward(db_session, ward, code="HCX", name="Phường Hòa Cường",
                        morning_end="14:00")
    assert set(order.value.field_errors) == {"afternoon_end"}
    assert admin.save_ward(db_session, ward, code="HCX", name="Phường Hòa Cường Nam").id == ward.id


def test_saturday_mornings_and_declared_days_reach_the_sla_calendar(db_session):
    ward = admin.save_ward(db_session, None, code="HCX", name="Phường Hòa Cường",
                           saturday_morning=True)
    admin.add_calendar_day(db_session, None, dt.date(2026, 3, 16), False, "Nghỉ toàn thành phố")
    admin.add_calendar_day(db_session, ward, dt.date(2026, 3, 22), True, "Làm bù Chủ nhật")
    calendar = sla.calendar_for(db_session, ward)
    assert calendar.is_working_day(dt.date(2026, 3, 14))       # a Saturday, morning open
    assert not calendar.is_working_day(dt.date(2026, 3, 16))   # the city's day off
    assert calendar.is_working_day(dt.date(2026, 3, 22))       # the ward's make-up Sunday


def test_the_same_day_cannot_be_declared_twice_in_one_scope(db_session):
    ward = make_ward(db_session)
    day = dt.date(2026, 4, 30)
    admin.add_calendar_day(db_session, None, day, False)
    with pytest.raises(ValidationFailed) as city:  # NULL ward: the database would allow it
        admin.add_calendar_day(db_session, None, day, True)
    assert "day" in city.value.field_errors
    admin.add_calendar_day(db_session, ward, day, True)  # a ward may override the city
    with pytest.raises(ValidationFailed):
        admin.add_calendar_day(db_session, ward, day, False)
    with pytest.raises(ValidationFailed) as missing:
        admin.add_calendar_day(db_session, ward, None, False)
    assert "day" in missing.value.field_errors


def test_update_user_keeps_staff_in_a_ward(db_session):
    ward = make_ward(db_session)
    user = make_user(db_session, Role.STAFF, ward)
    with pytest.raises(ValidationFailed) as error:
        admin.update_user(db_session, user, name="", role=Role.STAFF, ward=None, locale="fr",
                          active=True)
    assert set(error.value.field_errors) == {"name", "ward", "locale"}
    admin.update_user(db_session, user, name="Điều phối", role=Role.COORDINATOR, ward=ward,
                      locale="en", active=False)
    assert (user.role, user.ward_id, user.active) == (Role.COORDINATOR, None, False)


def test_assignment_needs_a_student_a_ward_and_ordered_dates(db_session):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward)
    with pytest.raises(ValidationFailed) as error:
        admin.save_assignment(db_session, None, student=staff, ward=None, university=" ",
                              starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 1))
    assert set(error.value.field_errors) == {"student", "ward", "university", "ends_on"}
    student = make_user(db_session, Role.STUDENT)
    placed = admin.save_assignment(db_session, None, student=student, ward=ward,
                                   university="Đại học Đà Nẵng", starts_on=dt.date(2026, 3, 1),
                                   ends_on=dt.date(2026, 6, 30), on_duty=False)
    assert placed.on_duty is False and placed.ward_id == ward.id


def test_check_settings_are_validated_by_the_plugin_form(db_session, registry):
    asset = admin.save_asset(db_session, registry, None, ward=None, category="network",
                             kind="portal", name="Cổng dịch vụ công", address="127.0.0.1")
    with pytest.raises(ValidationFailed) as error:
        admin.save_check(db_session, registry, None, asset=asset, check_type="tcp",
                         config={"port": 0}, interval_seconds=60, timeout_seconds=60,
                         failure_threshold=0, recovery_threshold=2)
    assert set(error.value.field_errors) == {"port", "timeout_seconds", "failure_threshold"}
    with pytest.raises(ValidationFailed) as unknown:
        admin.save_check(db_session, registry, None, asset=asset, check_type="khong_co",
                         config={}, interval_seconds=60, timeout_seconds=5,
                         failure_threshold=3, recovery_threshold=2)
    assert "check_type" in unknown.value.field_errors
    check = admin.save_check(db_session, registry, None, asset=asset, check_type="tcp",
                             config={"port": "443"}, interval_seconds=60, timeout_seconds=5,
                             failure_threshold=3, recovery_threshold=2)
    assert check.config == {"port": 443}


def test_sla_policy_is_unique_per_priority_and_category_including_any(db_session, registry):
    admin.save_sla_policy(db_session, registry, None, priority=2, category=None,
                          response_minutes=20, resolution_minutes=200, at_risk_ratio=0.8)
    with pytest.raises(ValidationFailed) as duplicate:
        admin.save_sla_policy(db_session, registry, None, priority=2, category="",
                              response_minutes=30, resolution_minutes=300, at_risk_ratio=0.8)
    assert "priority" in duplicate.value.field_errors
    printer = admin.save_sla_policy(db_session, registry, None, priority=2, category="printer",
                                    response_minutes=10, resolution_minutes=100,
                                    at_risk_ratio=0.5, escalate_on_breach=True)
    assert sla.policy_for(db_session, 2, "printer") == (10, 100, 0.5, True)
    assert sla.policy_for(db_session, 2, "network") == (20, 200, 0.8, False)
    with pytest.raises(ValidationFailed) as bad:
        admin.save_sla_policy(db_session, registry, printer, priority=5, category="khong_co",
                              response_minutes=0, resolution_minutes=None, at_risk_ratio=1.5)
    assert set(bad.value.field_errors) == {"priority", "category", "response_minutes",
                                           "resolution_minutes", "at_risk_ratio"}


def test_plugin_switches(db_session):
    assert admin.disabled_plugins(db_session) == []
    admin.set_plugin_enabled(db_session, "vneid", False)
    admin.set_plugin_enabled(db_session, "network", False)
    admin.set_plugin_enabled(db_session, "network", True)
    assert admin.disabled_plugins(db_session) == ["vneid"]
    with pytest.raises(ValidationFailed):
        admin.set_plugin_enabled(db_session, "", False)


def test_an_administrator_cannot_lock_themselves_out(db_session):
    me = make_user(db_session, Role.ADMIN)
    with pytest.raises(ValidationFailed) as error:
        admin.update_user(db_session, me, name=me.name, role=Role.STUDENT, ward=None,
                          locale="vi", active=False, actor=me)
    assert set(error.value.field_errors) == {"role", "active"}
    other = make_user(db_session, Role.ADMIN)
    admin.update_user(db_session, other, name=other.name, role=Role.COORDINATOR, ward=None,
                      locale="vi", active=False, actor=me)
    assert (other.role, other.active, me.role, me.active) == (Role.COORDINATOR, False,
                                                              Role.ADMIN, True)
