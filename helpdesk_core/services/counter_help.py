"""Help given at the counter without a ticket: what kind, how many people.

Students spend much of the day helping citizens directly (activating VNeID level 2,
filing online, the Smart City app, Bình dân học vụ số) and answering ward staff's small
questions. One entry per help, two taps from the queue; no personal data (the optional
note is masked). :func:`counter_help_totals` feeds the students', wards' and
coordinators' figures.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import PermissionDenied, ValidationFailed
from ..i18n import N_
from ..models import CounterHelp, Role, User, Ward
from ..privacy import mask_personal_data

# The fixed help kinds; the registry's categories follow them (a category with the same
# key as a fixed kind, like the e-government plugin's smart_city, is that kind).
FIXED_KINDS = {
    "vneid_level2": N_("VNeID level 2 activation"),
    "online_filing": N_("Filing online"),
    "smart_city": N_("Danang Smart City app"),
    "digital_literacy": N_("Digital skills (Bình dân học vụ số)"),
    "staff_question": N_("A staff member's question"),
}
NOTE_MAX = 300
PEOPLE_MAX = 100


def kinds(categories: Mapping[str, object]) -> dict[str, str]:
    """Help kinds, key -> label (translated): the fixed ones, then *categories*'.

    *categories* is the registry's ``categories`` (key -> Category with ``label``).
    """
    result = {key: i18n.gettext(label) for key, label in FIXED_KINDS.items()}
    for key, category in categories.items():
        if key not in result:
            result[key] = str(getattr(category, "label", key))
    return result


def log_help(session: Session, student: User, ward: Ward, kind: str, known_kinds: Iterable[str],
             *, people: int = 1, note: str = "", now: dt.datetime,
             ward_ids: Iterable[int] | None = None) -> CounterHelp:
    """Record help given by *student* at *ward*'s counter at *now*.

    :param known_kinds: the accepted kinds (:func:`kinds`' keys).
    :param ward_ids: the wards the student is placed in today (None: not checked).
    :raises ValidationFailed: unknown kind, people outside 1..100, a note too long.
    :raises PermissionDenied: not a student, or a ward the student is not placed in.
    """
    if student.role != Role.STUDENT:
        raise PermissionDenied("Only students log help at the counter.")
    if ward_ids is not None and ward.id not in set(ward_ids):
        raise PermissionDenied("You are not placed in this ward.")
    errors: dict[str, list[str]] = {}
    if kind not in set(known_kinds):
        errors["kind"] = [i18n.gettext("Choose what kind of help it was.")]
    if not isinstance(people, int) or not 1 <= people <= PEOPLE_MAX:
        errors["people"] = [i18n.gettext("Between %(low)d and %(high)d people.", low=1,
                                         high=PEOPLE_MAX)]
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [i18n.gettext("At most %(num)d characters.", num=NOTE_MAX)]
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    entry = CounterHelp(student_id=student.id, ward_id=ward.id, kind=kind, people=people,
                        note=mask_personal_data(note), at=now)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class HelpTotal:
    """People helped and entries logged, per student, ward and kind."""

    student_id: int
    ward_id: int
    kind: str
    entries: int
    people: int


def counter_help_totals(session: Session, *, student_ids: Iterable[int] | None = None,
                        ward_ids: Iterable[int] | None = None,
                        period: object) -> list[HelpTotal]:
    """Totals of help at the counter in *period*, per (student, ward, kind).

    :param student_ids: only these students (None: all).
    :param ward_ids: only these wards (None: all).
    :param period: anything with ``start_utc`` and ``end_utc`` (end exclusive), such as
        ``services.reports.Period``.
    One grouped query. Sum the rows for coarser figures (:func:`sum_by`).
    """
    params = {"start": period.start_utc, "end": period.end_utc}
    if student_ids is not None:
        params["student_ids"] = list(student_ids)
    if ward_ids is not None:
        params["ward_ids"] = list(ward_ids)
    query = _totals_query(student_ids is not None, ward_ids is not None)
    return [HelpTotal(s, w, k, int(n), int(p))
            for s, w, k, n, p in session.execute(query, params)]


@functools.lru_cache(maxsize=4)
def _totals_query(some_students: bool, some_wards: bool):
    """Built once per shape (the dashboard asks on every look): bound parameters."""
    query = (select(CounterHelp.student_id, CounterHelp.ward_id, CounterHelp.kind,
                    func.count(CounterHelp.id), func.coalesce(func.sum(CounterHelp.people), 0))
             .where(CounterHelp.at >= bindparam("start"), CounterHelp.at < bindparam("end"))
             .group_by(CounterHelp.student_id, CounterHelp.ward_id, CounterHelp.kind)
             .order_by(CounterHelp.student_id, CounterHelp.ward_id, CounterHelp.kind))
    if some_students:
        query = query.where(CounterHelp.student_id.in_(bindparam("student_ids", expanding=True)))
    if some_wards:
        query = query.where(CounterHelp.ward_id.in_(bindparam("ward_ids", expanding=True)))
    return query


def sum_by(totals: Iterable[HelpTotal], key: str) -> dict[object, tuple[int, int]]:
    """(entries, people) summed by ``student_id``, ``ward_id`` or ``kind``."""
    result: dict[object, tuple[int, int]] = {}
    for row in totals:
        entries, people = result.get(getattr(row, key), (0, 0))
        result[getattr(row, key)] = (entries + row.entries, people + row.people)
    return result


def recent(session: Session, student_id: int, limit: int = 10) -> list[CounterHelp]:
    """The student's latest entries, newest first."""
    return list(session.scalars(select(CounterHelp).where(CounterHelp.student_id == student_id)
                                .order_by(CounterHelp.at.desc(), CounterHelp.id.desc())
                                .limit(limit)))
