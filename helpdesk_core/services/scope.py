"""Who sees which wards and tickets. Everything outside a user's scope is 'not found'."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Role, StudentAssignment, Ticket, User


def ward_ids_for(session: Session, user: User | None, today: dt.date) -> frozenset[int] | None:
    """The wards *user* works for today; None means every ward (coordinators, admins).

    Staff: their ward. Students: wards of their assignments covering *today*.
    """
    if user is None or user.role in (Role.COORDINATOR, Role.ADMIN):
        return None
    if user.role == Role.STAFF:
        return frozenset({user.ward_id}) if user.ward_id else frozenset()
    rows = session.scalars(select(StudentAssignment.ward_id).where(
        StudentAssignment.student_id == user.id,
        StudentAssignment.starts_on <= today,
        StudentAssignment.ends_on >= today)).all()
    return frozenset(rows)


def can_view(session: Session, user: User | None, ticket: Ticket, today: dt.date) -> bool:
    wards = ward_ids_for(session, user, today)
    return wards is None or ticket.ward_id in wards


def get_ticket(session: Session, user: User | None, ticket_id: int, today: dt.date) -> Ticket:
    """The ticket, if it exists and *user* may see it; else :class:`NotFound` (no leak)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not can_view(session, user, ticket, today):
        raise NotFound("Ticket not found.")
    return ticket
