"""SLA targets on the ward's working calendar: due times, pauses, at-risk and breach.

Targets are working minutes per priority (optionally per category) from
:class:`~helpdesk_core.models.SlaPolicy`. Due times are stored on the ticket so queues
sort and filter in SQL.

How the clock works:

* :func:`set_targets` computes, from the filing time, the response and resolution due
  times and the moments their at-risk warnings are due (``at_risk_ratio`` of each
  target), all in working time on the ward's calendar (:func:`calendar_for`).
* The clock stands still while the ticket waits on the reporter or a vendor, and while
  it is resolved or closed (the reporter may reopen it). :func:`pause` notes the moment;
  :func:`resume` moves every pending moment on by the *working* time spent paused and
  adds it to ``paused_minutes`` (and to ``response_paused_minutes`` while nobody has
  responded yet), so recomputing targets later (:func:`set_targets` after a priority
  change) keeps the pauses.
* ``Ticket.sla_next_at`` holds the earliest moment at which something is still to be
  said about the ticket (a warning or a breach); :func:`refresh_next` keeps it right
  and :func:`.sla_sweep.sweep` reads only tickets whose moment has come, through an index.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar, parse_hhmm
from ..models import CalendarDay, SlaPolicy, Status, Ticket, TicketEvent, Ward
from . import readahead
from .events import record_event

if TYPE_CHECKING:
    from ..plugins import PluginRegistry

log = logging.getLogger(__name__)

# Working minutes (response, resolution) when no policy row exists.
DEFAULT_TARGETS: dict[int, tuple[int, int]] = {
    1: (15, 60),      # a counter, the queue or signing is blocked
    2: (30, 240),     # 4 working hours
    3: (120, 900),    # 2 working days
    4: (240, 2250),   # 5 working days
}
DEFAULT_AT_RISK_RATIO = 0.8

# Statuses in which the SLA clock stands still. Waiting on the reporter or a vendor is
# time the helpdesk cannot act; so is the time a resolved ticket waits for confirmation
# (if the reporter reopens it, the clock goes on where it stopped).
CLOCK_STOPPED = frozenset(Status.PAUSED) | {Status.RESOLVED, Status.CLOSED}

RESPONSE = "response"
RESOLUTION = "resolution"

# Event kinds written by the sweep (and when a late response or resolution is noted).
AT_RISK_EVENT = "sla_at_risk"
BREACH_EVENT = "sla_breached"


def calendar_for(session: Session, ward: Ward, tz_name: str | None = None) -> WorkingCalendar:
    """The working calendar of *ward*, with its own and the city's declared days
    (read once inside :func:`.readahead.kept`)."""
    return readahead.remembered(session, ("calendar", ward.id, tz_name),
                                lambda: _read_calendar(session, ward, tz_name))


def _read_calendar(session: Session, ward: Ward, tz_name: str | None) -> WorkingCalendar:
    if readahead.keeping(session):
        # Reading ahead for a filing: the SLA policies (a few rows) come with the days,
        # so that policy_for needs no statement of its own.
        both = session.connection().execute(_DAYS_AND_POLICIES, {"calendar_ward": ward.id}).all()
        rows = [row for row in both if row.what == "d"]
        readahead.seed(session, _POLICIES_KEY, [row for row in both if row.what == "p"])
    else:
        rows = session.connection().execute(_CALENDAR_DAYS, {"calendar_ward": ward.id}).all()
    weekday = ((parse_hhmm(ward.morning_start), parse_hhmm(ward.morning_end)),
               (parse_hhmm(ward.afternoon_start), parse_hhmm(ward.afternoon_end)))
    saturday = weekday[:1] if ward.saturday_morning else ()
    extra = {}
    if tz_name:
        from zoneinfo import ZoneInfo
        extra["tz"] = ZoneInfo(tz_name)
    # A ward's own declaration wins over the city-wide one for the same day.
    by_day: dict[dt.date, Any] = {}
    for row in sorted(rows, key=lambda r: r.ward_id is not None):
        by_day[row.day] = row
    return WorkingCalendar(
        weekday_periods=weekday, saturday_periods=saturday,
        days_off=frozenset(d for d, r in by_day.items() if not r.is_working),
        working_days=frozenset(d for d, r in by_day.items() if r.is_working), **extra)


# Both run for every ticket filed: plain statements built once, on the session's
# connection (no ORM objects; they read settings, so they need no autoflush either).
_days, _policies = CalendarDay.__table__, SlaPolicy.__table__
_CALENDAR_DAYS = select(_days.c.ward_id, _days.c.day, _days.c.is_working).where(
    (_days.c.ward_id == bindparam("calendar_ward")) | _days.c.ward_id.is_(None))
_POLICIES = select(_policies.c.category, _policies.c.response_minutes,
                   _policies.c.resolution_minutes, _policies.c.at_risk_ratio,
                   _policies.c.escalate_on_breach).where(
    _policies.c.priority == bindparam("policy_priority"),
    (_policies.c.category == bindparam("policy_category")) | _policies.c.category.is_(None))
_POLICY_COLUMNS = (_policies.c.priority, _policies.c.category, _policies.c.response_minutes,
                   _policies.c.resolution_minutes, _policies.c.at_risk_ratio,
                   _policies.c.escalate_on_breach)
_DAYS_AND_POLICIES = union_all(
    select(literal_column("'d'").label("what"), _days.c.ward_id, _days.c.day,
           _days.c.is_working, *(cast(null(), c.type).label(c.name) for c in _POLICY_COLUMNS))
    .where((_days.c.ward_id == bindparam("calendar_ward")) | _days.c.ward_id.is_(None)),
    select(literal_column("'p'"), cast(null(), _days.c.ward_id.type), cast(null(), _days.c.day.type),
           cast(null(), _days.c.is_working.type), *_POLICY_COLUMNS))
_POLICIES_KEY = ("sla_policies",)


def policy_for(session: Session, priority: int, category: str) -> tuple[int, int, float, bool]:
    """(response minutes, resolution minutes, at-risk ratio, escalate on breach).

    The category's own policy wins over the policy for any category (``category`` NULL);
    without either, :data:`DEFAULT_TARGETS` with :data:`DEFAULT_AT_RISK_RATIO` and no
    escalation.
    """
    kept = readahead.peek(session, _POLICIES_KEY)  # every policy, read with a calendar
    if kept is not None:
        rows = [p for p in kept if p.priority == priority
                and (p.category == category or p.category is None)]
    else:
        rows = session.connection().execute(_POLICIES, {"policy_priority": priority,
                                                        "policy_category": category}).all()
    rows.sort(key=lambda p: p.category is None)  # the category's own policy first
    if rows:
        p = rows[0]
        ratio = p.at_risk_ratio if p.at_risk_ratio is not None else DEFAULT_AT_RISK_RATIO
        return p.response_minutes, p.resolution_minutes, ratio, bool(p.escalate_on_breach)
    response, resolution = DEFAULT_TARGETS[priority]
    return response, resolution, DEFAULT_AT_RISK_RATIO, False


def set_targets(session: Session, ticket: Ticket, start: dt.datetime, *,
                calendar: WorkingCalendar | None = None) -> None:
    """Compute and store the ticket's due and at-risk times from *start*.

    *start* is the filing time (also when re-prioritising: the targets count from
    filing). The working minutes already spent paused are added, so a priority change
    after a pause keeps the pause. Updates ``sla_next_at``.
    """
    calendar = calendar or calendar_for(session, ticket.ward)
    response, resolution, ratio, _ = policy_for(session, ticket.priority, ticket.category)
    response_pause = ticket.response_paused_minutes or 0.0
    pause_total = ticket.paused_minutes or 0.0
    ticket.response_due_at = calendar.add(start, response + response_pause)
    ticket.response_at_risk_at = calendar.add(start, ratio * response + response_pause)
    ticket.resolution_due_at = calendar.add(start, resolution + pause_total)
    ticket.resolution_at_risk_at = calendar.add(start, ratio * resolution + pause_total)
    refresh_next(ticket)


def rearm(ticket: Ticket, now: dt.datetime) -> None:
    """After the targets changed, forget warnings and breaches whose moment is now ahead.

    A priority lowered from P1 to P3 gives the ticket time again: its warnings may be
    given again when the new moments come (the sweep stays idempotent because flags only
    reset here, on a real change of targets).
    """
    if ticket.response_at_risk_at is not None and ticket.response_at_risk_at > now:
        ticket.response_at_risk = False
    if ticket.response_due_at is not None and ticket.response_due_at > now:
        ticket.response_breached = False
    if ticket.resolution_at_risk_at is not None and ticket.resolution_at_risk_at > now:
        ticket.at_risk = False
    if ticket.resolution_due_at is not None and ticket.resolution_due_at > now:
        ticket.resolution_breached = False
    refresh_next(ticket)


def pending_moments(ticket: Ticket) -> dict[tuple[str, str], dt.datetime]:
    """What the sweep still has to say about *ticket*: {(event kind, target): moment}.

    Empty while the clock stands still or the ticket is not open.
    """
    if ticket.status not in Status.OPEN or ticket.paused_at is not None:
        return {}
    moments: dict[tuple[str, str], dt.datetime] = {}
    if ticket.responded_at is None and not ticket.response_breached:
        if ticket.response_due_at is not None:
            moments[(BREACH_EVENT, RESPONSE)] = ticket.response_due_at
        if not ticket.response_at_risk and ticket.response_at_risk_at is not None:
            moments[(AT_RISK_EVENT, RESPONSE)] = ticket.response_at_risk_at
    if not ticket.resolution_breached:
        if ticket.resolution_due_at is not None:
            moments[(BREACH_EVENT, RESOLUTION)] = ticket.resolution_due_at
        if not ticket.at_risk and ticket.resolution_at_risk_at is not None:
            moments[(AT_RISK_EVENT, RESOLUTION)] = ticket.resolution_at_risk_at
    return moments


def refresh_next(ticket: Ticket) -> None:
    """Store in ``sla_next_at`` the earliest pending moment (None when nothing is pending)."""
    moments = pending_moments(ticket).values()
    ticket.sla_next_at = min(moments) if moments else None


def pause(ticket: Ticket, now: dt.datetime) -> None:
    """Stop the clock (the ticket waits on the reporter or a vendor, or is resolved)."""
    if ticket.paused_at is None:
        ticket.paused_at = now
    ticket.sla_next_at = None


def shift(calendar: WorkingCalendar, ticket: Ticket, minutes: float) -> None:
    """Move the ticket's pending moments on by *minutes* of working time.

    The response moments move only while nobody has responded (after that they are
    history). Pure: no database access, so it can be checked on its own.
    """
    if minutes <= 0:
        return
    if ticket.responded_at is None:
        if ticket.response_due_at is not None:
            ticket.response_due_at = calendar.add(ticket.response_due_at, minutes)
        if ticket.response_at_risk_at is not None:
            ticket.response_at_risk_at = calendar.add(ticket.response_at_risk_at, minutes)
        ticket.response_paused_minutes = (ticket.response_paused_minutes or 0.0) + minutes
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at = calendar.add(ticket.resolution_due_at, minutes)
    if ticket.resolution_at_risk_at is not None:
        ticket.resolution_at_risk_at = calendar.add(ticket.resolution_at_risk_at, minutes)
    ticket.paused_minutes = (ticket.paused_minutes or 0.0) + minutes


def resume_on(calendar: WorkingCalendar, ticket: Ticket, now: dt.datetime) -> float:
    """Restart the clock on *calendar*; return the working minutes spent paused."""
    if ticket.paused_at is None:
        return 0.0
    paused = calendar.minutes_between(ticket.paused_at, now)
    shift(calendar, ticket, paused)
    ticket.paused_at = None
    refresh_next(ticket)
    return paused


def resume(session: Session, ticket: Ticket, now: dt.datetime, *,
           calendar: WorkingCalendar | None = None) -> None:
    """Restart the clock: due times move by the working time spent paused."""
    if ticket.paused_at is None:
        return
    resume_on(calendar or calendar_for(session, ticket.ward), ticket, now)


def mark_responded(session: Session, registry: "PluginRegistry | None", ticket: Ticket,
                   now: dt.datetime) -> None:
    """Note the helpdesk's first response; a late one is recorded as a response breach.

    The sweep normally reports a breach within a minute; this catches a response that
    comes after the due time but before the sweep ran (or while the scheduler was down),
    so ``response_breached`` always tells the truth.
    """
    if ticket.responded_at is not None:
        return
    ticket.responded_at = now
    # While the clock stands still, the time that counts is when it stopped.
    moment = ticket.paused_at or now
    if (ticket.response_due_at is not None and moment > ticket.response_due_at
            and not ticket.response_breached):
        ticket.response_breached = True
        ticket.response_at_risk = True
        _record(session, registry, ticket, BREACH_EVENT, RESPONSE, ticket.response_due_at, now,
                late=True)
    refresh_next(ticket)


def mark_resolved(session: Session, registry: "PluginRegistry | None", ticket: Ticket,
                  now: dt.datetime) -> None:
    """A resolution after the due time that the sweep had not reported yet is a breach."""
    moment = ticket.paused_at or now  # see mark_responded
    if (ticket.resolution_due_at is not None and moment > ticket.resolution_due_at
            and not ticket.resolution_breached):
        ticket.resolution_breached = True
        ticket.at_risk = True
        _record(session, registry, ticket, BREACH_EVENT, RESOLUTION, ticket.resolution_due_at,
                now, late=True)


def _record(session: Session, registry: "PluginRegistry | None", ticket: Ticket, kind: str,
            target: str, moment: dt.datetime, now: dt.datetime, **extra) -> TicketEvent:
    return record_event(session, registry, ticket, kind, None, now, new=target,
                        data={"target": target, "due_at": moment.isoformat(), **extra})
