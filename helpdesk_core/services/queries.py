"""Read-side queries: queues and lists, scoped to what the user may see, bounded in size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from ..models import Status, Ticket, User
from ..text import search_terms
from . import scope

PAGE_SIZE = 50


@dataclass(frozen=True)
class TicketFilter:
    """What a list shows. ``status`` may be a status or ``"open"``."""

    status: str | None = "open"
    ward_id: int | None = None
    category: str | None = None
    search: str = ""
    assignee_id: int | None = None


def ticket_query(session: Session, user: User | None, today: dt.date,
                 filters: TicketFilter) -> Select:
    """The tickets *user* may see that match *filters*, most urgent due time first."""
    query = select(Ticket)
    wards = scope.ward_ids_for(session, user, today)
    if wards is not None:
        query = query.where(Ticket.ward_id.in_(wards or [-1]))
    if filters.status == "open":
        query = query.where(Ticket.status.in_(Status.OPEN))
    elif filters.status:
        query = query.where(Ticket.status == filters.status)
    if filters.ward_id:
        query = query.where(Ticket.ward_id == filters.ward_id)
    if filters.category:
        query = query.where(Ticket.category == filters.category)
    if filters.assignee_id:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    for term in search_terms(filters.search)[:8]:
        query = query.where(Ticket.search_text.contains(term, autoescape=True))
    return query


def list_tickets(session: Session, user: User | None, today: dt.date, filters: TicketFilter,
                 page: int = 1, page_size: int = PAGE_SIZE) -> tuple[list[Ticket], bool]:
    """One page of tickets (and whether there is a next page), due soonest first."""
    query = (ticket_query(session, user, today, filters)
             .options(joinedload(Ticket.ward), joinedload(Ticket.assignee))
             .order_by(Ticket.resolution_due_at.asc().nulls_last(), Ticket.id.desc())
             .limit(page_size + 1).offset((max(page, 1) - 1) * page_size))
    rows = list(session.scalars(query).unique())
    return rows[:page_size], len(rows) > page_size
