"""SLA targets on the ward's working calendar: due times, pauses, at-risk and breach.

Targets are working minutes per priority (optionally per category) from
:class:`~helpdesk_core.models.SlaPolicy`. Due times are stored on the ticket so queues
sort and filter in SQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar, parse_hhmm
from ..models import CalendarDay, SlaPolicy, Ticket, Ward

# Working minutes (response, resolution) when no policy row exists.
DEFAULT_TARGETS: dict[int, tuple[int, int]] = {
    1: (15, 60),      # a counter, the queue or signing is blocked
    2: (30, 240),     # 4 working hours
    3: (120, 900),    # 2 working days
    4: (240, 2250),   # 5 working days
}
DEFAULT_AT_RISK_RATIO = 0.8


def calendar_for(session: Session, ward: Ward, tz_name: str | None = None) -> WorkingCalendar:
    """The working calendar of *ward*, with its own and the city's declared days."""
    rows = session.scalars(select(CalendarDay).where(
        (CalendarDay.ward_id == ward.id) | (CalendarDay.ward_id.is_(None)))).all()
    weekday = ((parse_hhmm(ward.morning_start), parse_hhmm(ward.morning_end)),
               (parse_hhmm(ward.afternoon_start), parse_hhmm(ward.afternoon_end)))
    saturday = weekday[:1] if ward.saturday_morning else ()
    extra = {}
    if tz_name:
        from zoneinfo import ZoneInfo
        extra["tz"] = ZoneInfo(tz_name)
    # A ward's own declaration wins over the city-wide one for the same day.
    by_day: dict[dt.date, CalendarDay] = {}
    for row in sorted(rows, key=lambda r: r.ward_id is not None):
        by_day[row.day] = row
    return WorkingCalendar(
        weekday_periods=weekday, saturday_periods=saturday,
        days_off=frozenset(d for d, r in by_day.items() if not r.is_working),
        working_days=frozenset(d for d, r in by_day.items() if r.is_working), **extra)


def policy_for(session: Session, priority: int, category: str) -> tuple[int, int, float, bool]:
    """(response minutes, resolution minutes, at-risk ratio, escalate on breach)."""
    rows = session.scalars(select(SlaPolicy).where(
        SlaPolicy.priority == priority,
        (SlaPolicy.category == category) | (SlaPolicy.category.is_(None)))).all()
    rows.sort(key=lambda p: p.category is None)  # the category's own policy first
    if rows:
        p = rows[0]
        return p.response_minutes, p.resolution_minutes, p.at_risk_ratio, p.escalate_on_breach
    response, resolution = DEFAULT_TARGETS[priority]
    return response, resolution, DEFAULT_AT_RISK_RATIO, False


def set_targets(session: Session, ticket: Ticket, start: dt.datetime) -> None:
    """Compute and store the ticket's due times from *start* (filing or re-prioritising)."""
    calendar = calendar_for(session, ticket.ward)
    response, resolution, _, _ = policy_for(session, ticket.priority, ticket.category)
    ticket.response_due_at = calendar.add(start, response)
    ticket.resolution_due_at = calendar.add(start, resolution)


def pause(ticket: Ticket, now: dt.datetime) -> None:
    """Stop the clock (the ticket waits on the reporter or a vendor)."""
    if ticket.paused_at is None:
        ticket.paused_at = now


def resume(session: Session, ticket: Ticket, now: dt.datetime) -> None:
    """Restart the clock: due times move by the working time spent paused."""
    if ticket.paused_at is None:
        return
    calendar = calendar_for(session, ticket.ward)
    paused = calendar.minutes_between(ticket.paused_at, now)
    if ticket.response_due_at is not None and ticket.responded_at is None:
        ticket.response_due_at = calendar.add(ticket.response_due_at, paused)
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at = calendar.add(ticket.resolution_due_at, paused)
    ticket.paused_at = None
