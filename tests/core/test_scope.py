"""Ward scope: who sees what, asked once per page however many actions check it."""

from __future__ import annotations

import contextlib
import datetime as dt

from sqlalchemy import event

from helpdesk_core.models import StudentAssignment
from helpdesk_core.services import scope
from tests.factories import make_student, make_ward

TODAY = dt.date(2026, 3, 10)


@contextlib.contextmanager
def counted(session):
    statements: list[str] = []
    engine = session.get_bind()

    def listener(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_a_students_wards_are_read_once_per_unit_of_work(db_session):
    ward = make_ward(db_session)
    student = make_student(db_session, ward, TODAY)
    db_session.commit()
    with counted(db_session) as statements:
        for _ in range(15):  # the ticket page asked 15 times
            assert scope.ward_ids_for(db_session, student, TODAY) == {ward.id}
    assert len(statements) == 1


def test_a_new_placement_is_seen_at_once(db_session):
    first, second = make_ward(db_session), make_ward(db_session)
    student = make_student(db_session, first, TODAY)
    assert scope.ward_ids_for(db_session, student, TODAY) == {first.id}
    db_session.add(StudentAssignment(student_id=student.id, ward_id=second.id, university="ĐH Duy Tân",
                                     starts_on=TODAY, ends_on=TODAY))
    db_session.flush()  # not committed: the same transaction must see it
    assert scope.ward_ids_for(db_session, student, TODAY) == {first.id, second.id}
    assert scope.ward_ids_for(db_session, student, TODAY + dt.timedelta(days=400)) == set()


def test_a_rollback_forgets_what_it_undid(db_session):
    first, second = make_ward(db_session), make_ward(db_session)
    student = make_student(db_session, first, TODAY)
    db_session.commit()
    db_session.add(StudentAssignment(student_id=student.id, ward_id=second.id, university="ĐH Duy Tân",
                                     starts_on=TODAY, ends_on=TODAY))
    db_session.flush()
    assert scope.ward_ids_for(db_session, student, TODAY) == {first.id, second.id}
    db_session.rollback()
    assert scope.ward_ids_for(db_session, student, TODAY) == {first.id}


def test_the_session_account_brings_a_students_wards_of_the_day(db_session):
    """users.session_account(today=...) reads the student's wards in the account's own
    query; ward_ids_for then answers what its own query answers, with no statement, for
    two wards, a placement not begun yet, one ended, and a student with none."""
    from helpdesk_core.services import users
    first, second, later = make_ward(db_session), make_ward(db_session), make_ward(db_session)
    student = make_student(db_session, first, TODAY)
    db_session.add_all([
        StudentAssignment(student_id=student.id, ward_id=second.id, university="ĐH Duy Tân",
                          starts_on=TODAY, ends_on=TODAY),
        StudentAssignment(student_id=student.id, ward_id=later.id, university="ĐH Duy Tân",
                          starts_on=TODAY + dt.timedelta(days=1), ends_on=TODAY + dt.timedelta(days=9))])
    idle = make_student(db_session, first, TODAY - dt.timedelta(days=400))
    db_session.commit()
    for who, day in ((student, TODAY), (student, TODAY + dt.timedelta(days=2)),
                     (student, TODAY + dt.timedelta(days=400)), (idle, TODAY)):
        expected = scope._student_wards(db_session, who, day)
        db_session.commit()  # forget it
        user, _ = users.session_account(db_session, who.get_id(), today=day)
        assert user is who
        with counted(db_session) as statements:
            assert scope.ward_ids_for(db_session, who, day) == expected, (who.login, day)
        assert statements == []
        db_session.commit()
    assert scope._student_wards(db_session, student, TODAY) == {first.id, second.id}
