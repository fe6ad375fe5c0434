"""End-of-batch evaluations: wards score their students on the batch's criteria, and
coordinators read, per student and batch, figures and the evaluation side by side.

University coordinators (role ``university``) see their own university's students only,
and never a citizen's data: ticket titles come masked, no description or contact field.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import i18n
from ..calendar import DEFAULT_TIMEZONE, WorkingCalendar
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..exports import inert_row
from ..models import (Batch, Evaluation, EvaluationScore, Role, Status, StudentAssignment,
                      Ticket, University, User, Ward)
from ..privacy import mask_personal_data
from ..text import fold, nfc
from . import ratings, reports, roster, sla

# Wards may evaluate during a batch's last week, and any time after it ends.
OPENS_DAYS_BEFORE_END = 7
COMMENT_MAX = 500
_DIGITS = re.compile(r"[0-9]{1,2}")  # ASCII only: "²" is a digit to str.isdigit
SORT_KEYS = ("name", "university", "batch", "resolved", "on_time", "hours", "evaluation",
             "rating")


# --- who sees whom ------------------------------------------------------------------------

def university_scope(user: User) -> int | None:
    """The university whose students *user* may see; None: every university
    (coordinators, administrators). Others may see no student: :class:`PermissionDenied`."""
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return None
    if user.role == Role.UNIVERSITY and user.university_id is not None:
        return user.university_id
    raise PermissionDenied("Only coordinators can see the students' results.")


# --- the ward's form ------------------------------------------------------------------

@dataclass
class ToEvaluate:
    """A student of a batch placed in a ward, and the ward's evaluation so far (or None)."""

    batch: Batch
    student: User
    ward: Ward
    evaluation: Evaluation | None = None


def is_open(batch: Batch, today: dt.date) -> bool:
    """Whether wards may evaluate this batch's students today."""
    return today >= batch.ends_on - dt.timedelta(days=OPENS_DAYS_BEFORE_END)


def to_evaluate(session: Session, user: User, today: dt.date) -> list[ToEvaluate]:
    """For ward staff: the students placed in their ward in batches open for evaluation."""
    if user.role != Role.STAFF or user.ward_id is None:
        return []
    opens = today + dt.timedelta(days=OPENS_DAYS_BEFORE_END)
    rows = session.execute(
        select(StudentAssignment, Batch)
        .join(Batch, Batch.id == StudentAssignment.batch_id)
        .options(joinedload(StudentAssignment.student), joinedload(StudentAssignment.ward))
        .where(StudentAssignment.ward_id == user.ward_id, Batch.ends_on <= opens)
        .order_by(Batch.ends_on.desc(), Batch.id)).all()
    done = {(e.batch_id, e.student_id): e for e in session.scalars(
        select(Evaluation).where(Evaluation.ward_id == user.ward_id))}
    seen: dict[tuple[int, int], ToEvaluate] = {}
    for placement, batch in rows:
        key = (batch.id, placement.student_id)
        if key not in seen:
            seen[key] = ToEvaluate(batch, placement.student, placement.ward, done.get(key))
    return sorted(seen.values(), key=lambda t: (-t.batch.ends_on.toordinal(), t.batch.id,
                                                fold(t.student.name)))


def evaluation_target(session: Session, user: User, batch_id: int, student_id: int,
                      today: dt.date) -> ToEvaluate:
    """What *user* (staff) may evaluate: the student of *batch_id* placed in their ward.

    :raises NotFound: no such batch or student placed in the user's ward in it.
    :raises PermissionDenied: the batch is not open for evaluation yet.
    """
    batch = session.get(Batch, batch_id)
    placement = None
    if batch is not None and user.role == Role.STAFF and user.ward_id is not None:
        placement = session.scalar(select(StudentAssignment).where(
            StudentAssignment.batch_id == batch.id, StudentAssignment.student_id == student_id,
            StudentAssignment.ward_id == user.ward_id).limit(1))
    if batch is None or placement is None:
        raise NotFound("This student was not placed in your ward in this batch.")
    if not is_open(batch, today):
        raise PermissionDenied("Evaluations of this batch open on %(day)s.",
                               day=(batch.ends_on - dt.timedelta(days=OPENS_DAYS_BEFORE_END))
                               .strftime("%d/%m/%Y"))
    evaluation = session.scalar(select(Evaluation).where(
        Evaluation.batch_id == batch.id, Evaluation.student_id == student_id,
        Evaluation.ward_id == user.ward_id))
    return ToEvaluate(batch, placement.student, placement.ward, evaluation)


def save_evaluation(session: Session, target: ToEvaluate, evaluator: User,
                    scores: Mapping[int, Any], comments: Mapping[int, str], comment: str,
                    now: dt.datetime) -> Evaluation:
    """Store (or replace) the ward's evaluation of the student: a score on every
    criterion of the batch, a comment per criterion and one overall.

    :raises ValidationFailed: a score missing, not a whole number or outside 1..scale
        (fields ``score_<criterion id>``), a comment too long.
    """
    errors: dict[str, list[str]] = {}
    values: dict[int, tuple[int, str]] = {}
    if not target.batch.criteria:
        errors["comment"] = [i18n.gettext("The coordinators have not set criteria for this "
                                          "batch yet.")]
    for criterion in target.batch.criteria:
        raw = scores.get(criterion.id)
        text = str(raw).strip() if raw is not None else ""
        note = nfc(comments.get(criterion.id) or "").strip()
        if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= criterion.scale_max:
            errors[f"score_{criterion.id}"] = [i18n.gettext(
                "Choose a score from 1 to %(max)d.", max=criterion.scale_max)]
        elif len(note) > COMMENT_MAX:
            errors[f"note_{criterion.id}"] = [i18n.gettext("At most %(max)d characters.",
                                                           max=COMMENT_MAX)]
        else:
            values[criterion.id] = (int(text), note)
    comment = nfc(comment or "").strip()
    if len(comment) > 4000:
        errors["comment"] = [i18n.gettext("At most %(max)d characters.", max=4000)]
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    evaluation = target.evaluation
    if evaluation is None:
        evaluation = Evaluation(batch=target.batch, student=target.student, ward=target.ward)
        session.add(evaluation)
    evaluation.evaluator, evaluation.comment, evaluation.submitted_at = evaluator, comment, now
    by_criterion = {s.criterion_id: s for s in evaluation.scores}
    evaluation.scores = [
        _score(by_criterion.get(cid), cid, score, note) for cid, (score, note) in values.items()]
    session.flush()
    target.evaluation = evaluation
    return evaluation


def _score(existing: EvaluationScore | None, criterion_id: int, score: int,
           note: str) -> EvaluationScore:
    row = existing or EvaluationScore(criterion_id=criterion_id)
    row.score, row.comment = score, note
    return row


# --- figures per student --------------------------------------------------------------

@dataclass
class StudentResult:
    """One student in one batch: placements, work, evaluation (every ward's, averaged)."""

    student_id: int
    name: str
    login: str
    batch_id: int
    batch: str
    starts_on: dt.date
    ends_on: dt.date
    university: str = ""
    university_id: int | None = None
    wards: list[str] = field(default_factory=list)
    ward_ids: list[int] = field(default_factory=list)
    resolved: int = 0
    on_time: int = 0
    hours: float = 0.0
    categories: Counter = field(default_factory=Counter)
    scores: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # name: (score, max)
    comments: list[str] = field(default_factory=list)
    rating: float | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None

    @property
    def evaluation(self) -> float | None:
        """The evaluation on a scale of 10: every score of every ward, as a share of its
        scale, averaged (None: not evaluated yet)."""
        parts = [s / top for pairs in self.scores.values() for s, top in pairs]
        return round(10 * sum(parts) / len(parts), 1) if parts else None

    def score_text(self) -> str:
        """``"Thái độ: 4/5; Kỹ năng: 8/10"`` (several wards: every score)."""
        return "; ".join(f"{name}: " + ", ".join(f"{s}/{top}" for s, top in pairs)
                         for name, pairs in self.scores.items())


# A roster's half-days per ward: (day, ShiftPart, student ids on duty).
WardRoster = dict[int, list[tuple[dt.date, str, set[int]]]]


def hours_on_duty(session: Session, placements: list[StudentAssignment], batch: Batch,
                  calendars: dict[int, WorkingCalendar] | None = None,
                  cells: WardRoster | None = None) -> float:
    """Hours a student was on the roster in *batch*: each half-day of the ward's roster
    (weekly pattern and approved changes, :func:`.roster.rostered`) the ward was open,
    at that half-day's opening hours on the ward's calendar (public holidays, declared
    days off, Saturday mornings). *calendars* caches the wards' calendars between calls;
    *cells* is the batch's roster when the caller read it once for many students."""
    calendars = {} if calendars is None else calendars
    if cells is None:
        cells = _by_ward(roster.rostered(session, {p.ward_id for p in placements},
                                         batch.starts_on, batch.ends_on))
    total = 0.0
    for placement in placements:
        start = max(placement.starts_on, batch.starts_on)
        end = min(placement.ends_on, batch.ends_on)
        if end < start or not placement.on_duty:
            continue
        calendar = calendars.get(placement.ward_id)
        if calendar is None:
            calendar = calendars[placement.ward_id] = sla.calendar_for(session, placement.ward)
        for day, part, students in cells.get(placement.ward_id, ()):
            if not start <= day <= end or placement.student_id not in students:
                continue
            hours = roster.parts_on(calendar, day).get(part)
            if hours is not None:
                opens, closes = hours
                total += (_minutes(closes) - _minutes(opens)) / 60.0
    return round(total, 1)


def _by_ward(cells: dict[tuple[int, dt.date, str], set[int]]) -> WardRoster:
    by_ward: WardRoster = defaultdict(list)
    for (ward_id, day, part), students in cells.items():
        by_ward[ward_id].append((day, part, students))
    return by_ward


def _batch_rosters(session: Session, placed: dict[tuple[int, int], list[StudentAssignment]]
                   ) -> dict[int, WardRoster]:
    """Each batch's roster over all its placed wards: one read per batch, not per student."""
    wards: dict[int, set[int]] = defaultdict(set)
    batches: dict[int, Batch] = {}
    for (_student, batch_id), rows in placed.items():
        batches[batch_id] = rows[0].batch
        wards[batch_id].update(row.ward_id for row in rows)
    return {batch_id: _by_ward(roster.rostered(session, wards[batch_id], batch.starts_on,
                                               batch.ends_on))
            for batch_id, batch in batches.items()}


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def student_results(session: Session, viewer: User, *, batch_id: int | None = None,
                    university_id: int | None = None, ward_id: int | None = None,
                    student_id: int | None = None, sort: str = "name", descending: bool = False,
                    tz: ZoneInfo | None = None) -> list[StudentResult]:
    """Per student and batch: tickets resolved (as assignee, in the batch's wards and
    dates), the share resolved on time, hours on duty, categories, the wards'
    evaluations and (when available) citizens' rating. Filtered and sorted.

    A university coordinator gets their university's students whatever *university_id*.
    """
    tz = tz or ZoneInfo(DEFAULT_TIMEZONE)
    scope = university_scope(viewer)
    if scope is not None:
        university_id = scope
    query = (select(StudentAssignment)
             .join(Batch, Batch.id == StudentAssignment.batch_id)
             .options(joinedload(StudentAssignment.student), joinedload(StudentAssignment.ward),
                      joinedload(StudentAssignment.batch),
                      joinedload(StudentAssignment.university_org)))
    for column, value in ((StudentAssignment.batch_id, batch_id),
                          (StudentAssignment.university_id, university_id),
                          (StudentAssignment.student_id, student_id)):
        if value is not None:
            query = query.where(column == value)
    if ward_id is not None:
        query = query.where(StudentAssignment.ward_id == ward_id)
    placed: dict[tuple[int, int], list[StudentAssignment]] = defaultdict(list)
    calendars: dict[int, WorkingCalendar] = {}
    for placement in session.scalars(query):
        placed[(placement.student_id, placement.batch_id)].append(placement)
    results: dict[tuple[int, int], StudentResult] = {}
    rosters = _batch_rosters(session, placed)
    for key, rows in placed.items():
        first, batch = rows[0], rows[0].batch
        org = first.university_org
        result = StudentResult(first.student_id, first.student.name, first.student.login,
                               batch.id, batch.name, batch.starts_on, batch.ends_on,
                               university=org.name if org else first.university,
                               university_id=first.university_id)
        for row in rows:
            if row.ward.name not in result.wards:
                result.wards.append(row.ward.name)
                result.ward_ids.append(row.ward_id)
        result.hours = hours_on_duty(session, rows, batch, calendars, rosters[batch.id])
        results[key] = result
    if not results:
        return []
    _count_tickets(session, results, placed, tz)
    _add_evaluations(session, results)
    _add_ratings(session, results)
    return _sorted(list(results.values()), sort, descending)


def _count_tickets(session: Session, results: dict[tuple[int, int], StudentResult],
                   placed: dict[tuple[int, int], list[StudentAssignment]], tz: ZoneInfo) -> None:
    students = {sid for sid, _ in results}
    first = min(r.starts_on for r in results.values())
    last = max(r.ends_on for r in results.values())
    start = dt.datetime.combine(first, dt.time(), tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
    by_student: dict[int, list[tuple[int, str, bool, dt.date]]] = defaultdict(list)
    for assignee, ward, category, breached, resolved_at in session.execute(
            select(Ticket.assignee_id, Ticket.ward_id, Ticket.category,
                   Ticket.resolution_breached, Ticket.resolved_at)
            .where(Ticket.assignee_id.in_(students), Ticket.resolved_at >= start,
                   Ticket.resolved_at < end,
                   Ticket.status.in_((Status.RESOLVED, Status.CLOSED)))):
        by_student[assignee].append((ward, category, breached, resolved_at.astimezone(tz).date()))
    for (sid, bid), result in results.items():
        for ward, category, breached, day in by_student.get(sid, ()):
            if any(p.ward_id == ward and p.starts_on <= day <= p.ends_on
                   and result.starts_on <= day <= result.ends_on for p in placed[(sid, bid)]):
                result.resolved += 1
                result.on_time += 0 if breached else 1
                result.categories[category] += 1


def _add_evaluations(session: Session, results: dict[tuple[int, int], StudentResult]) -> None:
    students = {sid for sid, _ in results}
    batch_ids = {bid for _, bid in results}
    evaluations = session.scalars(
        select(Evaluation).options(selectinload(Evaluation.scores)
                                   .joinedload(EvaluationScore.criterion))
        .where(Evaluation.student_id.in_(students), Evaluation.batch_id.in_(batch_ids))
        .order_by(Evaluation.id))
    for evaluation in evaluations:
        result = results.get((evaluation.student_id, evaluation.batch_id))
        if result is None:
            continue
        for score in sorted(evaluation.scores, key=lambda s: s.criterion.position):
            result.scores.setdefault(score.criterion.name, []).append(
                (score.score, score.criterion.scale_max))
        if evaluation.comment:
            result.comments.append(evaluation.comment)


def _add_ratings(session: Session, results: dict[tuple[int, int], StudentResult]) -> None:
    """Citizens' average rating at confirmation, per student, within each batch's dates:
    one query per batch."""
    by_batch: dict[int, list[StudentResult]] = defaultdict(list)
    for result in results.values():
        by_batch[result.batch_id].append(result)
    for rows in by_batch.values():
        period = reports.Period(rows[0].starts_on, rows[0].ends_on)
        found = ratings.ratings_for_students(session, [r.student_id for r in rows], period)
        for result in rows:
            summary = found.get(result.student_id)
            result.rating = summary.average if summary else None


def _sorted(rows: list[StudentResult], sort: str, descending: bool) -> list[StudentResult]:
    sort = sort if sort in SORT_KEYS else "name"
    keys: dict[str, Callable[[StudentResult], Any]] = {
        "name": lambda r: fold(r.name), "university": lambda r: fold(r.university),
        "batch": lambda r: r.starts_on, "resolved": lambda r: r.resolved,
        "on_time": lambda r: r.on_time_share if r.on_time_share is not None else -1,
        "hours": lambda r: r.hours,
        "evaluation": lambda r: r.evaluation if r.evaluation is not None else -1,
        "rating": lambda r: r.rating if r.rating is not None else -1}
    rows.sort(key=lambda r: (fold(r.name), r.batch_id))
    rows.sort(key=keys[sort], reverse=descending)
    return rows


@dataclass(frozen=True)
class WorkedTicket:
    """A ticket a student resolved, as a university coordinator may see it."""

    number: str
    category: str
    status: str
    ward: str
    resolved_at: dt.datetime | None
    title: str  # masked: citizen IDs, phone numbers and e-mails never show


def tickets_worked(session: Session, viewer: User, student_id: int,
                   limit: int = 200) -> list[WorkedTicket]:
    """The latest tickets *student_id* was assigned, within *viewer*'s scope: no
    description, no triage answers, no contact field, the title masked once more."""
    scope = university_scope(viewer)
    student = session.get(User, student_id)
    if student is None or student.role != Role.STUDENT:
        raise NotFound("There is no such student.")
    if scope is not None and not session.scalar(select(StudentAssignment.id).where(
            StudentAssignment.student_id == student_id,
            StudentAssignment.university_id == scope).limit(1)):
        raise NotFound("There is no such student.")
    rows = session.execute(
        select(Ticket.number, Ticket.category, Ticket.status, Ward.name, Ticket.resolved_at,
               Ticket.title)
        .join(Ward, Ward.id == Ticket.ward_id)
        .where(Ticket.assignee_id == student_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit))
    return [WorkedTicket(n, c, s, w, r, mask_personal_data(t)) for n, c, s, w, r, t in rows]


# --- export -------------------------------------------------------------------------------

def results_xlsx(rows: list[StudentResult], category_label: Callable[[str], str],
                 tz: ZoneInfo | None = None) -> bytes:
    """The table as an XLSX workbook (every text cell inert)."""
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(i18n.gettext("Students"))
    sheet.append(inert_row([
        i18n.gettext("Student"), i18n.gettext("Login"), i18n.gettext("University"),
        i18n.gettext("Batch"), i18n.gettext("From"), i18n.gettext("To"), i18n.gettext("Wards"),
        i18n.gettext("Tickets resolved"), i18n.gettext("On time (%)"),
        i18n.gettext("Hours on duty"), i18n.gettext("Categories"),
        i18n.gettext("Evaluation (of 10)"), i18n.gettext("Scores"),
        i18n.gettext("Citizens' rating"), i18n.gettext("Comments")]))
    for r in rows:
        share = r.on_time_share
        sheet.append(inert_row([
            r.name, r.login, r.university, r.batch, r.starts_on.strftime("%d/%m/%Y"),
            r.ends_on.strftime("%d/%m/%Y"), ", ".join(r.wards), r.resolved,
            round(100 * share, 1) if share is not None else None, r.hours,
            ", ".join(f"{category_label(k)}: {v}" for k, v in r.categories.most_common()),
            r.evaluation, r.score_text(), r.rating, " | ".join(r.comments)]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def university_name(session: Session, university_id: int | None) -> str:
    university = session.get(University, university_id) if university_id else None
    return university.name if university else ""
