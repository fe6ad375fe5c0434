"""The SLA sweep: give the at-risk warnings and breaches whose moment has come; escalate.

Above :mod:`.sla` (the clock) and :mod:`.tickets` (the escalation is an ordinary action),
so neither of them needs to import the other.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import HelpdeskError
from ..models import Role, Ticket
from . import tickets, workflow
from .sla import (AT_RISK_EVENT, RESOLUTION, RESPONSE, _record, pending_moments, policy_for,
                  refresh_next)

if TYPE_CHECKING:
    from ..plugins import PluginRegistry

log = logging.getLogger(__name__)


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
