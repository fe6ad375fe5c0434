"""Batches (đợt) of students and the universities sending them.

A batch has dates, the wards it serves and the criteria wards evaluate its students on.
A university is an organisation with its own coordinator accounts (role ``university``),
who see their own students only. Functions validate everything first, raise one
:class:`ValidationFailed` with an error per field, flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import Conflict, ValidationFailed
from ..models import (Batch, Certificate, EvaluationCriterion, EvaluationScore, Role, StudentAssignment,
                      University, User, Ward)
from ..text import nfc
from . import users

UNIVERSITY_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,19}$")
SCALES = (5, 10)  # what coordinators choose from: 1-5 or 1-10
MAX_CRITERIA = 20


def _clean(value: str | None) -> str:
    return nfc(value or "").strip()


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)


# --- universities -----------------------------------------------------------------------

def save_university(session: Session, university: University | None, *, code: str, name: str,
                    active: bool = True) -> University:
    """Create (*university* None) or update a university.

    :raises ValidationFailed: code not 2-20 capitals/digits or taken, name empty or taken.
    """
    code, name = _clean(code).upper(), _clean(name)
    errors: dict[str, list[str]] = {}
    others = select(func.count()).select_from(University)
    if university is not None:
        others = others.where(University.id != university.id)
    if not UNIVERSITY_CODE.match(code):
        errors["code"] = [i18n.gettext("Use 2-20 capital letters or digits, starting with a "
                                       "letter (e.g. DTU).")]
    elif session.scalar(others.where(University.code == code)):
        errors["code"] = [i18n.gettext("Another university already uses this code.")]
    if not name or len(name) > 160:
        errors["name"] = [i18n.gettext("Please give the university's name (at most 160 "
                                       "characters).")]
    elif session.scalar(others.where(University.name == name)):
        errors["name"] = [i18n.gettext("Another university already has this name.")]
    _raise(errors)
    if university is None:
        university = University(code=code, name=name)
        session.add(university)
    university.code, university.name, university.active = code, name, bool(active)
    session.flush()
    return university


def universities(session: Session, active_only: bool = False) -> list[University]:
    """Every university (or the active ones), by name."""
    query = select(University).order_by(University.name)
    if active_only:
        query = query.where(University.active.is_(True))
    return list(session.scalars(query))


def create_university_coordinator(session: Session, university: University, *, login: str,
                                  name: str, password: str | None, email: str = "") -> User:
    """An account of role ``university`` for *university*'s own coordinator."""
    user = users.create_user(session, login=login, name=name, password=password,
                             role=Role.UNIVERSITY, email=email)
    user.university_id = university.id
    session.flush()
    return user


def university_coordinators(session: Session, university: University) -> list[User]:
    return list(session.scalars(select(User).where(
        User.role == Role.UNIVERSITY, User.university_id == university.id).order_by(User.name)))


# --- batches --------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionLine:
    """One criterion as a coordinator writes it: a name and the top of its scale."""

    name: str
    scale_max: int


def parse_criteria(text: str) -> list[CriterionLine]:
    """Criteria written one per line, ``name; scale`` (scale 5 or 10, 5 when left out).

    :raises ValidationFailed: (field ``criteria``) a bad scale, a name too long, a name
        twice, too many lines.
    """
    lines, problems, seen = [], [], set()
    for number, raw in enumerate((text or "").splitlines(), start=1):
        raw = _clean(raw)
        if not raw:
            continue
        name, _, scale = raw.rpartition(";") if ";" in raw else (raw, "", "5")
        name, scale = _clean(name), _clean(scale) or "5"
        if scale not in {str(n) for n in SCALES}:
            problems.append(i18n.gettext("Line %(n)d: the scale must be 5 or 10.", n=number))
        elif not name or len(name) > 120:
            problems.append(i18n.gettext("Line %(n)d: give a name of at most 120 characters.",
                                         n=number))
        elif name.casefold() in seen:
            problems.append(i18n.gettext("Line %(n)d: this criterion is already listed.",
                                         n=number))
        else:
            seen.add(name.casefold())
            lines.append(CriterionLine(name, int(scale)))
    if len(lines) > MAX_CRITERIA:
        problems.append(i18n.gettext("At most %(max)d criteria.", max=MAX_CRITERIA))
    if problems:
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={"criteria": problems})
    return lines


def criteria_text(batch: Batch | None) -> str:
    """The batch's criteria written back as :func:`parse_criteria` reads them."""
    if batch is None:
        return ""
    return "\n".join(f"{c.name}; {c.scale_max}" for c in batch.criteria)


def save_batch(session: Session, batch: Batch | None, *, name: str, starts_on: dt.date | None,
               ends_on: dt.date | None, wards: Sequence[Ward], issuing_unit: str = "",
               criteria: str = "") -> Batch:
    """Create (*batch* None) or update a batch with its wards and criteria.

    A criterion that wards have already scored keeps its scores while its name stays;
    removing it or changing its scale then is refused.

    :raises ValidationFailed: empty or taken name, missing or reversed dates, no ward,
        bad criteria, a scored criterion removed or rescaled.
    """
    name, issuing_unit = _clean(name), _clean(issuing_unit)
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 120:
        errors["name"] = [i18n.gettext("Please give the batch a name (at most 120 characters).")]
    else:
        taken = select(func.count()).select_from(Batch).where(Batch.name == name)
        if batch is not None:
            taken = taken.where(Batch.id != batch.id)
        if session.scalar(taken):
            errors["name"] = [i18n.gettext("Another batch already has this name.")]
    if starts_on is None:
        errors["starts_on"] = [i18n.gettext("Choose a date.")]
    if ends_on is None:
        errors["ends_on"] = [i18n.gettext("Choose a date.")]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = [i18n.gettext("The end date must not be before the start date.")]
    if not wards:
        errors["wards"] = [i18n.gettext("Choose the wards this batch serves.")]
    if len(issuing_unit) > 200:
        errors["issuing_unit"] = [i18n.gettext("At most %(max)d characters.", max=200)]
    try:
        lines = parse_criteria(criteria)
    except ValidationFailed as error:
        errors.update(error.field_errors)
        lines = []
    if batch is not None and "criteria" not in errors:
        problems = _scored_changes(session, batch, lines)
        if problems:
            errors["criteria"] = problems
    _raise(errors)
    if batch is None:
        batch = Batch(name=name)
        session.add(batch)
    batch.name, batch.starts_on, batch.ends_on = name, starts_on, ends_on
    batch.issuing_unit = issuing_unit
    batch.wards = list(wards)
    _apply_criteria(batch, lines)
    session.flush()
    return batch


def _scored_changes(session: Session, batch: Batch, lines: Iterable[CriterionLine]) -> list[str]:
    wanted = {line.name: line.scale_max for line in lines}
    scored = set(session.scalars(select(EvaluationScore.criterion_id).where(
        EvaluationScore.criterion_id.in_([c.id for c in batch.criteria])).distinct()))
    return [i18n.gettext("Wards have already scored “%(name)s”: it cannot be removed or "
                         "rescaled.", name=c.name)
            for c in batch.criteria if c.id in scored and wanted.get(c.name) != c.scale_max]


def _apply_criteria(batch: Batch, lines: Sequence[CriterionLine]) -> None:
    existing = {c.name: c for c in batch.criteria}
    kept = []
    for position, line in enumerate(lines):
        criterion = existing.get(line.name) or EvaluationCriterion(name=line.name)
        criterion.scale_max, criterion.position = line.scale_max, position
        kept.append(criterion)
    batch.criteria = kept


def delete_batch(session: Session, batch: Batch) -> None:
    """Remove a batch nobody was placed in and no certificate was issued for.

    :raises Conflict: placements or certificates refer to it.
    """
    used = session.scalar(select(func.count()).select_from(StudentAssignment)
                          .where(StudentAssignment.batch_id == batch.id))
    used = used or session.scalar(select(func.count()).select_from(Certificate)
                                  .where(Certificate.batch_id == batch.id))
    if used:
        raise Conflict("Students are placed in this batch or hold its certificates: it "
                       "cannot be removed.")
    session.delete(batch)
    session.flush()


def batches(session: Session) -> list[Batch]:
    """Every batch, newest first."""
    return list(session.scalars(select(Batch).order_by(Batch.starts_on.desc(), Batch.id.desc())))


def placements(session: Session, batch: Batch, ward_id: int | None = None,
               university_id: int | None = None) -> list[StudentAssignment]:
    """The placements of *batch* (optionally of one ward or university), by student name."""
    query = (select(StudentAssignment).join(User, User.id == StudentAssignment.student_id)
             .where(StudentAssignment.batch_id == batch.id)
             .order_by(User.name, User.id, StudentAssignment.starts_on))
    if ward_id is not None:
        query = query.where(StudentAssignment.ward_id == ward_id)
    if university_id is not None:
        query = query.where(StudentAssignment.university_id == university_id)
    return list(session.scalars(query))
