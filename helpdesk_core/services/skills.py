"""Students' skills per category: declared by the student, confirmed by a coordinator.

The categories are the registry's (the built-in plugins' and any others loaded).
Automatic assignment (``services/assignment.py``) prefers a confirmed skill, then a
declared one, then none.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..models import Role, Skill, User

CONFIRMED, DECLARED, NONE = "confirmed", "declared", "none"
LEVELS = (CONFIRMED, DECLARED, NONE)
CONFIRMERS = (Role.COORDINATOR, Role.ADMIN)


def skills_of(session: Session, student_id: int) -> dict[str, Skill]:
    """The student's skills by category."""
    return {s.category: s for s in session.scalars(
        select(Skill).where(Skill.student_id == student_id))}


def declare(session: Session, student: User, categories: Iterable[str],
            known: Iterable[str], now: dt.datetime) -> dict[str, Skill]:
    """Set the categories *student* says they can handle to exactly *categories*.

    New ones start unconfirmed; withdrawn ones are deleted (with their confirmation);
    the others keep theirs. Only categories in *known* (the registry's) are accepted.
    :raises ValidationFailed: an unknown category. :raises PermissionDenied: not a student.
    """
    if student.role != Role.STUDENT:
        raise PermissionDenied("Only students declare skills.")
    wanted = set(categories)
    unknown = wanted - set(known)
    if unknown:
        raise ValidationFailed("Unknown category: %(category)s.", category=sorted(unknown)[0])
    current = skills_of(session, student.id)
    for category, skill in current.items():
        if category not in wanted:
            session.delete(skill)
    for category in sorted(wanted - set(current)):
        session.add(Skill(student_id=student.id, category=category, declared_at=now))
    session.flush()
    return skills_of(session, student.id)


def confirm(session: Session, actor: User, skill: Skill, confirmed: bool,
            now: dt.datetime) -> Skill:
    """A coordinator confirms a declared skill (or takes the confirmation back)."""
    if actor.role not in CONFIRMERS:
        raise PermissionDenied("Only coordinators confirm skills.")
    skill.confirmed_by_id = actor.id if confirmed else None
    skill.confirmed_at = now if confirmed else None
    session.flush()
    return skill


def get_skill(session: Session, skill_id: int) -> Skill:
    skill = session.get(Skill, skill_id)
    if skill is None:
        raise NotFound("Not found.")
    return skill


def levels_for(session: Session, student_ids: Iterable[int], category: str) -> dict[int, str]:
    """Each student's level in *category*: ``confirmed``, ``declared`` or ``none``."""
    ids = list(student_ids)
    levels = dict.fromkeys(ids, NONE)
    if not ids:
        return levels
    for skill in session.scalars(select(Skill).where(Skill.student_id.in_(ids),
                                                     Skill.category == category)):
        levels[skill.student_id] = CONFIRMED if skill.confirmed else DECLARED
    return levels


def pending(session: Session, student_ids: Iterable[int] | None = None) -> list[Skill]:
    """Declared skills not confirmed yet (optionally of some students), oldest first."""
    query = select(Skill).where(Skill.confirmed_at.is_(None))
    if student_ids is not None:
        query = query.where(Skill.student_id.in_(list(student_ids)))
    return list(session.scalars(query.order_by(Skill.declared_at, Skill.id)))


def skills_by_student(session: Session, student_ids: Iterable[int]) -> dict[int, dict[str, Skill]]:
    """Skills of several students: student id -> category -> skill."""
    ids = list(student_ids)
    result: dict[int, dict[str, Skill]] = {i: {} for i in ids}
    if ids:
        for skill in session.scalars(select(Skill).where(Skill.student_id.in_(ids))):
            result[skill.student_id][skill.category] = skill
    return result
