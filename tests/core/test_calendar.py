"""Working time on ward calendars: concrete Vietnamese examples and properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpdesk_core.calendar import WorkingCalendar, vietnam_holidays, vietnam_makeup_days
from helpdesk_core.models import CalendarDay, Status, Ticket
from helpdesk_core.services import sla

from ..factories import make_ward

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = dt.timezone.utc
DEFAULT = WorkingCalendar()
SATURDAY = WorkingCalendar(saturday_periods=((dt.time(7, 30), dt.time(11, 30)),))


def local(year, month, day, hour=0, minute=0) -> dt.datetime:
    """An aware moment given in Da Nang time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN)


def as_local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(VN).replace(tzinfo=None)


# --- concrete examples --------------------------------------------------------------

def test_lunch_break_and_evening_are_not_working_time():
    assert as_local(DEFAULT.add(local(2026, 3, 10, 11, 0), 60)) == dt.datetime(2026, 3, 10, 14, 0)
    assert as_local(DEFAULT.add(local(2026, 3, 10, 16, 30), 60)) == dt.datetime(2026, 3, 11, 8, 0)
    # Filed during lunch: the clock starts at 13:30.
    assert as_local(DEFAULT.add(local(2026, 3, 10, 12, 0), 15)) == dt.datetime(2026, 3, 10, 13, 45)
    assert DEFAULT.minutes_between(local(2026, 3, 10, 11, 0), local(2026, 3, 10, 14, 0)) == 60
    assert DEFAULT.minutes_between(local(2026, 3, 10, 17, 0), local(2026, 3, 11, 7, 30)) == 0
    # The end of a period is still working time: nothing to wait for.
    assert as_local(DEFAULT.add(local(2026, 3, 10, 11, 30), 0)) == dt.datetime(2026, 3, 10, 11, 30)
    assert as_local(DEFAULT.add(local(2026, 3, 10, 11, 30), 1)) == dt.datetime(2026, 3, 10, 13, 31)
    # A full weekday holds 7.5 working hours.
    assert DEFAULT.minutes_between(local(2026, 3, 10), local(2026, 3, 11)) == 450


def test_tet_2026_is_nine_days_off():
    # Civil servants were off Saturday 14/02 to Sunday 22/02/2026.
    for offset in range(9):
        assert not DEFAULT.is_working_day(dt.date(2026, 2, 14) + dt.timedelta(days=offset))
    assert DEFAULT.is_working_day(dt.date(2026, 2, 13))
    assert DEFAULT.is_working_day(dt.date(2026, 2, 23))
    # Two working hours asked at 16:00 on Friday 13/02: one before Tết, one after.
    due = DEFAULT.add(local(2026, 2, 13, 16, 0), 120)
    assert as_local(due) == dt.datetime(2026, 2, 23, 8, 30)
    assert DEFAULT.minutes_between(local(2026, 2, 13, 16, 0), due) == 120
    # The official days off are Monday 16 to Friday 20/02: a ward open on Saturday
    # mornings is open on 14/02 and 21/02 unless it declares them off.
    assert SATURDAY.is_working_day(dt.date(2026, 2, 14))
    assert not SATURDAY.is_working_day(dt.date(2026, 2, 16))
    closed = WorkingCalendar(saturday_periods=SATURDAY.saturday_periods,
                             days_off=frozenset({dt.date(2026, 2, 14), dt.date(2026, 2, 21)}))
    assert as_local(closed.add(local(2026, 2, 13, 16, 0), 120)) == dt.datetime(2026, 2, 23, 8, 30)


def test_hung_kings_and_30_4_1_5_2026():
    holidays_2026 = vietnam_holidays(2026)
    # Giỗ Tổ 10/3 lunar falls on Sunday 26/04/2026: Monday 27/04 is the day off.
    assert {dt.date(2026, 4, 27), dt.date(2026, 4, 30), dt.date(2026, 5, 1)} <= holidays_2026
    assert as_local(DEFAULT.add(local(2026, 4, 24, 17, 0), 30)) == dt.datetime(2026, 4, 28, 8, 0)
    # Wednesday 29/04 16:30 + 1 h: 30 min that day, then Thu 30/04, Fri 01/05, the weekend.
    assert as_local(DEFAULT.add(local(2026, 4, 29, 16, 30), 60)) == dt.datetime(2026, 5, 4, 8, 0)
    assert DEFAULT.minutes_between(local(2026, 4, 29), local(2026, 5, 5)) == 450 * 2


def test_national_day_2026_and_its_make_up_saturday():
    # 2026: Monday 31/08 given off in exchange for working Saturday 22/08.
    assert dt.date(2026, 8, 22) in vietnam_makeup_days(2026)
    assert {dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 9, 2)} <= vietnam_holidays(2026)
    assert as_local(DEFAULT.add(local(2026, 8, 21, 17, 0), 30)) == dt.datetime(2026, 8, 22, 8, 0)
    assert as_local(DEFAULT.add(local(2026, 8, 28, 16, 0), 120)) == dt.datetime(2026, 9, 3, 8, 30)
    # 2025: Saturday 26/04 worked so that Friday 02/05 was off.
    assert DEFAULT.is_working_day(dt.date(2025, 4, 26))
    assert not DEFAULT.is_working_day(dt.date(2025, 5, 2))


def test_saturday_morning_wards():
    friday = local(2026, 3, 13, 16, 30)
    assert as_local(SATURDAY.add(friday, 60)) == dt.datetime(2026, 3, 14, 8, 0)
    assert as_local(DEFAULT.add(friday, 60)) == dt.datetime(2026, 3, 16, 8, 0)
    # Saturday afternoon is closed.
    assert as_local(SATURDAY.add(local(2026, 3, 14, 11, 0), 60)) == dt.datetime(2026, 3, 16, 8, 0)
    assert SATURDAY.minutes_between(local(2026, 3, 14), local(2026, 3, 15)) == 240


def test_add_working_days_skips_weekends_and_holidays():
    friday = local(2026, 3, 13, 16, 0)
    assert as_local(DEFAULT.add_working_days(friday, 3)) == dt.datetime(2026, 3, 18, 16, 0)
    assert as_local(SATURDAY.add_working_days(friday, 3)) == dt.datetime(2026, 3, 17, 16, 0)
    assert DEFAULT.add_working_days(friday, 0) == friday
    # Resolved the Friday before Tết: three working days end on Wednesday 25/02.
    assert as_local(DEFAULT.add_working_days(local(2026, 2, 13, 9, 0), 3)) \
        == dt.datetime(2026, 2, 25, 9, 0)


def test_ward_and_city_declarations(db_session):
    ward = make_ward(db_session)
    other = make_ward(db_session, saturday_morning=True)
    db_session.add_all([
        # The ward closes on Wednesday 11/03/2026 (e.g. moving offices).
        CalendarDay(ward_id=ward.id, day=dt.date(2026, 3, 11), is_working=False, note="Chuyển trụ sở"),
        # The city makes Saturday 21/03/2026 a working day for everyone...
        CalendarDay(ward_id=None, day=dt.date(2026, 3, 21), is_working=True, note="Làm bù"),
        # ...and gives Friday 20/03 off, except the other ward, which stays open.
        CalendarDay(ward_id=None, day=dt.date(2026, 3, 20), is_working=False),
        CalendarDay(ward_id=other.id, day=dt.date(2026, 3, 20), is_working=True),
    ])
    db_session.flush()
    mine, theirs = sla.calendar_for(db_session, ward), sla.calendar_for(db_session, other)
    assert not mine.is_working_day(dt.date(2026, 3, 11))
    assert theirs.is_working_day(dt.date(2026, 3, 11))
    assert as_local(mine.add(local(2026, 3, 10, 16, 30), 60)) == dt.datetime(2026, 3, 12, 8, 0)
    assert not mine.is_working_day(dt.date(2026, 3, 20))
    assert theirs.is_working_day(dt.date(2026, 3, 20))
    # A make-up Saturday is a full weekday, also where Saturdays are mornings only.
    assert mine.periods_on(dt.date(2026, 3, 21)) == mine.weekday_periods
    assert theirs.minutes_between(local(2026, 3, 21), local(2026, 3, 22)) == 450
    assert as_local(mine.add(local(2026, 3, 19, 16, 30), 60)) == dt.datetime(2026, 3, 21, 8, 0)


def test_ward_opening_hours_come_from_the_ward(db_session):
    ward = make_ward(db_session, morning_start="08:00", morning_end="11:00",
                     afternoon_start="14:00", afternoon_end="16:30")
    calendar = sla.calendar_for(db_session, ward)
    assert as_local(calendar.add(local(2026, 3, 10, 7, 0), 60)) == dt.datetime(2026, 3, 10, 9, 0)
    assert calendar.minutes_between(local(2026, 3, 10), local(2026, 3, 11)) == 330


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        DEFAULT.add(local(2026, 3, 10, 9), -1)
    with pytest.raises(ValueError):
        DEFAULT.add_working_days(local(2026, 3, 10, 9), -1)


def test_a_calendar_without_working_days_fails_instead_of_looping():
    closed = WorkingCalendar(weekday_periods=(), saturday_periods=())
    with pytest.raises(ValueError):
        closed.add(local(2026, 3, 10, 9), 1)


# --- properties -----------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])

moments = st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2027, 1, 31),
                       timezones=st.just(UTC))
minutes = st.integers(min_value=0, max_value=6000)  # up to about 13 working days
days_2026 = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2027, 1, 31))


@st.composite
def calendars(draw) -> WorkingCalendar:
    """Default hours or other hours, Saturday mornings or not, declared days off/make-ups."""
    morning = draw(st.sampled_from([(dt.time(7, 30), dt.time(11, 30)),
                                    (dt.time(8, 0), dt.time(11, 0))]))
    afternoon = draw(st.sampled_from([(dt.time(13, 30), dt.time(17, 0)),
                                      (dt.time(14, 0), dt.time(16, 30))]))
    saturday = draw(st.booleans())
    return WorkingCalendar(
        weekday_periods=(morning, afternoon),
        saturday_periods=(morning,) if saturday else (),
        days_off=frozenset(draw(st.sets(days_2026, max_size=8))),
        working_days=frozenset(draw(st.sets(days_2026, max_size=3))))


@PROPERTY_SETTINGS
@given(calendars(), moments, minutes)
def test_due_times_fall_inside_working_hours(calendar, start, amount):
    due = calendar.add(start, amount)
    assert due.tzinfo is not None and due.utcoffset() == dt.timedelta(0)
    assert due >= start
    assert calendar.is_working_time(due)


@PROPERTY_SETTINGS
@given(calendars(), moments, minutes)
def test_minutes_between_undoes_add(calendar, start, amount):
    assert calendar.minutes_between(start, calendar.add(start, amount)) == amount


@PROPERTY_SETTINGS
@given(calendars(), moments, minutes, minutes)
# Found by a long run: the first part ends exactly at 11:30, the end of the morning.
@example(DEFAULT, dt.datetime(2025, 12, 1, 1, 0, tzinfo=UTC), 5610, 0)
def test_add_is_monotonic_and_additive(calendar, start, first, second):
    low, high = sorted((first, second))
    assert calendar.add(start, low) <= calendar.add(start, high)
    assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)


@PROPERTY_SETTINGS
@given(calendars(), moments, moments, minutes)
def test_add_is_monotonic_in_the_start(calendar, a, b, amount):
    early, late = sorted((a, b))
    assert calendar.add(early, amount) <= calendar.add(late, amount)


@PROPERTY_SETTINGS
@given(calendars(), st.lists(moments, min_size=3, max_size=3))
def test_minutes_between_splits_and_never_exceeds_the_clock(calendar, points):
    a, b, c = sorted(points)
    whole = calendar.minutes_between(a, c)
    assert whole == pytest.approx(calendar.minutes_between(a, b) + calendar.minutes_between(b, c),
                                  abs=1e-6)
    assert 0 <= whole <= (c - a).total_seconds() / 60
    assert calendar.minutes_between(c, a) == 0


@PROPERTY_SETTINGS
@given(calendars(), moments)
def test_zero_minutes_waits_for_the_next_opening(calendar, start):
    due = calendar.add(start, 0)
    if calendar.is_working_time(start):
        assert due == start
    else:
        assert due > start and calendar.minutes_between(start, due) == 0


@st.composite
def pauses(draw):
    """Filing time, then up to four pause intervals (each start after the previous end)."""
    filed = draw(moments)
    cursor = filed
    intervals = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        start = cursor + dt.timedelta(minutes=draw(st.integers(min_value=0, max_value=4000)))
        end = start + dt.timedelta(minutes=draw(st.integers(min_value=0, max_value=6000)))
        intervals.append((start, end))
        cursor = end
    return filed, intervals


@PROPERTY_SETTINGS
@given(calendars(), pauses(), st.integers(min_value=1, max_value=3000),
       st.integers(min_value=1, max_value=3000))
def test_pausing_and_resuming_never_loses_or_invents_time(calendar, plan, response, resolution):
    filed, intervals = plan
    ticket = Ticket(status=Status.IN_PROGRESS, priority=3, paused_minutes=0.0,
                    response_paused_minutes=0.0,
                    response_due_at=calendar.add(filed, response),
                    response_at_risk_at=calendar.add(filed, response * 0.8),
                    resolution_due_at=calendar.add(filed, resolution),
                    resolution_at_risk_at=calendar.add(filed, resolution * 0.8))
    sla.refresh_next(ticket)
    spent = 0.0
    for start, end in intervals:
        sla.pause(ticket, start)
        ticket.status = Status.WAITING_REPORTER
        assert ticket.sla_next_at is None  # nothing is swept while paused
        spent += sla.resume_on(calendar, ticket, end)
        ticket.status = Status.IN_PROGRESS
        assert ticket.paused_at is None
    expected = sum(calendar.minutes_between(a, b) for a, b in intervals)
    assert spent == pytest.approx(expected, abs=1e-6)
    assert ticket.paused_minutes == pytest.approx(expected, abs=1e-6)
    # The working time from filing to the due time is the target plus the pauses...
    assert calendar.minutes_between(filed, ticket.resolution_due_at) \
        == pytest.approx(resolution + expected, abs=1e-6)
    assert calendar.minutes_between(filed, ticket.response_due_at) \
        == pytest.approx(response + expected, abs=1e-6)
    # ...so recomputing from filing (a priority change) lands on the same moment.
    assert calendar.add(filed, resolution + ticket.paused_minutes) == ticket.resolution_due_at
    assert calendar.is_working_time(ticket.resolution_due_at)
    assert ticket.resolution_at_risk_at <= ticket.resolution_due_at
    assert ticket.sla_next_at == min(ticket.response_at_risk_at, ticket.resolution_at_risk_at)
