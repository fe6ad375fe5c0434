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
  and :func:`sweep` reads only tickets whose moment has come, through an index.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import i18n
from ..calendar import WorkingCalendar, parse_hhmm
from ..errors import HelpdeskError
from ..models import CalendarDay, Role, SlaPolicy, Status, Ticket, TicketEvent, Ward

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
    """The working calendar of *ward*, with its own and the city's declared days."""
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


def policy_for(session: Session, priority: int, category: str) -> tuple[int, int, float, bool]:
    """(response minutes, resolution minutes, at-risk ratio, escalate on breach).

    The category's own policy wins over the policy for any category (``category`` NULL);
    without either, :data:`DEFAULT_TARGETS` with :data:`DEFAULT_AT_RISK_RATIO` and no
    escalation.
    """
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
    from .tickets import record_event  # tickets imports this module
    return record_event(session, registry, ticket, kind, None, now, new=target,
                        data={"target": target, "due_at": moment.isoformat(), **extra})


# --- the periodic sweep -------------------------------------------------------------

@dataclass
class SweepReport:
    """What one :func:`sweep` did. Counts are of events written (and escalations made)."""

    checked: int = 0
    response_at_risk: int = 0
    resolution_at_risk: int = 0
    response_breached: int = 0
    resolution_breached: int = 0
    escalated: int = 0
    failed: int = 0
    more: bool = False  # the batch was full: more tickets wait for the next run

    @property
    def warnings(self) -> int:
        """At-risk warnings given (response and resolution)."""
        return self.response_at_risk + self.resolution_at_risk

    @property
    def breaches(self) -> int:
        """Breaches reported (response and resolution)."""
        return self.response_breached + self.resolution_breached


SWEEP_BATCH = 500


def due_for_sweep(now: dt.datetime, limit: int = SWEEP_BATCH):
    """The bounded query of :func:`sweep`: tickets whose next SLA moment has come.

    One range on the ``ix_ticket_sla_next`` index. ``sla_next_at`` is NULL for tickets
    that are not open or are paused; should a row still carry a stale moment, the sweep
    finds nothing pending on it and clears the column. Rows another transaction holds
    (a student claiming right now) are skipped on PostgreSQL and handled next run.
    """
    return (select(Ticket)
            .where(Ticket.sla_next_at <= now)
            .order_by(Ticket.sla_next_at, Ticket.id)
            .limit(limit)
            .with_for_update(skip_locked=True))


def sweep(session: Session, registry: "PluginRegistry | None", now: dt.datetime, *,
          limit: int = SWEEP_BATCH) -> SweepReport:
    """Give the at-risk warnings and breaches whose moment has come; escalate if asked.

    For each ticket of :func:`due_for_sweep` (at most *limit*):

    * a target whose due time has passed gets one ``sla_breached`` event (``data``:
      ``{"target": "response" | "resolution", "due_at": ISO time}``) and its flag
      (``response_breached`` / ``resolution_breached``); a breach makes the matching
      at-risk warning moot, so none is given afterwards;
    * a target whose at-risk moment has passed gets one ``sla_at_risk`` event (same
      ``data``) and its flag (``response_at_risk`` / ``at_risk``);
    * on a breach, if the ticket's policy says ``escalate_on_breach`` and the ticket is
      not yet with the vendor, the system escalates it (action ``escalate``, reason
      recorded).

    Idempotent: the flags and ``sla_next_at`` make a second run at the same *now* find
    nothing. Paused tickets are not read at all. Does not commit: the caller calls
    :func:`helpdesk_core.services.tickets.commit`, after which plugins hear the events.
    """
    from . import tickets, workflow  # tickets imports this module

    report = SweepReport()
    rows = list(session.scalars(due_for_sweep(now, limit)))
    report.more = len(rows) >= limit
    policies: dict[tuple[int, str], tuple[int, int, float, bool]] = {}
    for ticket in rows:
        report.checked += 1
        key = (ticket.priority, ticket.category)
        if key not in policies:
            policies[key] = policy_for(session, ticket.priority, ticket.category)
        escalate_on_breach = policies[key][3]
        part = SweepReport()  # counted only if this ticket's savepoint holds
        try:
            with tickets.savepoint(session):
                breached = _sweep_one(session, registry, ticket, now, part)
                if (breached and escalate_on_breach
                        and ticket.escalation_level < workflow.MAX_LEVEL
                        and workflow.is_allowed("escalate", Role.SYSTEM, ticket.status)):
                    reason = i18n.gettext(
                        "The SLA target was missed: escalated automatically.")
                    tickets.perform(session, registry, ticket, None, "escalate", now,
                                    reason=reason, data={"sla": True})
                    part.escalated += 1
        except HelpdeskError:
            # Undone with the savepoint; the ticket keeps its moment and is retried.
            log.exception("SLA sweep failed on ticket %s", ticket.id)
            report.failed += 1
            continue
        report.response_at_risk += part.response_at_risk
        report.resolution_at_risk += part.resolution_at_risk
        report.response_breached += part.response_breached
        report.resolution_breached += part.resolution_breached
        report.escalated += part.escalated
    session.flush()
    return report


def _sweep_one(session: Session, registry: "PluginRegistry | None", ticket: Ticket,
               now: dt.datetime, report: SweepReport) -> bool:
    """Write the events due for one ticket; True if a target was breached now."""
    breached = False
    for (kind, target), moment in sorted(pending_moments(ticket).items(),
                                         key=lambda item: item[1]):
        if moment > now:
            continue
        if kind == AT_RISK_EVENT:
            # A breach in the same run supersedes the warning.
            if target == RESPONSE and ticket.response_due_at is not None \
                    and ticket.response_due_at <= now:
                ticket.response_at_risk = True
                continue
            if target == RESOLUTION and ticket.resolution_due_at is not None \
                    and ticket.resolution_due_at <= now:
                ticket.at_risk = True
                continue
        _record(session, registry, ticket, kind, target, moment, now)
        if (kind, target) == (AT_RISK_EVENT, RESPONSE):
            ticket.response_at_risk = True
            report.response_at_risk += 1
        elif (kind, target) == (AT_RISK_EVENT, RESOLUTION):
            ticket.at_risk = True
            report.resolution_at_risk += 1
        elif target == RESPONSE:
            ticket.response_breached = ticket.response_at_risk = True
            report.response_breached += 1
            breached = True
        else:
            ticket.resolution_breached = ticket.at_risk = True
            report.resolution_breached += 1
            breached = True
    refresh_next(ticket)
    return breached
