"""Coordinators' figures: ward overview, SLA compliance, weekly volumes, student activity,
health board counts, and the rows of the CSV exports.

Every figure is one grouped query (or a fixed handful), whatever the number of wards or
tickets, so the city-wide dashboard stays fast with 94 wards.
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from dataclasses import dataclass, field
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..calendar import DEFAULT_TIMEZONE
from ..errors import ValidationFailed
from ..i18n import N_
from ..i18n import gettext
from ..models import (Asset, AssetCheck, Role, Source, Status, StudentAssignment, Ticket,
                      TicketEvent, User, Ward)
from ..text import fold

MAX_PERIOD_DAYS = 366
EXPORT_BATCH = 500


# --- periods ------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A range of local calendar days, both ends included."""

    start: dt.date
    end: dt.date
    tz_name: str = DEFAULT_TIMEZONE

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def start_utc(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), self.tz).astimezone(dt.timezone.utc)

    @property
    def end_utc(self) -> dt.datetime:
        """The first moment after the period (exclusive bound)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(),
                                   self.tz).astimezone(dt.timezone.utc)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def make_period(start: dt.date | None, end: dt.date | None, today: dt.date,
                default_days: int = 30, tz_name: str = DEFAULT_TIMEZONE) -> Period:
    """A validated period; missing ends default to the last *default_days* up to *today*.

    :raises ValidationFailed: end before start, or longer than a year.
    """
    end = end or today
    start = start or end - dt.timedelta(days=default_days - 1)
    if end < start:
        raise ValidationFailed("The end date must not be before the start date.",
                               field_errors={"end": [gettext(
                                   "The end date must not be before the start date.")]})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed("Choose a period of at most %(days)d days.", days=MAX_PERIOD_DAYS,
                               field_errors={"start": [gettext(
                                   "Choose a period of at most %(days)d days.",
                                   days=MAX_PERIOD_DAYS)]})
    return Period(start, end, tz_name)


# --- ward overview ------------------------------------------------------------------

@dataclass(frozen=True)
class WardLoad:
    """Open tickets of one ward right now."""

    ward_id: int
    code: str
    name: str
    open: int
    at_risk: int
    breached: int


def breached_clause(now: Any):
    """SQL: an open ticket that missed (or is past) its response or resolution target.

    *now*: a moment, or a bound parameter standing for one.
    """
    return or_(Ticket.response_breached.is_(True), Ticket.resolution_breached.is_(True),
               and_(Ticket.paused_at.is_(None), Ticket.resolution_due_at < now),
               and_(Ticket.responded_at.is_(None), Ticket.paused_at.is_(None),
                    Ticket.response_due_at < now))


def ward_load(session: Session, now: dt.datetime,
              ward_ids: frozenset[int] | None = None) -> list[WardLoad]:
    """Open, at-risk and breached tickets per active ward, in one grouped query.

    A breached ticket is not also counted as at risk.
    """
    params: dict[str, object] = {"now": now}
    if ward_ids is not None:
        params["ward_ids"] = list(ward_ids) or [-1]
    query = _ward_load_query(ward_ids is not None,
                             session.get_bind().dialect.name == "postgresql")
    rows = [WardLoad(*row[:3], int(row[3]), int(row[4]), int(row[5]))
            for row in session.execute(query, params)]
    return sorted(rows, key=lambda r: (fold(r.name), r.code))


@functools.lru_cache(maxsize=4)
def _ward_load_query(some_wards: bool, grouped_first: bool):
    """Built once (the dashboard asks on every look; building it cost more than running
    it on SQLite): the moment and the wards are bound parameters.

    *grouped_first*: count per ward in a subquery, then join the wards (PostgreSQL: no
    hash join of every open ticket, 150 -> 100 ms at 1,000,000 tickets). SQLite does
    better the other way round (the subquery went through another index: 0.7 -> 2 ms).
    """
    is_open = Ticket.status.in_(Status.OPEN)
    breached = breached_clause(bindparam("now"))
    at_risk = and_(Ticket.at_risk.is_(True), ~breached)
    if grouped_first:
        per_ward = (select(Ticket.ward_id, func.count().label("open"),
                           func.count().filter(at_risk).label("at_risk"),
                           func.count().filter(breached).label("breached"))
                    .where(is_open).group_by(Ticket.ward_id).subquery())
        query = (select(Ward.id, Ward.code, Ward.name, func.coalesce(per_ward.c.open, 0),
                        func.coalesce(per_ward.c.at_risk, 0),
                        func.coalesce(per_ward.c.breached, 0))
                 .outerjoin(per_ward, per_ward.c.ward_id == Ward.id)
                 .where(Ward.active.is_(True)))
    else:
        # count(ward_id), not count(id): every column read is in ix_ticket_open_load, so
        # the database answers from the index alone.
        query = (select(Ward.id, Ward.code, Ward.name,
                        func.count(Ticket.ward_id),
                        func.coalesce(func.sum(case((at_risk, 1), else_=0)), 0),
                        func.coalesce(func.sum(case((breached, 1), else_=0)), 0))
                 .select_from(Ward)
                 .outerjoin(Ticket, and_(Ticket.ward_id == Ward.id, is_open))
                 .where(Ward.active.is_(True))
                 .group_by(Ward.id, Ward.code, Ward.name))
    if some_wards:
        query = query.where(Ward.id.in_(bindparam("ward_ids", expanding=True)))
    return query


# --- SLA compliance ------------------------------------------------------------------

@dataclass(frozen=True)
class Compliance:
    """Tickets resolved in a period and how many met their resolution target."""

    ward_id: int | None
    code: str
    name: str
    resolved: int
    met: int

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.met / self.resolved, 1) if self.resolved else None


def sla_compliance(session: Session, period: Period) -> tuple[list[Compliance], Compliance]:
    """Per ward and overall: tickets resolved in *period*, and those within target.

    A ticket counts once, in the period of its (latest) resolution; it met its target when
    it was resolved by its resolution due time and was never flagged as breached.

    Every active ward has a row, also one that resolved nothing (an outer join on the
    wards: such a ward shows 0 resolved and no percentage); an inactive ward appears only
    if it resolved something in the period.
    """
    met = and_(Ticket.resolution_breached.is_(False),
               or_(Ticket.resolution_due_at.is_(None),
                   Ticket.resolved_at <= Ticket.resolution_due_at))
    # Counted per ward first, over the range of resolved_at (ix_ticket_resolved covers
    # it), then joined to the wards: joined the other way round, SQLite walked every
    # resolved ticket of each ward through another index.
    per_ward = (select(Ticket.ward_id, func.count().label("resolved"),
                       func.sum(case((met, 1), else_=0)).label("met"))
                .where(Ticket.resolved_at >= period.start_utc,
                       Ticket.resolved_at < period.end_utc,
                       Ticket.status.in_((Status.RESOLVED, Status.CLOSED)))
                .group_by(Ticket.ward_id).subquery())
    query = (select(Ward.id, Ward.code, Ward.name, func.coalesce(per_ward.c.resolved, 0),
                    func.coalesce(per_ward.c.met, 0))
             .outerjoin(per_ward, per_ward.c.ward_id == Ward.id)
             .where(or_(Ward.active.is_(True), per_ward.c.resolved > 0)))
    rows = sorted((Compliance(row[0], row[1], row[2], int(row[3]), int(row[4]))
                   for row in session.execute(query)), key=lambda r: (fold(r.name), r.code))
    overall = Compliance(None, "", gettext("All wards"), sum(r.resolved for r in rows),
                         sum(r.met for r in rows))
    return rows, overall


# --- weekly volumes ------------------------------------------------------------------

@dataclass
class WeeklyVolumes:
    """Tickets filed per category and week (weeks start on the period's first day)."""

    weeks: list[dt.date]
    counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def maximum(self) -> int:
        return max((max(v) for v in self.counts.values() if v), default=0)

    def total(self, category: str) -> int:
        return sum(self.counts.get(category, []))


def weekly_volumes(session: Session, period: Period,
                   ward_ids: frozenset[int] | None = None) -> WeeklyVolumes:
    """Tickets filed per category and week of *period*, in one grouped query.

    The week of each ticket is a ``CASE`` over the week boundaries, so the grouping runs
    in the database on every engine.
    """
    weeks = [period.start + dt.timedelta(days=7 * i) for i in range((period.days + 6) // 7)]
    bounds = [dt.datetime.combine(w + dt.timedelta(days=7), dt.time(), period.tz)
              .astimezone(dt.timezone.utc) for w in weeks]
    week_of = case(*[(Ticket.created_at < bound, index) for index, bound in enumerate(bounds)],
                   else_=len(weeks) - 1)
    query = (select(Ticket.category, week_of.label("week"), func.count())
             .where(Ticket.created_at >= period.start_utc, Ticket.created_at < period.end_utc)
             .group_by(Ticket.category, week_of))
    if ward_ids is not None:
        query = query.where(Ticket.ward_id.in_(ward_ids or [-1]))
    result = WeeklyVolumes(weeks)
    for category, week, count in session.execute(query):
        result.counts.setdefault(category, [0] * len(weeks))[int(week)] += int(count)
    return result


# --- students' activity ----------------------------------------------------------------

@dataclass
class StudentActivity:
    """What one student did in a period, for their evaluation."""

    student_id: int
    login: str
    name: str
    universities: list[str] = field(default_factory=list)
    wards: list[str] = field(default_factory=list)
    claimed: int = 0
    resolved: int = 0
    comments: int = 0
    response_minutes: list[float] = field(default_factory=list)
    resolution_minutes: list[float] = field(default_factory=list)

    @staticmethod
    def _median(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 1) if values else None

    @property
    def median_response(self) -> float | None:
        return self._median(self.response_minutes)

    @property
    def average_response(self) -> float | None:
        return self._mean(self.response_minutes)

    @property
    def median_resolution(self) -> float | None:
        return self._median(self.resolution_minutes)

    @property
    def average_resolution(self) -> float | None:
        return self._mean(self.resolution_minutes)


def student_activity(session: Session, period: Period) -> list[StudentActivity]:
    """Per student placed in a ward during *period* (or active in it): claims,
    resolutions, comments, and elapsed minutes from filing to first response and to
    resolution of the tickets they held. Three queries in all.
    """
    start, end = period.start_utc, period.end_utc
    students: dict[int, StudentActivity] = {}

    def entry(user_id: int, login: str, name: str) -> StudentActivity:
        if user_id not in students:
            students[user_id] = StudentActivity(user_id, login, name)
        return students[user_id]

    placements = session.execute(
        select(User.id, User.login, User.name, StudentAssignment.university, Ward.name)
        .join(StudentAssignment, StudentAssignment.student_id == User.id)
        .join(Ward, Ward.id == StudentAssignment.ward_id)
        .where(User.role == Role.STUDENT, StudentAssignment.starts_on <= period.end,
               StudentAssignment.ends_on >= period.start)
        .order_by(User.name, StudentAssignment.starts_on))
    for user_id, login, name, university, ward_name in placements:
        row = entry(user_id, login, name)
        if university not in row.universities:
            row.universities.append(university)
        if ward_name not in row.wards:
            row.wards.append(ward_name)

    in_period = and_(TicketEvent.created_at >= start, TicketEvent.created_at < end)
    events = session.execute(
        select(User.id, User.login, User.name,
               func.coalesce(func.sum(case((TicketEvent.kind == "assigned", 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(TicketEvent.kind == "status",
                                                 TicketEvent.new_value == Status.RESOLVED), 1),
                                           else_=0)), 0),
               func.coalesce(func.sum(case((TicketEvent.kind == "comment", 1), else_=0)), 0))
        .join(TicketEvent, TicketEvent.actor_id == User.id)
        .where(User.role == Role.STUDENT, in_period,
               TicketEvent.kind.in_(("assigned", "status", "comment")))
        .group_by(User.id, User.login, User.name))
    for user_id, login, name, claimed, resolved, comments in events:
        row = entry(user_id, login, name)
        row.claimed, row.resolved, row.comments = int(claimed), int(resolved), int(comments)

    held = session.execute(
        select(User.id, User.login, User.name, Ticket.created_at, Ticket.responded_at,
               Ticket.resolved_at)
        .join(Ticket, Ticket.assignee_id == User.id)
        .where(User.role == Role.STUDENT,
               or_(and_(Ticket.responded_at >= start, Ticket.responded_at < end),
                   and_(Ticket.resolved_at >= start, Ticket.resolved_at < end))))
    for user_id, login, name, created, responded, resolved_at in held:
        row = entry(user_id, login, name)
        if responded is not None and start <= responded < end:
            row.response_minutes.append((responded - created).total_seconds() / 60.0)
        if resolved_at is not None and start <= resolved_at < end:
            row.resolution_minutes.append((resolved_at - created).total_seconds() / 60.0)
    return sorted(students.values(), key=lambda s: (fold(s.name), s.login))


# --- health board ---------------------------------------------------------------------

RED_STATUSES = ("failure", "error")
AMBER_STATUSES = ("warning",)


# Built once: the dashboard asks on every look (it has no parameter).
_HEALTH_COUNTS = (select(AssetCheck.last_status, func.count(AssetCheck.id))
                  .join(Asset, Asset.id == AssetCheck.asset_id)
                  .where(AssetCheck.enabled.is_(True), Asset.active.is_(True))
                  .group_by(AssetCheck.last_status))


def health_counts(session: Session) -> dict[str, int]:
    """Enabled checks of active assets by latest status: ``{"red": n, "amber": n, ...}``."""
    rows = session.execute(_HEALTH_COUNTS)
    counts = {"red": 0, "amber": 0, "ok": 0, "unknown": 0}
    for status, count in rows:
        key = ("red" if status in RED_STATUSES else "amber" if status in AMBER_STATUSES
               else "ok" if status == "ok" else "unknown")
        counts[key] += int(count)
    return counts


# --- exports -------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportFilter:
    """Which tickets an export holds: filed in *period*, optionally one ward and status."""

    period: Period
    ward_id: int | None = None
    status: str | None = None  # a status, "open", or None for all


# How a ticket came in, as exports and pages name it (the stored value is a code).
SOURCE_LABELS = {Source.FRONT_DESK: N_("Ward staff"), Source.PHONE: N_("Phone"),
                 Source.HEALTH_CHECK: N_("Automatic health check"),
                 Source.API: N_("Another system (API)")}


def iter_export_tickets(session: Session, filters: ExportFilter,
                        batch_size: int = EXPORT_BATCH) -> Iterator[tuple]:
    """Rows for the ticket export, fetched in batches of *batch_size* (keyset on id).

    Each row: (number, ward code, ward name, category, title, status, priority, source,
    created_at, responded_at, resolved_at, closed_at, resolution_due_at, at_risk,
    breached, assignee name, citizen waiting). No reporter, phone or description:
    personal data stays home.
    """
    assignee = aliased(User)
    base = (select(Ticket.id, Ticket.number, Ward.code, Ward.name, Ticket.category,
                   Ticket.title, Ticket.status, Ticket.priority, Ticket.source,
                   Ticket.created_at, Ticket.responded_at, Ticket.resolved_at, Ticket.closed_at,
                   Ticket.resolution_due_at, Ticket.at_risk,
                   or_(Ticket.response_breached, Ticket.resolution_breached), assignee.name,
                   Ticket.citizen_waiting)
            .join(Ward, Ward.id == Ticket.ward_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .where(Ticket.created_at >= filters.period.start_utc,
                   Ticket.created_at < filters.period.end_utc))
    if filters.ward_id:
        base = base.where(Ticket.ward_id == filters.ward_id)
    if filters.status == "open":
        base = base.where(Ticket.status.in_(Status.OPEN))
    elif filters.status:
        base = base.where(Ticket.status == filters.status)
    last_id = 0
    while True:
        rows = session.execute(base.where(Ticket.id > last_id).order_by(Ticket.id)
                               .limit(batch_size)).all()
        for row in rows:
            yield tuple(row[1:])
        if len(rows) < batch_size:
            return
        last_id = rows[-1][0]
