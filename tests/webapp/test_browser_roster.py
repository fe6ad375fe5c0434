"""The duty roster and the counter log in a real headless Chromium.

A coordinator sets a shift, the student asks (on a phone) to hand it to a colleague,
the coordinator approves; then the student logs help at the counter in two taps from
the queue. Same app and browser fixtures as test_browser.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from helpdesk_core.calendar import WorkingCalendar
from helpdesk_core.models import CounterHelp, User, Ward
from tests.factories import make_student
from tests.webapp.test_browser import (PHONE, browser, live_app, live_server,  # noqa: F401
                                       log_in, shot)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _next_working_day(today: dt.date) -> dt.date:
    """The first weekday after *today* the default ward calendar works (holidays skipped)."""
    calendar = WorkingCalendar()
    day = today + dt.timedelta(days=1)
    while not (day.weekday() < 5 and calendar.is_working_day(day)):
        day += dt.timedelta(days=1)
    return day


def test_roster_shift_swap_approval_and_counter_log(live_app, live_server, browser):
    from webapp.extensions import db
    from webapp.web import today
    with live_app.test_request_context():
        s = db.session
        ward = s.scalar(select(Ward).where(Ward.code == "HCH"))
        make_student(s, ward, today(), login="sv.haichau2", name="Đặng Thu Trang")
        s.commit()
        ward_id = ward.id
        day = _next_working_day(today())
    base = live_server
    iso, shown = day.isoformat(), day.strftime("%d/%m/%Y")
    week = f"{base}/roster/{ward_id}?start={shown}"
    morning = f"#roster-week tr[data-day='{iso}'] td[data-part=morning]"

    # The coordinator puts Tuấn on duty every week on that weekday's morning.
    coordinator = log_in(browser, base, "dieuphoi")
    coordinator.goto(week)
    assert "Không có ai trực" in coordinator.inner_text(morning)
    coordinator.select_option("select[name=shift-assignment]", label="Võ Minh Tuấn")
    coordinator.select_option("select[name=shift-weekday]", str(day.weekday()))
    coordinator.select_option("select[name=shift-part]", "morning")
    coordinator.click("#set-shift button[type=submit]")
    coordinator.wait_for_selector(".flash-success")
    coordinator.goto(week)
    assert "Võ Minh Tuấn" in coordinator.inner_text(morning)
    shot(coordinator, "roster-01-coordinator-week")

    # Tuấn, on a phone, asks Trang to take that morning.
    student = log_in(browser, base, "sv.haichau1", PHONE)
    student.goto(base + "/roster/")
    student.wait_for_selector("#roster-week")
    student.goto(week)
    assert student.locator(f"{morning} .duty.me").count() == 1  # his own shift stands out
    width = student.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # the week fits a phone
    student.fill("input[name=change-day]", shown)
    student.select_option("select[name=change-part]", "morning")
    student.select_option("select[name=change-on]", label="Đặng Thu Trang")
    student.fill("input[name=change-note]", "Lịch thi giữa kỳ")
    student.click("#swap button[type=submit]")
    student.wait_for_selector(".flash-success")
    assert "Chờ điều phối viên duyệt" in student.inner_text("#roster-changes")
    shot(student, "roster-02-swap-requested-phone")

    # The coordinator approves: Trang is on duty that morning, Tuấn is not.
    coordinator.goto(week)
    coordinator.click("#roster-changes form.decide button[value=approve]")
    coordinator.wait_for_selector(".flash-success")
    coordinator.goto(week)
    cell = coordinator.inner_text(morning)
    assert "Đặng Thu Trang" in cell and "Võ Minh Tuấn" not in cell
    assert "Đã duyệt" in coordinator.inner_text("#roster-changes")
    shot(coordinator, "roster-03-approved")

    # Help at the counter: two taps from the queue, one person by default.
    student.goto(base + "/tickets/queue")
    student.click("#counter-help-button")                        # tap one
    student.wait_for_selector(".kind-grid")
    buttons = student.locator(".kind-button")
    assert buttons.count() >= 5
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44  # tap targets
    shot(student, "roster-04-counter-form-phone")
    student.click(".kind-button[value=vneid_level2]")            # tap two
    student.wait_for_selector(".flash-success")
    assert student.url.endswith("/tickets/queue")
    assert "Kích hoạt VNeID mức 2" in student.inner_text(".flash-success")
    with live_app.app_context():
        rows = db.session.scalars(select(CounterHelp)).all()
        assert [(r.kind, r.people) for r in rows] == [("vneid_level2", 1)]
        tuan = db.session.scalar(select(User).where(User.login == "sv.haichau1"))
        assert rows[0].student_id == tuan.id and rows[0].ward_id == ward_id
