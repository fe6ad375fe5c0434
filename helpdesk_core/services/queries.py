"""Read-side queries: queues and lists, scoped to what the user may see, bounded in size."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from sqlalchemy import ColumnElement, Row, Select, String, bindparam, case, select
from sqlalchemy.orm import Session, joinedload

from ..models import (Asset, AssetCheck, CheckRecord, Role, Status, StudentAssignment, Ticket,
                      TicketEvent, User, Ward)
from ..text import search_terms
from . import scope, workflow

PAGE_SIZE = 50


@dataclass(frozen=True)
class TicketFilter:
    """What a list shows. ``status`` may be a status or ``"open"``."""

    status: str | None = "open"
    ward_id: int | None = None
    category: str | None = None
    search: str = ""
    assignee_id: int | None = None
    # Only these wards, on top of the user's scope (an integration's token: api_tokens).
    ward_ids: frozenset[int] | None = None
    updated_since: dt.datetime | None = None


def ticket_query(session: Session, user: User | None, today: dt.date,
                 filters: TicketFilter) -> Select:
    """The tickets *user* may see that match *filters* (unordered)."""
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
    if filters.ward_ids is not None:
        query = query.where(Ticket.ward_id.in_(filters.ward_ids or [-1]))
    if filters.updated_since is not None:
        query = query.where(Ticket.updated_at >= filters.updated_since)
    for term in search_terms(filters.search)[:8]:
        query = query.where(Ticket.search_text.contains(term, autoescape=True))
    return query


# Most urgent first: priority, then a citizen waiting at the counter, then soonest due.
# ix_ticket_open_queue holds the first three, so a ward's queue is read in this order.
QUEUE_ORDER = (Ticket.priority.asc(), Ticket.citizen_waiting.desc(),
               Ticket.resolution_due_at.asc().nulls_last(), Ticket.id.desc())


def list_tickets(session: Session, user: User | None, today: dt.date, filters: TicketFilter,
                 page: int = 1, page_size: int = PAGE_SIZE) -> tuple[list[Ticket], bool]:
    """One page of tickets (and whether there is a next page), most urgent first
    (:data:`QUEUE_ORDER`), with their ward and assignee."""
    query = (ticket_query(session, user, today, filters)
             .options(joinedload(Ticket.ward), joinedload(Ticket.assignee))
             .order_by(*QUEUE_ORDER)
             .limit(page_size + 1).offset((max(page, 1) - 1) * page_size))
    rows = list(session.scalars(query).unique())
    return rows[:page_size], len(rows) > page_size


class QueueRow(NamedTuple):
    """A ticket as a row of the students' queue shows it: plain values, no ORM entity."""

    id: int
    number: str
    category: str
    title: str
    citizen_waiting: bool
    priority: int
    status: str
    resolution_due_at: dt.datetime | None
    ward_name: str
    assignee_name: str | None
    sla: str  # sla_state: "breached", "at_risk" or ""
    claimable: bool  # the user may claim it now


# What a queue row reads: QueueRow's own columns, then what sla_state and claiming read.
_QUEUE_COLUMNS = (Ticket.id, Ticket.number, Ticket.category, Ticket.title,
                  Ticket.citizen_waiting, Ticket.priority, Ticket.status,
                  Ticket.resolution_due_at, Ward.name.label("ward_name"),
                  User.name.label("assignee_name"),
                  Ticket.response_breached, Ticket.resolution_breached, Ticket.at_risk,
                  Ticket.assignee_id)


def queue_rows(session: Session, user: User, today: dt.date, filters: TicketFilter,
               now: dt.datetime, page_size: int = PAGE_SIZE) -> tuple[list[QueueRow], bool]:
    """The first page of the queue (and whether there is more), most urgent first
    (:data:`QUEUE_ORDER`), in one query: the tickets of :func:`ticket_query` (of its
    filters, the queue's: status, ward, category, search).

    Rows, not entities, and a statement built once per shape of filters: the queue is
    the students' busiest page (issue 18), and loading ORM objects, building and keying
    the statement cost more than running it.
    """
    if filters.assignee_id or filters.ward_ids is not None or filters.updated_since:
        raise ValueError("the queue filters by status, ward, category and search only")
    wards = scope.ward_ids_for(session, user, today)
    terms = search_terms(filters.search)[:SEARCH_TERMS_MAX]
    status = filters.status if filters.status in (None, "open") else "one"
    params: dict[str, object] = {"status": filters.status, "ward_id": filters.ward_id,
                                 "category": filters.category, "limit": page_size + 1}
    params.update((f"term{i}", _escape_like(term)) for i, term in enumerate(terms))
    if wards is not None:
        params["wards"] = sorted(wards) or [-1]
    statement = _queue_statement(wards is not None, status, bool(filters.ward_id),
                                 bool(filters.category), len(terms))
    # May the user claim a ticket of this status: asked once per status, not per row.
    claims = {status: workflow.is_allowed("claim", user.role, status) for status in Status.ALL}
    rows = [QueueRow(id_, number, category, title, waiting, priority, status, due, ward, assignee,
                     _sla_state(status, response_breached, resolution_breached, due, at_risk,
                                now),
                     claims.get(status, False) and assignee_id is None)
            for (id_, number, category, title, waiting, priority, status, due, ward, assignee,
                 response_breached, resolution_breached, at_risk, assignee_id)
            in session.connection().execute(statement, params)]
    return rows[:page_size], len(rows) > page_size


@functools.lru_cache(maxsize=64)
def _queue_statement(scoped: bool, status: str | None, by_ward: bool, by_category: bool,
                     n_terms: int) -> Select:
    """The statement of :func:`queue_rows` for one shape of filters (what
    :func:`ticket_query` builds, with its values as parameters): ``wards`` if *scoped*,
    ``status`` if *status* is ``"one"``, ``ward_id``, ``category``, ``term0``..
    (escaped), ``limit``."""
    query = (select(*_QUEUE_COLUMNS)
             .select_from(Ticket)
             .outerjoin(Ward, Ward.id == Ticket.ward_id)
             .outerjoin(User, User.id == Ticket.assignee_id))
    if scoped:
        query = query.where(Ticket.ward_id.in_(bindparam("wards", expanding=True)))
    if status == "open":
        # Written out, not bound: SQLite then sees the partial index ix_ticket_open_queue's
        # own WHERE and reads the queue in order from it, instead of sorting a ward's
        # whole backlog (half the query's time on a ward of 1,000 tickets).
        query = query.where(Ticket.status.in_(
            bindparam("open_statuses", list(Status.OPEN), expanding=True, literal_execute=True)))
    elif status is not None:
        query = query.where(Ticket.status == bindparam("status"))
    if by_ward:
        query = query.where(Ticket.ward_id == bindparam("ward_id"))
    if by_category:
        query = query.where(Ticket.category == bindparam("category"))
    query = query.where(*(Ticket.search_text.contains(bindparam(f"term{i}", type_=String()),
                                                      escape="/") for i in range(n_terms)))
    return query.order_by(*QUEUE_ORDER).limit(bindparam("limit"))


def list_tickets_after(session: Session, user: User | None, today: dt.date,
                       filters: TicketFilter, after_id: int | None = None,
                       page_size: int = PAGE_SIZE) -> tuple[list[Ticket], bool]:
    """Newest first, the tickets before ticket *after_id* (and whether there are more).

    Keyset pagination on the primary key for the API's cursors: a page costs the same
    however deep it is, and tickets filed meanwhile do not shift the pages.
    """
    query = ticket_query(session, user, today, filters)
    if after_id is not None:
        query = query.where(Ticket.id < after_id)
    query = (query.options(joinedload(Ticket.ward), joinedload(Ticket.assignee))
             .order_by(Ticket.id.desc()).limit(page_size + 1))
    rows = list(session.scalars(query).unique())
    return rows[:page_size], len(rows) > page_size


def wards_in_scope(session: Session, user: User | None, today: dt.date) -> list[Ward]:
    """The active wards *user* works for today, by name (for filters and selects)."""
    if user is not None and user.role == Role.STUDENT:
        return [ward for ward in scope.assigned_wards(session, user, today) if ward.active]
    query = select(Ward).where(Ward.active.is_(True)).order_by(Ward.name)
    wards = scope.ward_ids_for(session, user, today)
    if wards is not None:
        query = query.where(Ward.id.in_(wards or [-1]))
    return list(session.scalars(query))


class AssetChoice(NamedTuple):
    """A device as the front desk's picker names it."""

    id: int
    name: str
    location: str


def ward_assets(session: Session, ward_id: int, category: str) -> list[AssetChoice]:
    """The ward's active assets of *category*, by name (the front desk's device picker).

    Their names only: every filing reads the list to check the choice, and whole assets
    cost twice as much to load (the one chosen is loaded on its own).
    """
    rows = session.execute(
        select(Asset.id, Asset.name, Asset.location)
        .where(Asset.ward_id == ward_id, Asset.category == category, Asset.active.is_(True))
        .order_by(Asset.name, Asset.id))
    return [AssetChoice(*row) for row in rows]


def ward_students(session: Session, ward_id: int, today: dt.date) -> list[User]:
    """Active students assigned to the ward on *today*, by name (who a ticket can go to)."""
    return list(session.scalars(
        select(User).join(StudentAssignment, StudentAssignment.student_id == User.id)
        .where(StudentAssignment.ward_id == ward_id, StudentAssignment.starts_on <= today,
               StudentAssignment.ends_on >= today, User.active.is_(True),
               User.role == Role.STUDENT)
        .order_by(User.name, User.id).distinct()))


def recent_check_records(session: Session, asset: Asset, limit: int = 10) -> list[CheckRecord]:
    """The asset's latest health-check results (all its checks), newest first."""
    return list(session.scalars(
        select(CheckRecord).join(AssetCheck, AssetCheck.id == CheckRecord.check_id)
        .where(AssetCheck.asset_id == asset.id)
        .order_by(CheckRecord.checked_at.desc(), CheckRecord.id.desc()).limit(limit)))


def ticket_events(session: Session, user: User | None, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's history as *user* may read it: ward staff never see internal entries."""
    staff = user is not None and user.role == Role.STAFF
    return list(session.scalars(_events_statement(staff), {"ticket_id": ticket.id}))


@functools.lru_cache(maxsize=2)
def _events_statement(staff: bool) -> Select:
    """:func:`ticket_events`' statement, built once (every showing of a ticket reads it)."""
    query = (select(TicketEvent).where(TicketEvent.ticket_id == bindparam("ticket_id"))
             .options(joinedload(TicketEvent.actor)).order_by(TicketEvent.id))
    if staff:
        query = query.where(TicketEvent.internal.is_(False))
    return query


def ticket_history(session: Session, user: User | None, ticket: Ticket) -> list[Row]:
    """:func:`ticket_events` as rows for a page that only shows them: every column of
    ``ticket_event`` and the author's ``actor_name`` (no objects to load)."""
    staff = user is not None and user.role == Role.STAFF
    return list(session.execute(_history_statement(staff), {"ticket_id": ticket.id}))


@functools.lru_cache(maxsize=2)
def _history_statement(staff: bool) -> Select:
    """:func:`ticket_history`'s statement, built once."""
    events, people = TicketEvent.__table__, User.__table__
    query = (select(events, people.c.name.label("actor_name"))
             .outerjoin(people, people.c.id == events.c.actor_id)
             .where(events.c.ticket_id == bindparam("ticket_id")).order_by(events.c.id))
    if staff:
        query = query.where(events.c.internal.is_(False))
    return query


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, User]:
    """Users by id in one query (names for history entries that store an id)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


# Recent resolutions of the category scored for "similar tickets" on a ticket's page:
# months of a ward's work, and each one scored is a row read (500 took ~9 ms at 1M).
SIMILAR_WINDOW = 200
SEARCH_TERMS_MAX = 8


def similar_resolved(session: Session, user: User | None, ticket: Ticket, today: dt.date,
                     limit: int = 5, query: str = "") -> list[Row]:
    """Resolved or closed tickets like *ticket* that *user* may see, best match first:
    rows of their ``id``, ``number`` and ``title`` (what a page lists; no objects to load).

    Matching ignores diacritics (``search_text`` is folded): "may in" finds "máy in".
    Without *query*, tickets of the same category rank by how many words of the
    ticket's title they share, then by most recent resolution. With *query*, every
    word of it must match, in any category.
    """
    wards = scope.ward_ids_for(session, user, today)
    terms = search_terms(query)[:SEARCH_TERMS_MAX]
    searching = bool(terms)
    if not searching:
        terms = [w for w in dict.fromkeys(search_terms(ticket.title))
                 if len(w) > 1][:SEARCH_TERMS_MAX]
    params: dict[str, object] = {"ticket_id": ticket.id, "category": ticket.category}
    params.update((f"term{i}", _escape_like(term)) for i, term in enumerate(terms))
    if wards is not None:
        params["wards"] = sorted(wards) or [-1]
    statement = _similar_statement(wards is not None, searching, len(terms), limit)
    return list(session.execute(statement, params))


def _escape_like(term: str) -> str:
    """*term* for ``LIKE ... ESCAPE '/'``: what ``contains(autoescape=True)`` does."""
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")


@functools.lru_cache(maxsize=64)
def _similar_statement(scoped: bool, searching: bool, n_terms: int, limit: int) -> Select:
    """The statement of :func:`similar_resolved`, built once per shape: a page pays only
    the binding of its values (building and keying it cost more than running it).

    Parameters: ``ticket_id``, ``category``, ``term0``.. (escaped) and, if *scoped*,
    ``wards``. Core columns, not the mapped class: the rows need no ORM (it cost a tenth
    of a millisecond per page).
    """
    tickets = Ticket.__table__
    c = tickets.c
    base = select(tickets).where(c.id != bindparam("ticket_id"),
                                 c.status.in_((Status.RESOLVED, Status.CLOSED)))
    if scoped:
        base = base.where(c.ward_id.in_(bindparam("wards", expanding=True)))
    if searching:
        ordered = (base.where(*_matches(c.search_text, n_terms))
                   .order_by(c.resolved_at.desc().nulls_last(), c.id.desc()))
        # A page lists their number and title only.
        return ordered.with_only_columns(c.id, c.number, c.title).limit(limit)
    # Bounded: only the latest SIMILAR_WINDOW resolutions of the category in scope are
    # scored, one range of the similar index; on SQLite that index holds every column
    # named here, so the tickets' rows are not read (models.Ticket).
    recent = (base.with_only_columns(c.id, c.number, c.title, c.search_text, c.resolved_at)
              .where(c.category == bindparam("category"), c.resolved_at.is_not(None))
              .order_by(c.resolved_at.desc(), c.id.desc()).limit(SIMILAR_WINDOW)
              .subquery("recent"))
    r = recent.c
    ordering = [r.resolved_at.desc(), r.id.desc()]
    scores = [case((match, 1), else_=0) for match in _matches(r.search_text, n_terms)]
    if scores:
        ordering.insert(0, functools.reduce(operator.add, scores).desc())
    return select(r.id, r.number, r.title).order_by(*ordering).limit(limit)


def _matches(search_text: ColumnElement[str], n_terms: int) -> list[ColumnElement[bool]]:
    """``search_text`` contains each of the bound ``term0``.. (escaped with ``/``)."""
    return [search_text.contains(bindparam(f"term{i}", type_=String()), escape="/")
            for i in range(n_terms)]


def sla_state(ticket: Ticket, now: dt.datetime) -> str:
    """``"breached"``, ``"at_risk"`` or ``""``: how a list should mark the ticket."""
    return _sla_state(ticket.status, ticket.response_breached, ticket.resolution_breached,
                      ticket.resolution_due_at, ticket.at_risk, now)


def _sla_state(status: str, response_breached: bool, resolution_breached: bool,
               resolution_due_at: dt.datetime | None, at_risk: bool, now: dt.datetime) -> str:
    if status not in Status.OPEN:
        return ""
    if response_breached or resolution_breached:
        return "breached"
    if status not in Status.PAUSED and resolution_due_at is not None \
            and resolution_due_at <= now:
        return "breached"
    if at_risk:
        return "at_risk"
    return ""
