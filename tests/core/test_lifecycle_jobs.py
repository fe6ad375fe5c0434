"""Auto-close after N working days and auto-assignment to the on-duty student."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from helpdesk_core.errors import Conflict
from helpdesk_core.models import CalendarDay, Role, Status, StudentAssignment
from helpdesk_core.services import assignment, roster, tickets

from ..factories import make_ticket, make_ward
from .conftest import quick_student, quick_user

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MIN = dt.timedelta(minutes=1)


def resolved_ticket(session, registry, cast, when: dt.datetime, ward=None):
    ward = ward or cast.ward
    student = cast.student if ward is cast.ward else quick_student(session, ward, when.date())
    ticket = make_ticket(session, registry, ward, when - 10 * MIN, reporter=None)
    tickets.perform(session, registry, ticket, student, "claim", when - 5 * MIN)
    tickets.perform(session, registry, ticket, student, "resolve", when, reason="Đã xử lý xong")
    return ticket


# --- auto-close -------------------------------------------------------------------------

def test_resolved_tickets_close_after_three_working_days(db_session, registry, cast, now):
    ticket = resolved_ticket(db_session, registry, cast, now)  # Tuesday 10/03 09:00
    assert tickets.auto_close(db_session, registry, now + dt.timedelta(days=3) - MIN) == []
    friday = now + dt.timedelta(days=3)
    assert tickets.auto_close(db_session, registry, friday) == [ticket]
    assert ticket.status == Status.CLOSED and ticket.closed_at == friday
    event = ticket.events[-1]
    assert (event.kind, event.old_value, event.new_value, event.actor_id, event.created_at) == (
        "status", Status.RESOLVED, Status.CLOSED, None, friday)
    assert event.data == {"working_days": 3, "action": "auto_close"}
    assert tickets.auto_close(db_session, registry, friday + dt.timedelta(days=30)) == []


def test_working_days_skip_weekends_holidays_and_days_off(db_session, registry, cast, now):
    saturday_ward = make_ward(db_session, saturday_morning=True)
    thursday = dt.datetime(2026, 3, 12, 10, 0, tzinfo=VN)
    plain = resolved_ticket(db_session, registry, cast, thursday)
    saturdays = resolved_ticket(db_session, registry, cast, thursday, ward=saturday_ward)
    monday = dt.datetime(2026, 3, 16, 10, 0, tzinfo=VN)
    assert tickets.auto_close(db_session, registry, monday) == [saturdays]  # Fri, Sat, Mon
    assert plain.status == Status.RESOLVED
    assert tickets.auto_close(db_session, registry, monday + dt.timedelta(days=1)) == [plain]
    # Resolved before 30/04 and 01/05/2026: Mon 04, Tue 05, Wed 06/05 are the three days.
    before_holidays = resolved_ticket(db_session, registry, cast,
                                      dt.datetime(2026, 4, 29, 10, 0, tzinfo=VN))
    assert tickets.auto_close(db_session, registry,
                              dt.datetime(2026, 5, 6, 9, 59, tzinfo=VN)) == []
    assert tickets.auto_close(db_session, registry,
                              dt.datetime(2026, 5, 6, 10, 0, tzinfo=VN)) == [before_holidays]
    # A day the ward declared off does not count either.
    db_session.add(CalendarDay(ward_id=cast.ward.id, day=dt.date(2026, 6, 3), is_working=False))
    db_session.flush()
    off = resolved_ticket(db_session, registry, cast, dt.datetime(2026, 6, 1, 10, 0, tzinfo=VN))
    assert tickets.auto_close(db_session, registry, dt.datetime(2026, 6, 4, 10, 0, tzinfo=VN)) == []
    assert tickets.auto_close(db_session, registry,
                              dt.datetime(2026, 6, 5, 10, 0, tzinfo=VN)) == [off]


def test_reopened_tickets_and_other_statuses_stay_open(db_session, registry, cast, now):
    reopened = resolved_ticket(db_session, registry, cast, now)
    tickets.perform(db_session, registry, reopened, cast.staff, "reopen", now + 60 * MIN,
                    reason="Máy in lại kẹt giấy")
    working = make_ticket(db_session, registry, cast.ward, now)
    tickets.perform(db_session, registry, working, cast.student, "claim", now)
    cancelled = make_ticket(db_session, registry, cast.ward, now)
    tickets.perform(db_session, registry, cancelled, cast.staff, "cancel", now, reason="Trùng")
    assert tickets.auto_close(db_session, registry, now + dt.timedelta(days=30)) == []
    assert (reopened.status, working.status, cancelled.status) == (
        Status.ASSIGNED, Status.ASSIGNED, Status.CANCELLED)


def test_the_number_of_working_days_is_configurable(db_session, registry, cast, now):
    ticket = resolved_ticket(db_session, registry, cast, now)
    wednesday = now + dt.timedelta(days=1)
    assert tickets.auto_close(db_session, registry, wednesday, working_days=1) == [ticket]
    assert ticket.events[-1].data["working_days"] == 1


# --- auto-assignment ----------------------------------------------------------------------

def test_new_tickets_go_to_the_on_duty_student_with_fewest_open_tickets(
        db_session, registry, now):
    ward = make_ward(db_session, auto_assign=True)
    today = now.date()
    busy = quick_student(db_session, ward, today)
    free = quick_student(db_session, ward, today)
    off_duty = quick_student(db_session, ward, today, on_duty=False)
    gone = quick_user(db_session, Role.STUDENT)
    db_session.add(StudentAssignment(student=gone, ward=ward, university="VKU",
                                     starts_on=today - dt.timedelta(days=60),
                                     ends_on=today - dt.timedelta(days=1)))
    for _ in range(2):
        ticket = make_ticket(db_session, registry, make_ward(db_session), now)
        ticket.assignee, ticket.status = busy, Status.IN_PROGRESS
    # Resolved work does not count as load.
    finished = make_ticket(db_session, registry, make_ward(db_session), now)
    finished.assignee, finished.status = free, Status.RESOLVED
    db_session.flush()

    first = make_ticket(db_session, registry, ward, now)
    assert (first.status, first.assignee_id) == (Status.ASSIGNED, free.id)
    kinds = [(e.kind, e.old_value, e.new_value, e.actor_id, e.data) for e in first.events]
    assert kinds == [
        ("filed", None, Status.NEW, None, {"priority": 4, "source": "front_desk"}),
        ("assigned", None, str(free.id), None, {}),
        ("status", Status.NEW, Status.ASSIGNED, None, {"auto": True, "action": "assign"}),
    ]
    assert first.responded_at is None  # nobody has looked at it yet
    second = make_ticket(db_session, registry, ward, now)
    assert second.assignee_id == free.id  # 1 open against 2
    third = make_ticket(db_session, registry, ward, now)
    assert third.assignee_id == min(busy.id, free.id)  # 2 against 2: the lower id
    duty = {u.id for u in roster.on_duty(db_session, ward.id, now)}
    assert duty == {busy.id, free.id} and off_duty.id not in duty


def test_no_auto_assignment_when_off_or_nobody_is_on_duty(db_session, registry, cast, now):
    manual = make_ticket(db_session, registry, cast.ward, now)  # the cast's ward: auto off
    assert (manual.status, manual.assignee_id) == (Status.NEW, None)
    empty = make_ward(db_session, auto_assign=True)
    waiting = make_ticket(db_session, registry, empty, now)
    assert (waiting.status, waiting.assignee_id) == (Status.NEW, None)
    assert [e.kind for e in waiting.events] == ["filed"]
    assert tickets.auto_assign(db_session, registry, manual, now) is not None
    assert tickets.auto_assign(db_session, registry, manual, now) is None  # not new any more


def test_one_failing_close_does_not_stop_the_others(db_session, registry, cast, now, monkeypatch):
    first = resolved_ticket(db_session, registry, cast, now)
    second = resolved_ticket(db_session, registry, cast, now + MIN)
    real_perform = tickets.perform

    def perform(session, registry, ticket, *args, **kwargs):
        if ticket.id == first.id:
            raise Conflict("Someone else has just claimed this ticket.")
        return real_perform(session, registry, ticket, *args, **kwargs)

    monkeypatch.setattr(tickets, "perform", perform)
    assert tickets.auto_close(db_session, registry, now + dt.timedelta(days=7)) == [second]
    assert (first.status, second.status) == (Status.RESOLVED, Status.CLOSED)
