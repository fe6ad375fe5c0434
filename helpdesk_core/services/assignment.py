"""Automatic assignment: a new ticket goes to the on-duty student with the least work.

Wards switch it on with ``Ward.auto_assign``. :func:`~.tickets.file_ticket` calls
:func:`~.tickets.auto_assign` (which asks :func:`choose_student`) right after filing; the assignment is an ordinary ``assign`` action
done by the system (``actor=None``), so it leaves the same ``assigned`` and ``status``
events as a coordinator's (the ``status`` event carries ``data["auto"] = True``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Role, Status, StudentAssignment, Ticket, User


def open_ticket_count():
    """Correlated count of a student's open tickets (all wards), for ordering."""
    return (select(func.count(Ticket.id))
            .where(Ticket.assignee_id == User.id, Ticket.status.in_(Status.OPEN))
            .correlate(User).scalar_subquery())


def on_duty_students(session: Session, ward_id: int, today: dt.date) -> list[tuple[User, int]]:
    """Active students on duty in the ward *today*, with their open ticket counts.

    On duty: a :class:`~helpdesk_core.models.StudentAssignment` of the ward with
    ``on_duty`` set whose period covers *today*. Fewest open tickets first, then the
    lowest user id (so the choice is reproducible).
    """
    placed = select(StudentAssignment.student_id).where(
        StudentAssignment.ward_id == ward_id, StudentAssignment.on_duty.is_(True),
        StudentAssignment.starts_on <= today, StudentAssignment.ends_on >= today)
    load = open_ticket_count()
    rows = session.execute(
        select(User, load)
        .where(User.id.in_(placed), User.role == Role.STUDENT, User.active.is_(True))
        .order_by(load, User.id)).all()
    return [(user, count) for user, count in rows]


def choose_student(session: Session, ward_id: int, today: dt.date) -> User | None:
    """The on-duty student of the ward with the fewest open tickets, or None."""
    candidates = on_duty_students(session, ward_id, today)
    return candidates[0][0] if candidates else None
