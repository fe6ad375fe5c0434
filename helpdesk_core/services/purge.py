"""Citizens' personal data erased from done tickets after a retention period.

What a ticket holds about citizens is the free text people typed (already masked when
stored: see :mod:`helpdesk_core.privacy`) and the attached photos of their papers. Some
days after a ticket is closed or cancelled (``PERSONAL_DATA_PURGE_DAYS``, per category,
off by default) the scheduler erases:

- the description, the free-text triage answers and the priority override's reason;
- comments and the reasons given for waiting, escalating, reopening and cancelling;
- the messages of health-check entries;
- attachments: their files and their rows.

The helpdesk keeps what it needs to work and to report: number, ward, category, title
(masked), choice answers of the triage, statuses, times, SLA figures, who worked on it,
and the resolution note (how the device was fixed, which "similar tickets" shows). The
purge itself is one ``purged`` history entry with what was erased, and an access record.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from wtforms import StringField

from ..models import AccessKind, Attachment, Status, Ticket, TicketEvent
from ..plugins import PluginRegistry
from . import access_log, attachments, tickets

log = logging.getLogger(__name__)

PURGE_BATCH = 200
DEFAULT_KEY = "*"
# Event entries whose body is the resolution note: kept (it says how the device was fixed).
_KEPT_BODIES = {("status", Status.RESOLVED)}


@dataclass(frozen=True)
class PurgePolicy:
    """Days after closing before a ticket's citizen data goes, per category.

    ``default`` applies to categories not listed; None (and an empty policy) means never.
    """

    per_category: dict[str, int] = field(default_factory=dict)
    default: int | None = None

    @property
    def enabled(self) -> bool:
        return self.default is not None or bool(self.per_category)

    def days_for(self, category: str) -> int | None:
        return self.per_category.get(category, self.default)


def parse_policy(spec: str | int | None) -> PurgePolicy:
    """Read ``"printer=90,signing=30,*=365"`` (or ``"365"``: every category).

    A bare number or ``*=N`` (also ``default=N``) is the default. Empty: off.

    :raises ValueError: on anything else, naming the bad part.
    """
    if spec is None or str(spec).strip() == "":
        return PurgePolicy()
    per_category: dict[str, int] = {}
    default = None
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            key, value = DEFAULT_KEY, key
        key, value = key.strip(), value.strip()
        if not value.isdigit() or int(value) < 1 or not key:
            raise ValueError(f"PERSONAL_DATA_PURGE_DAYS: {part!r} is not CATEGORY=DAYS "
                             "with DAYS a whole number of at least 1")
        if key in (DEFAULT_KEY, "default"):
            default = int(value)
        else:
            per_category[key] = int(value)
    return PurgePolicy(per_category, default)


@dataclass
class PurgeResult:
    """What one run erased."""

    tickets: int = 0
    texts: int = 0
    attachments: int = 0

    @property
    def items(self) -> int:
        return self.texts + self.attachments


def _done_at():
    # Closing sets closed_at; a cancelled ticket's last change is its cancellation.
    return func.coalesce(Ticket.closed_at, Ticket.updated_at)


def due_tickets(session: Session, policy: PurgePolicy, now: dt.datetime,
                limit: int = PURGE_BATCH) -> list[Ticket]:
    """Done tickets, not purged yet, closed longer ago than their category's days."""
    if not policy.enabled:
        return []
    conditions = [(Ticket.category == category) & (_done_at() <= now - dt.timedelta(days=days))
                  for category, days in policy.per_category.items()]
    if policy.default is not None:
        conditions.append(Ticket.category.not_in(list(policy.per_category) or [""])
                          & (_done_at() <= now - dt.timedelta(days=policy.default)))
    return list(session.scalars(
        select(Ticket).where(Ticket.status.in_((Status.CLOSED, Status.CANCELLED)),
                             Ticket.personal_data_purged_at.is_(None), or_(*conditions))
        .order_by(Ticket.id).limit(limit)))


def _free_text_fields(registry: PluginRegistry | None, category: str,
                      triage: dict[str, Any]) -> list[str]:
    """The triage answers people typed (text boxes); without the form, every string."""
    form_class = registry.triage_form(category) if registry is not None else None
    if form_class is None:
        return [name for name, value in triage.items() if isinstance(value, str)]
    form = form_class(meta={"csrf": False})
    return [f.name for f in form if isinstance(f, StringField) and f.name in triage]


def _erase_texts(session: Session, registry: PluginRegistry | None, ticket: Ticket) -> int:
    erased = 0
    if ticket.description:
        ticket.description = ""
        erased += 1
    if ticket.priority_reason:
        ticket.priority_reason = ""
        erased += 1
    triage = dict(ticket.triage or {})
    for name in _free_text_fields(registry, ticket.category, triage):
        if triage.get(name):
            triage[name] = ""
            erased += 1
    ticket.triage = triage
    for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)):
        if (event.kind, event.new_value) in _KEPT_BODIES:
            continue
        if event.body:
            event.body = ""
            erased += 1
        if isinstance(event.data, dict) and event.data.get("message"):
            event.data = {**event.data, "message": ""}
    ticket.search_text = tickets.search_text_of(ticket)
    return erased


def _erase_attachments(session: Session, ticket: Ticket, folder: str | None) -> int:
    items = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
    for item in items:
        if folder:
            attachments.discard(folder, item)
        session.delete(item)
    return len(items)


def purge_ticket(session: Session, registry: PluginRegistry | None, ticket: Ticket,
                 now: dt.datetime, folder: str | None) -> tuple[int, int]:
    """Erase one ticket's citizen data and record it. Returns (texts, attachments)."""
    texts = _erase_texts(session, registry, ticket)
    files = _erase_attachments(session, ticket, folder)
    ticket.personal_data_purged_at = now
    data = {"texts": texts, "attachments": files}
    tickets.record_event(session, registry, ticket, "purged", None, now, data=data)
    access_log.record_access(session, None, AccessKind.PURGE, now, ticket=ticket,
                             target=ticket.number, details=data)
    return texts, files


def purge_personal_data(session: Session, registry: PluginRegistry | None, now: dt.datetime,
                        policy: PurgePolicy, folder: str | None = None,
                        batch_size: int = PURGE_BATCH) -> PurgeResult:
    """Erase the citizen data of every due ticket, a batch per transaction.

    Files are removed before their batch commits: a crash in between leaves rows whose
    file is gone (the page says "not found"), never a file nobody can reach or erase.
    """
    result = PurgeResult()
    while True:
        batch = due_tickets(session, policy, now, batch_size)
        if not batch:
            break
        for ticket in batch:
            texts, files = purge_ticket(session, registry, ticket, now, folder)
            result.tickets += 1
            result.texts += texts
            result.attachments += files
        tickets.commit(session)
        if len(batch) < batch_size:
            break
    if result.tickets:
        log.info("personal data purge: %d tickets, %d texts and %d attachments erased",
                 result.tickets, result.texts, result.attachments)
    return result

