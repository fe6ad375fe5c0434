"""Ward staff rate a resolution at confirmation: one tap, skippable, masked comment."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from helpdesk_core.errors import TransitionNotAllowed, ValidationFailed
from helpdesk_core.models import Role, Status, TicketEvent, TicketRating
from helpdesk_core.services import ratings, reports, tickets
from tests.factories import make_student, make_ticket, make_user, make_ward

H = dt.timedelta(hours=1)


@pytest.fixture
def resolved(db_session, registry, now):
    """A ward, its staff, a student, and a ticket the student resolved."""
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward)
    student = make_student(db_session, ward, now.date())
    ticket = make_ticket(db_session, registry, ward, now - 3 * H)
    tickets.perform(db_session, registry, ticket, student, "claim", now - 2 * H)
    tickets.perform(db_session, registry, ticket, student, "resolve", now - H, reason="Đã sửa")
    db_session.flush()
    return ward, staff, student, ticket


def test_confirm_with_a_rating_stores_it_with_the_student_and_an_event(db_session, registry,
                                                                      now, resolved):
    _ward, staff, student, ticket = resolved
    ratings.confirm(db_session, registry, ticket, staff, now, rating=4,
                    comment="Em sinh viên gọi lại số 0905123456, rất nhiệt tình")
    tickets.commit(db_session)
    assert ticket.status == Status.CLOSED
    row = db_session.scalar(select(TicketRating))
    assert (row.rating, row.student_id, row.rater_id) == (4, student.id, staff.id)
    assert "0905123456" not in row.comment and "nhiệt tình" in row.comment
    event = db_session.scalar(select(TicketEvent).where(TicketEvent.kind == "rating"))
    assert event.new_value == "4" and event.actor_id == staff.id
    assert "0905123456" not in event.body
    kinds = [e.kind for e in ticket.events]
    assert kinds[-2:] == ["status", "rating"]  # the confirmation, then the rating


def test_skipping_the_rating_confirms_without_one(db_session, registry, now, resolved):
    _ward, staff, _student, ticket = resolved
    ratings.confirm(db_session, registry, ticket, staff, now, rating=None, comment="bỏ qua")
    tickets.commit(db_session)
    assert ticket.status == Status.CLOSED
    assert db_session.scalar(select(func.count()).select_from(TicketRating)) == 0
    assert not [e for e in ticket.events if e.kind == "rating"]


@pytest.mark.parametrize("value", ["0", "6", "abc", "4.5", "-1"])
def test_a_rating_outside_1_to_5_is_refused(value):
    with pytest.raises(ValidationFailed) as error:
        ratings.parse_rating(value)
    assert "rating" in error.value.field_errors


def test_parse_rating_reads_skips_and_numbers():
    assert ratings.parse_rating("") is None and ratings.parse_rating(None) is None
    assert [ratings.parse_rating(str(n)) for n in range(1, 6)] == [1, 2, 3, 4, 5]


def test_a_refused_confirmation_rates_nothing(db_session, registry, now):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward)
    ticket = make_ticket(db_session, registry, ward, now)  # new, not resolved
    with pytest.raises(TransitionNotAllowed):
        ratings.confirm(db_session, registry, ticket, staff, now, rating=5)
    tickets.rollback(db_session)
    assert db_session.scalar(select(func.count()).select_from(TicketRating)) == 0


def test_a_too_long_comment_is_refused_before_anything_changes(db_session, registry, now,
                                                                resolved):
    _ward, staff, _student, ticket = resolved
    with pytest.raises(ValidationFailed) as error:
        ratings.confirm(db_session, registry, ticket, staff, now, rating=3,
                        comment="x" * (ratings.RATING_COMMENT_MAX + 1))
    assert "rating_comment" in error.value.field_errors
    assert ticket.status == Status.RESOLVED


def test_ratings_for_students_average_and_count_in_the_period(db_session, registry, now,
                                                              resolved):
    ward, staff, student, ticket = resolved
    other = make_student(db_session, ward, now.date())
    unrated = make_student(db_session, ward, now.date())
    ratings.confirm(db_session, registry, ticket, staff, now, rating=4)
    for value, who, when in ((5, student, now), (2, other, now), (1, student, now - 60 * 24 * H)):
        db_session.add(TicketRating(ticket=ticket, rating=value, student_id=who.id,
                                    rater_id=staff.id, created_at=when))
    db_session.flush()
    period = reports.make_period(now.date() - dt.timedelta(days=6), now.date(), now.date())
    result = ratings.ratings_for_students(db_session, [student.id, other.id, unrated.id],
                                          period)
    assert result[student.id] == ratings.RatingSummary(4.5, 2)   # the old 1 is outside
    assert result[other.id] == ratings.RatingSummary(2.0, 1)
    assert result[unrated.id] == ratings.RatingSummary(None, 0)
    assert ratings.ratings_for_students(db_session, [], period) == {}
