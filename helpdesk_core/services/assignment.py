"""Automatic assignment: a new ticket goes to a student on duty, skilled first, least busy.

Wards switch it on with ``Ward.auto_assign``. :func:`~.tickets.file_ticket` calls
:func:`~.tickets.auto_assign` right after filing, which asks :func:`choose` about
:func:`candidates_for`; the assignment is an ordinary ``assign`` action
done by the system (``actor=None``), so it leaves the same ``assigned`` and ``status``
events as a coordinator's (the ``status`` event carries ``data["auto"] = True``).

The choice itself is :func:`choose`, a pure function of the candidates (on duty or not,
skill in the ticket's category, open tickets): tested with a table of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..calendar import DEFAULT_TIMEZONE
from ..models import Status, Ticket
from . import roster, skills

# Lower is better: a confirmed skill, then a declared one, then none.
SKILL_RANK = {skills.CONFIRMED: 0, skills.DECLARED: 1, skills.NONE: 2}


@dataclass(frozen=True)
class Candidate:
    """A student placed in the ticket's ward, as automatic assignment sees them."""

    user_id: int
    on_duty: bool
    skill: str  # skills.CONFIRMED, DECLARED or NONE, in the ticket's category
    load: int   # open tickets assigned to them, all wards


def choose(candidates: Sequence[Candidate]) -> int | None:
    """The user id to assign, or None when nobody is on duty.

    Only students on duty count. Among them: the best skill in the category first
    (confirmed, declared, none), then the fewest open tickets, then the lowest user id,
    so the choice is reproducible.
    """
    pool = [c for c in candidates if c.on_duty]
    if not pool:
        return None
    return min(pool, key=lambda c: (SKILL_RANK[c.skill], c.load, c.user_id)).user_id


def open_loads(session: Session, user_ids: Sequence[int]) -> dict[int, int]:
    """Open tickets assigned to each of *user_ids* (all wards)."""
    loads = dict.fromkeys(user_ids, 0)
    if not user_ids:
        return loads
    rows = session.execute(select(Ticket.assignee_id, func.count(Ticket.id))
                           .where(Ticket.assignee_id.in_(list(user_ids)),
                                  Ticket.status.in_(Status.OPEN))
                           .group_by(Ticket.assignee_id))
    loads.update({uid: int(n) for uid, n in rows})
    return loads


def candidates_for(session: Session, ward_id: int, category: str, now: dt.datetime,
                   tz_name: str | None = None) -> list[Candidate]:
    """The students placed in the ward today, with duty, skill and load."""
    duty = {u.id for u in roster.on_duty(session, ward_id, now, tz_name)}
    today = now.astimezone(ZoneInfo(tz_name or DEFAULT_TIMEZONE)).date()
    placed = sorted(set(roster.placed_on(session, ward_id, today)) | duty)
    levels = skills.levels_for(session, placed, category)
    loads = open_loads(session, placed)
    return [Candidate(uid, uid in duty, levels[uid], loads[uid]) for uid in placed]
