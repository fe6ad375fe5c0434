"""Ward staff rate a resolution when they confirm it (1-5, an optional comment).

One tap: the confirm form's five rating buttons each confirm *and* rate; its plain
button confirms without a rating (skipping is always allowed). The rating is stored in
:class:`~helpdesk_core.models.TicketRating` with the ticket's assignee of that moment,
and recorded in the ticket's history as a ``rating`` event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import ValidationFailed
from ..models import Ticket, TicketRating, User
from ..plugins import PluginRegistry
from ..privacy import mask_personal_data
from ..text import nfc
from . import tickets

RATINGS = (1, 2, 3, 4, 5)
RATING_COMMENT_MAX = 1000
RATING_EVENT = "rating"


def parse_rating(value: object) -> int | None:
    """The rating sent by a form: None when skipped (empty), else 1-5.

    :raises ValidationFailed: anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        rating = int(str(value).strip())
    except ValueError:
        rating = 0
    if rating not in RATINGS:
        raise ValidationFailed("Choose a rating from 1 to 5, or confirm without one.",
                               field_errors={"rating": [i18n.gettext(
                                   "Choose a rating from 1 to 5, or confirm without one.")]})
    return rating


def confirm(session: Session, registry: PluginRegistry | None, ticket: Ticket,
            actor: User, now: dt.datetime, *, rating: int | None = None,
            comment: str = "") -> Ticket:
    """Confirm the resolution of *ticket* (``confirm`` action), rating it if *rating* is set.

    The comment is kept only with a rating, masked of personal data. Both changes are
    one unit: if the confirmation is refused, nothing is rated.

    :raises ValidationFailed: a rating outside 1-5, or a comment that is too long.
    :raises HelpdeskError: whatever :func:`.tickets.perform` raises for ``confirm``.
    """
    if rating is not None and rating not in RATINGS:
        parse_rating(str(rating))
    comment = mask_personal_data(nfc(comment or "").strip())
    if len(comment) > RATING_COMMENT_MAX:
        raise ValidationFailed(
            "The comment is too long (at most %(max)d characters).", max=RATING_COMMENT_MAX,
            field_errors={"rating_comment": [i18n.gettext(
                "The comment is too long (at most %(max)d characters).",
                max=RATING_COMMENT_MAX)]})
    student_id = ticket.assignee_id
    tickets.perform(session, registry, ticket, actor, "confirm", now)
    if rating is not None:
        session.add(TicketRating(ticket=ticket, rating=rating, comment=comment,
                                 rater_id=actor.id, student_id=student_id, created_at=now))
        tickets.record_event(session, registry, ticket, RATING_EVENT, actor, now,
                             new=str(rating), body=comment,
                             data={"student_id": student_id})
        session.flush()
    return ticket


@dataclass(frozen=True)
class RatingSummary:
    """A student's ratings in a period."""

    average: float | None
    count: int


def ratings_for_students(session: Session, student_ids: Iterable[int],
                         period) -> dict[int, RatingSummary]:
    """Average rating (1 decimal) and count per student, for ratings given in *period*.

    :param period: a :class:`.reports.Period` (its UTC bounds are used).
    :returns: an entry for every id asked, ``RatingSummary(None, 0)`` when unrated.
    One grouped query whatever the number of students.
    """
    ids = sorted({int(i) for i in student_ids})
    result = {i: RatingSummary(None, 0) for i in ids}
    if not ids:
        return result
    rows = session.execute(
        select(TicketRating.student_id, func.avg(TicketRating.rating), func.count())
        .where(TicketRating.student_id.in_(ids),
               TicketRating.created_at >= period.start_utc,
               TicketRating.created_at < period.end_utc)
        .group_by(TicketRating.student_id))
    for student_id, average, count in rows:
        result[int(student_id)] = RatingSummary(round(float(average), 1), int(count))
    return result
