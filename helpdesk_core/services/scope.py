"""Who sees which wards and tickets. Everything outside a user's scope is 'not found'."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Sequence

from sqlalchemy import Select, bindparam, event, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Role, StudentAssignment, Ticket, User, Ward


# A page asks the same question many times (every action shown checks the ticket's
# ward): the answer is kept on the session until it writes, commits or rolls back.
_CACHE = "scope.ward_ids"


def ward_ids_for(session: Session, user: User | None, today: dt.date) -> frozenset[int] | None:
    """The wards *user* works for today; None means every ward (coordinators, admins).

    Staff: their ward. Students: wards of their assignments covering *today*.
    """
    if user is None or user.role in (Role.COORDINATOR, Role.ADMIN):
        return None
    if user.role == Role.STAFF:
        return frozenset({user.ward_id}) if user.ward_id else frozenset()
    cache = session.info.setdefault(_CACHE, {})
    key = (user.id, today)
    if key not in cache:
        cache[key] = _student_wards(session, user, today)
    return cache[key]


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *_: object) -> None:
    session.info.pop(_CACHE, None)


# Built once (its cache key is kept on it): students ask it on every page.
_STUDENT_WARDS = select(StudentAssignment.ward_id).where(
    StudentAssignment.student_id == bindparam("student_id"),
    StudentAssignment.starts_on <= bindparam("today"),
    StudentAssignment.ends_on >= bindparam("today"))
_ASSIGNED_WARDS = (select(Ward).join(StudentAssignment, StudentAssignment.ward_id == Ward.id)
                   .where(StudentAssignment.student_id == bindparam("student_id"),
                          StudentAssignment.starts_on <= bindparam("today"),
                          StudentAssignment.ends_on >= bindparam("today"))
                   .order_by(Ward.name, Ward.id))


def remember_student_wards(session: Session, user: User, today: dt.date,
                           ward_ids: frozenset[int]) -> None:
    """Keep what :func:`ward_ids_for` would read for a student on *today*, read by the
    caller in a query it makes anyway (the session's account: users.session_account)."""
    session.info.setdefault(_CACHE, {})[(user.id, today)] = ward_ids


def _student_wards(session: Session, user: User, today: dt.date) -> frozenset[int]:
    rows = session.scalars(_STUDENT_WARDS, {"student_id": user.id, "today": today}).all()
    return frozenset(rows)


def assigned_wards(session: Session, student: User, today: dt.date) -> list[Ward]:
    """The wards of *student*'s assignments covering *today* (active or not), by name.

    One query for what would take two (the assignments, then their wards): pages that
    list the wards also learn the ids :func:`ward_ids_for` answers, and remember them.
    """
    wards = list(session.scalars(_ASSIGNED_WARDS,
                                 {"student_id": student.id, "today": today}).unique())
    session.info.setdefault(_CACHE, {})[(student.id, today)] = frozenset(w.id for w in wards)
    return wards


def can_view(session: Session, user: User | None, ticket: Ticket, today: dt.date) -> bool:
    wards = ward_ids_for(session, user, today)
    return wards is None or ticket.ward_id in wards


def get_ticket(session: Session, user: User | None, ticket_id: int, today: dt.date,
               options: Sequence[Any] = ()) -> Ticket:
    """The ticket, if it exists and *user* may see it; else :class:`NotFound` (no leak).

    *options*: loader options, such as the relations the page will show anyway.
    """
    statement = _ticket_statement(tuple(options))
    ticket = session.scalars(statement, {"ticket_id": ticket_id}).unique().one_or_none()
    if ticket is None or not can_view(session, user, ticket, today):
        raise NotFound("Ticket not found.")
    return ticket


@functools.lru_cache(maxsize=8)
def _ticket_statement(options: tuple[Any, ...]) -> Select:
    """:func:`get_ticket`'s statement per set of loader options (the views pass constants),
    built once: ``session.get`` built and keyed a new one on every page."""
    return select(Ticket).where(Ticket.id == bindparam("ticket_id")).options(*options)
