"""Who viewed personal data: one :class:`AccessRecord` per ticket page, attachment or export
opened, read back by administrators and coordinators, and pruned after a retention period.

Vietnam's Law 91/2025 on personal data protection asks the centre to account for access
to citizens' data; tickets hold what citizens told the front desk (masked, but still
about them), attachments are photos of their papers, and exports hold both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, joinedload

from ..models import AccessKind, AccessRecord, Ticket, User

PAGE_SIZE = 50
EXPORT_BATCH = 1000
TARGET_MAX = 255
ADDRESS_MAX = 45
_INSERT = insert(AccessRecord.__table__)  # built once: its cache key is kept on it


def record_access(session: Session, user: User | None, kind: str,
                  now: dt.datetime, *, address: str | None = None,
                  ticket: Ticket | None = None, ticket_id: int | None = None,
                  target: str = "", details: Mapping[str, Any] | None = None,
                  user_id: int | None = None) -> None:
    """Add one access record (the caller commits).

    A plain INSERT, sent at once: one is written per ticket page shown, and the
    session's unit of work cost more than the statement (nothing reads the record back
    in the same request).

    :param user: who opened it; None for the system (or *user_id* given instead).
    :param kind: one of :class:`~helpdesk_core.models.AccessKind`.
    :param address: the client's address as the front end sees it.
    :param target: what was opened beyond the ticket: an attachment's id and name, an
        export's name.
    :param details: anything else worth keeping, e.g. an export's filters.
    """
    if kind not in AccessKind.ALL:
        raise ValueError(f"unknown access kind {kind!r}")
    session.execute(_INSERT, {
        "user_id": user.id if user is not None else user_id, "kind": kind,
        "ticket_id": ticket.id if ticket is not None else ticket_id,
        "target": (target or "")[:TARGET_MAX], "details": dict(details or {}),
        "address": (address or "")[:ADDRESS_MAX], "at": now})


@dataclass
class AccessFilter:
    """What the access log page and its export show."""

    user_id: int | None = None
    user_login: str | None = None     # exact login, any case
    ticket_number: str | None = None  # exact number, e.g. HKH-2026-00042
    kind: str | None = None
    start: dt.datetime | None = None  # inclusive
    end: dt.datetime | None = None    # exclusive


def _query(session: Session, filters: AccessFilter):
    query = select(AccessRecord)
    if filters.user_id:
        query = query.where(AccessRecord.user_id == filters.user_id)
    if filters.user_login:
        user_id = session.scalar(select(User.id).where(
            func.lower(User.login) == filters.user_login.strip().lower()))
        query = query.where(AccessRecord.user_id == (user_id or -1))
    if filters.ticket_number:
        ticket_id = session.scalar(select(Ticket.id).where(
            func.upper(Ticket.number) == filters.ticket_number.strip().upper()))
        query = query.where(AccessRecord.ticket_id == (ticket_id or -1))
    if filters.kind in AccessKind.ALL:
        query = query.where(AccessRecord.kind == filters.kind)
    if filters.start is not None:
        query = query.where(AccessRecord.at >= filters.start)
    if filters.end is not None:
        query = query.where(AccessRecord.at < filters.end)
    return query.order_by(AccessRecord.at.desc(), AccessRecord.id.desc())


def search(session: Session, filters: AccessFilter, page: int = 1,
           per_page: int = PAGE_SIZE) -> tuple[list[AccessRecord], bool]:
    """One page of records, newest first, and whether there is a next page."""
    page = max(page, 1)
    rows = list(session.scalars(_query(session, filters)
                                .options(joinedload(AccessRecord.user))
                                .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def iter_records(session: Session, filters: AccessFilter) -> Iterator[AccessRecord]:
    """Every matching record, newest first, read in batches (for the CSV export)."""
    page = 1
    while True:
        rows, more = search(session, filters, page, EXPORT_BATCH)
        yield from rows
        if not more:
            return
        page += 1


def ticket_numbers(session: Session, records: list[AccessRecord]) -> dict[int, str]:
    """The numbers of the tickets the records name (one query)."""
    ids = {r.ticket_id for r in records if r.ticket_id}
    if not ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids)))
    return {ticket_id: number for ticket_id, number in rows}


def prune(session: Session, now: dt.datetime, keep_days: int,
          batch_size: int = 5000) -> int:
    """Delete records older than *keep_days*, in batches (each its own commit).

    :return: how many were deleted.
    """
    cutoff = now - dt.timedelta(days=max(int(keep_days), 1))
    deleted = 0
    while True:
        ids = list(session.scalars(select(AccessRecord.id).where(AccessRecord.at < cutoff)
                                   .order_by(AccessRecord.id).limit(batch_size)))
        if not ids:
            return deleted
        session.execute(delete(AccessRecord).where(AccessRecord.id.in_(ids))
                        .execution_options(synchronize_session=False))
        session.commit()
        deleted += len(ids)
