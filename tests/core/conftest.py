"""Fixtures of the lifecycle tests: a ward with one person of each role."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass

import pytest

from helpdesk_core.models import Role, Shift, ShiftPart, StudentAssignment, User, Ward
from helpdesk_core.services import users

from ..factories import PASSWORD, make_ward

_numbers = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    return users.hash_password(PASSWORD)  # slow by design: compute it once


def quick_user(session, role: str, ward: Ward | None = None) -> User:
    """A user without re-hashing a password (the lifecycle tests make hundreds)."""
    n = next(_numbers)
    user = User(login=f"lc-{role}{n}", name=f"Người {n}", password_hash=_password_hash(),
                role=role, ward=ward if role == Role.STAFF else None)
    session.add(user)
    session.flush()
    return user


def quick_student(session, ward: Ward, today: dt.date, *, on_duty: bool = True) -> User:
    """A student placed in *ward* from a month ago to three months ahead; on the roster
    every weekday, morning and afternoon (unless *on_duty* is False)."""
    student = quick_user(session, Role.STUDENT)
    placement = StudentAssignment(student=student, ward=ward, university="Đại học Duy Tân",
                                  starts_on=today - dt.timedelta(days=30),
                                  ends_on=today + dt.timedelta(days=90), on_duty=on_duty)
    session.add(placement)
    if on_duty:
        session.add_all(Shift(assignment=placement, weekday=day, part=part)
                        for day in range(5) for part in ShiftPart.ALL)
    session.flush()
    return student


@dataclass
class Cast:
    """A ward with its staff member, two students placed there, a coordinator, an admin."""

    ward: Ward
    staff: User
    student: User
    other_student: User
    coordinator: User
    admin: User
    university: User | None = None  # a university's coordinator: may act on no ticket

    def actor(self, role: str) -> User | None:
        """The person acting in *role*; None for the system."""
        return {Role.STAFF: self.staff, Role.STUDENT: self.student,
                Role.COORDINATOR: self.coordinator, Role.ADMIN: self.admin,
                Role.UNIVERSITY: self.university, Role.SYSTEM: None}[role]


@pytest.fixture
def cast(db_session, now):
    ward = make_ward(db_session)
    today = now.date()
    cast = Cast(ward=ward, staff=quick_user(db_session, Role.STAFF, ward=ward),
                student=quick_student(db_session, ward, today),
                other_student=quick_student(db_session, ward, today),
                coordinator=quick_user(db_session, Role.COORDINATOR),
                admin=quick_user(db_session, Role.ADMIN),
                university=quick_user(db_session, Role.UNIVERSITY))
    db_session.flush()
    return cast
