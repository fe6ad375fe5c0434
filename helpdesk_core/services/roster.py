"""Duty roster per ward: a weekly pattern per placement, plus dated changes and swaps.

A ward's working day has up to two half-days (:class:`~helpdesk_core.models.ShiftPart`):
its first opening period is the morning, its second the afternoon, as the ward's
calendar says (``services/sla.calendar_for``: hours, Saturdays, holidays, days off).
A student is on duty in a half-day when

- the student is placed in the ward that day (a ``StudentAssignment`` covering it, with
  ``on_duty`` set) and the account is active, and
- the weekly pattern of that placement has the half-day (:class:`Shift`) and no approved
  :class:`ShiftChange` takes the student off it, or an approved change puts the student
  on it;
- and the ward works in that half-day (nobody is on duty on holidays or at night).

Coordinators edit the pattern and make dated changes (approved at once); students ask to
hand one of their half-days to a colleague or to take it off, and a coordinator decides.
:func:`on_duty` is what automatic assignment and notifications ask.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, false, func, null, or_, select
from sqlalchemy.orm import Session

from .. import i18n
from ..calendar import DEFAULT_TIMEZONE, Period, WorkingCalendar, parse_hhmm
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..i18n import N_
from ..models import (CalendarDay, ChangeStatus, Role, Shift, ShiftChange, ShiftPart, Status,
                      StudentAssignment, Ticket, User, Ward)
from . import sla

PART_LABELS = {ShiftPart.MORNING: N_("Morning"), ShiftPart.AFTERNOON: N_("Afternoon")}
WEEKDAY_LABELS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"),
                  N_("Friday"), N_("Saturday"))
NOTE_MAX = 200
WAITING_LIMIT = 200
# What calendars_on reads of a ward: a Ward or a row of these columns will do.
HOURS_COLUMNS = (Ward.id, Ward.morning_start, Ward.morning_end, Ward.afternoon_start,
                 Ward.afternoon_end, Ward.saturday_morning)
EDITORS = (Role.COORDINATOR, Role.ADMIN)


def _tz(tz_name: str | None) -> ZoneInfo:
    return ZoneInfo(tz_name or DEFAULT_TIMEZONE)


def parts_on(calendar: WorkingCalendar, day: dt.date) -> dict[str, Period]:
    """The half-days the ward works on *day*, with their hours (empty on a day off)."""
    return dict(zip(ShiftPart.ALL, calendar.periods_on(day)))


def part_at(calendar: WorkingCalendar, at: dt.datetime) -> tuple[dt.date, str] | None:
    """The (local day, half-day) *at* falls in, or None outside working hours."""
    local = at.astimezone(calendar.tz)
    for part, (start, end) in parts_on(calendar, local.date()).items():
        if start <= local.time().replace(tzinfo=None) <= end:
            return local.date(), part
    return None


# --- who is on duty -------------------------------------------------------------------

def rostered(session: Session, ward_ids: Iterable[int], first: dt.date,
             last: dt.date) -> dict[tuple[int, dt.date, str], set[int]]:
    """Student ids on the roster per (ward, day, half-day), days *first*..*last*.

    Pattern and approved changes only: the ward's calendar is not applied here (the
    callers know which half-days the ward works). Two queries, whatever the range.
    """
    ward_ids = list(ward_ids)
    # Active placements overlapping the days, each with its weekly shifts (if any).
    rows = session.execute(
        select(StudentAssignment.ward_id, StudentAssignment.student_id,
               StudentAssignment.starts_on, StudentAssignment.ends_on, Shift.weekday,
               Shift.part)
        .join(User, User.id == StudentAssignment.student_id)
        .outerjoin(Shift, Shift.assignment_id == StudentAssignment.id)
        .where(StudentAssignment.ward_id.in_(ward_ids), StudentAssignment.on_duty.is_(True),
               User.active.is_(True), User.role == Role.STUDENT,
               StudentAssignment.starts_on <= last, StudentAssignment.ends_on >= first)).all()
    placed: dict[tuple[int, dt.date], set[int]] = defaultdict(set)
    result: dict[tuple[int, dt.date, str], set[int]] = defaultdict(set)
    day = first
    while day <= last:
        for ward_id, student_id, starts_on, ends_on, weekday, part in rows:
            if starts_on <= day <= ends_on:
                placed[(ward_id, day)].add(student_id)
                if weekday == day.weekday():
                    result[(ward_id, day, part)].add(student_id)
        day += dt.timedelta(days=1)
    changes = session.execute(select(
        ShiftChange.ward_id, ShiftChange.day, ShiftChange.part, ShiftChange.off_id,
        ShiftChange.on_id).where(
        ShiftChange.ward_id.in_(ward_ids), ShiftChange.day >= first, ShiftChange.day <= last,
        ShiftChange.status == ChangeStatus.APPROVED).order_by(ShiftChange.id)).all()
    for ward_id, day, part, off_id, on_id in changes:  # in the order made: a later one wins
        cell = result[(ward_id, day, part)]
        if off_id is not None:
            cell.discard(off_id)
        if on_id is not None and on_id in placed[(ward_id, day)]:
            cell.add(on_id)
    return {key: ids for key, ids in result.items() if ids}


def calendars_on(session: Session, wards: Iterable[Ward], day: dt.date,
                 tz_name: str | None = None) -> dict[int, WorkingCalendar]:
    """Each ward's working calendar, right for *day* only (its declared day, if any).

    *wards*: Ward objects or rows of ``HOURS_COLUMNS``. One query for any number of wards
    (``sla.calendar_for`` reads one ward's whole year).
    """
    wards = list(wards)
    rows = session.execute(select(CalendarDay.ward_id, CalendarDay.is_working).where(
        CalendarDay.day == day,
        or_(CalendarDay.ward_id.in_([w.id for w in wards]), CalendarDay.ward_id.is_(None)))).all()
    city = next((r.is_working for r in rows if r.ward_id is None), None)
    own = {r.ward_id: r.is_working for r in rows if r.ward_id is not None}
    tz = _tz(tz_name)
    # Most wards keep the same hours: wards alike share one calendar (built once, and
    # on_duty_ids asks each distinct calendar once).
    shared: dict[tuple, WorkingCalendar] = {}
    result = {}
    for ward in wards:
        declared = own.get(ward.id, city)  # the ward's own declaration wins
        key = (ward.morning_start, ward.morning_end, ward.afternoon_start, ward.afternoon_end,
               bool(ward.saturday_morning), declared)
        calendar = shared.get(key)
        if calendar is None:
            calendar = shared[key] = _calendar_of(ward, day, declared, tz)
        result[ward.id] = calendar
    return result


def _calendar_of(ward: Ward, day: dt.date, declared: bool | None,
                 tz: ZoneInfo) -> WorkingCalendar:
    weekday = ((parse_hhmm(ward.morning_start), parse_hhmm(ward.morning_end)),
               (parse_hhmm(ward.afternoon_start), parse_hhmm(ward.afternoon_end)))
    return WorkingCalendar(
        weekday_periods=weekday, saturday_periods=weekday[:1] if ward.saturday_morning else (),
        days_off=frozenset({day}) if declared is False else frozenset(),
        working_days=frozenset({day}) if declared is True else frozenset(), tz=tz)


def on_duty_ids(session: Session, wards: Iterable[Ward], at: dt.datetime,
                tz_name: str | None = None) -> dict[int, set[int]]:
    """Ids of the students on duty at *at*, per ward: three queries for any number."""
    wards = list(wards)
    day = at.astimezone(_tz(tz_name)).date()
    slots: dict[int, str] = {}
    asked: dict[int, tuple[dt.date, str] | None] = {}  # by calendar (wards share them)
    for ward_id, calendar in calendars_on(session, wards, day, tz_name).items():
        if id(calendar) not in asked:
            asked[id(calendar)] = part_at(calendar, at)
        slot = asked[id(calendar)]
        if slot is not None:
            slots[ward_id] = slot[1]
    result: dict[int, set[int]] = {ward.id: set() for ward in wards}
    if slots:
        cells = rostered(session, slots, day, day)
        for ward_id, part in slots.items():
            result[ward_id] = set(cells.get((ward_id, day, part), ()))
    return result


def on_duty_by_ward(session: Session, ward_ids: Iterable[int], at: dt.datetime,
                    tz_name: str | None = None) -> dict[int, list[User]]:
    """:func:`on_duty` for several wards at once: ward id -> students (by name).

    A fixed number of queries, whatever the number of wards.
    """
    wards = session.execute(select(*HOURS_COLUMNS).where(Ward.id.in_(list(ward_ids)))).all()
    by_ward = on_duty_ids(session, wards, at, tz_name)
    ids = set().union(*by_ward.values()) if by_ward else set()
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids \
        else {}
    return {ward_id: sorted((people[i] for i in uids), key=lambda u: (u.name, u.id))
            for ward_id, uids in by_ward.items()}


def placed_on(session: Session, ward_id: int, day: dt.date) -> list[int]:
    """Ids of the active students placed in the ward on *day* (on the roster or not),
    by id: who the ward's work can reach when nobody is on duty."""
    placed = select(StudentAssignment.student_id).where(
        StudentAssignment.ward_id == ward_id, StudentAssignment.on_duty.is_(True),
        StudentAssignment.starts_on <= day, StudentAssignment.ends_on >= day)
    return list(session.scalars(select(User.id).where(
        User.id.in_(placed), User.role == Role.STUDENT, User.active.is_(True)).order_by(User.id)))


# What on_duty_or_placed may read along: (target, on clause, columns); see there.
Along = tuple[Any, Any, tuple]


def on_duty_or_placed(session: Session, ward_id: int, calendar: WorkingCalendar,
                      at: dt.datetime, *, along: Along | None = None,
                      receive: Callable[[int, tuple], None] | None = None) -> dict[int, User]:
    """Who the ward's news reaches at *at*: the students on duty (as :func:`on_duty`,
    with *calendar* the ward's own, ``sla.calendar_for``), else every active student
    placed in the ward that day (:func:`placed_on`); id -> user, by id.

    One query: the students placed that day, each with whether the weekly pattern has
    them on in the half-day of *at* and the last approved change of that half-day that
    names them (taking them off, or putting them on: the later one wins, as in
    :func:`rostered`).

    *along*: ``(target, on clause, columns)`` reads something of each student in the
    same query: *target* is outer-joined, and ``receive(student id, values)`` gets the
    *columns* of each row (the outbox reads the students' notification preferences so).
    Students the result leaves out may be received too. Pass the same *along* object
    each time: the statement is built once per *along*.
    """
    slot = part_at(calendar, at)
    day = slot[0] if slot is not None else at.astimezone(calendar.tz).date()
    params = {"duty_ward": ward_id, "duty_day": day}
    if slot is not None:
        params.update(duty_weekday=day.weekday(), duty_part=slot[1])
    placed: dict[int, User] = {}
    on: set[int] = set()
    # A row per placement of a student (and per joined row of *along*).
    for user, by_pattern, changed, *values in session.execute(
            _on_duty_query(slot is not None, along), params):
        placed[user.id] = user
        if receive is not None:
            receive(user.id, tuple(values))
        if changed is not None:
            if changed == user.id:
                on.add(user.id)
        elif by_pattern:
            on.add(user.id)
    if slot is not None and on:
        return {uid: user for uid, user in placed.items() if uid in on}
    return placed


@functools.lru_cache(maxsize=8)
def _on_duty_query(in_hours: bool, along: Along | None):
    """The statement of :func:`on_duty_or_placed`, built once (and its cache key)."""
    ward_id, day = bindparam("duty_ward"), bindparam("duty_day")
    if not in_hours:
        on_pattern, last_change = false(), null()
    else:
        part = bindparam("duty_part")
        on_pattern = select(Shift.id).where(
            Shift.assignment_id == StudentAssignment.id,
            Shift.weekday == bindparam("duty_weekday"), Shift.part == part).exists()
        # The change's on_id (0 when it only takes someone off); NULL: no change names them.
        last_change = select(func.coalesce(ShiftChange.on_id, 0)).where(
            ShiftChange.ward_id == ward_id, ShiftChange.day == day, ShiftChange.part == part,
            ShiftChange.status == ChangeStatus.APPROVED,
            or_(ShiftChange.off_id == User.id, ShiftChange.on_id == User.id)
        ).order_by(ShiftChange.id.desc()).limit(1).scalar_subquery()
    query = (select(User, on_pattern, last_change)
             .join(StudentAssignment, StudentAssignment.student_id == User.id)
             .where(StudentAssignment.ward_id == ward_id, StudentAssignment.on_duty.is_(True),
                    StudentAssignment.starts_on <= day, StudentAssignment.ends_on >= day,
                    User.role == Role.STUDENT, User.active.is_(True))
             .order_by(User.id))
    if along is not None:
        target, onclause, columns = along
        query = query.outerjoin(target, onclause).add_columns(*columns)
    return query


def on_duty(session: Session, ward_id: int, at: dt.datetime,
            tz_name: str | None = None) -> list[User]:
    """The students on duty in ward *ward_id* at the moment *at* (aware), by name.

    Empty outside the ward's working hours, on its days off, and when nobody is on the
    roster for that half-day (see the module's docstring for the rule).
    """
    return on_duty_by_ward(session, [ward_id], at, tz_name).get(ward_id, [])


# --- the week's grid --------------------------------------------------------------------

@dataclass
class Cell:
    """One half-day of the grid: its hours and who is on duty (None hours: closed)."""

    part: str
    hours: Period | None
    students: list[User] = field(default_factory=list)


@dataclass
class Day:
    """One day of the grid."""

    day: dt.date
    cells: list[Cell]

    @property
    def closed(self) -> bool:
        return all(c.hours is None for c in self.cells)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week(session: Session, ward: Ward, monday: dt.date, tz_name: str | None = None) -> list[Day]:
    """Monday to Saturday of the week starting *monday*: who is on duty, when."""
    calendar = sla.calendar_for(session, ward, tz_name or DEFAULT_TIMEZONE)
    saturday = monday + dt.timedelta(days=5)
    cells = rostered(session, [ward.id], monday, saturday)
    ids = {uid for uids in cells.values() for uid in uids}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids \
        else {}
    days = []
    for offset in range(6):
        day = monday + dt.timedelta(days=offset)
        hours = parts_on(calendar, day)
        row = []
        for part in ShiftPart.ALL:
            students = sorted((people[i] for i in cells.get((ward.id, day, part), ())),
                              key=lambda u: (u.name, u.id)) if part in hours else []
            row.append(Cell(part, hours.get(part), students))
        days.append(Day(day, row))
    return days


def placements_of(session: Session, ward_id: int, day: dt.date) -> list[StudentAssignment]:
    """Placements of the ward covering *day* (who may be on its roster), by name."""
    return list(session.scalars(
        select(StudentAssignment).join(User, User.id == StudentAssignment.student_id)
        .where(StudentAssignment.ward_id == ward_id, StudentAssignment.starts_on <= day,
               StudentAssignment.ends_on >= day, User.active.is_(True))
        .order_by(User.name, User.id)))


def pattern_of(session: Session, ward_id: int, day: dt.date) -> list[Shift]:
    """The weekly pattern of the ward's placements covering *day*."""
    return list(session.scalars(
        select(Shift).join(StudentAssignment, StudentAssignment.id == Shift.assignment_id)
        .join(User, User.id == StudentAssignment.student_id)
        .where(StudentAssignment.ward_id == ward_id, StudentAssignment.starts_on <= day,
               StudentAssignment.ends_on >= day)
        .order_by(Shift.weekday, Shift.part, User.name)))


def changes_of(session: Session, ward_id: int, first: dt.date, *,
               status: str | None = None) -> list[ShiftChange]:
    """Dated changes of the ward from *first* on (optionally of one status), by date."""
    query = select(ShiftChange).where(ShiftChange.ward_id == ward_id, ShiftChange.day >= first)
    if status is not None:
        query = query.where(ShiftChange.status == status)
    return list(session.scalars(query.order_by(ShiftChange.day, ShiftChange.part,
                                               ShiftChange.id)))


# --- changing the roster --------------------------------------------------------------------

def _require_editor(actor: User) -> None:
    if actor.role not in EDITORS:
        raise PermissionDenied("Only coordinators can change the roster.")


def _invalid(field_name: str, message: str, **params: object) -> ValidationFailed:
    return ValidationFailed(message, field_errors={field_name: [i18n.gettext(message, **params)]},
                            **params)


def set_shift(session: Session, actor: User, assignment: StudentAssignment, weekday: int,
              part: str) -> Shift:
    """Put a placed student on duty every *weekday* (0 Monday) in half-day *part*.

    Idempotent: an existing shift is returned as it is.
    :raises ValidationFailed: a day or half-day the ward never works.
    """
    _require_editor(actor)
    if part not in ShiftPart.ALL:
        raise _invalid("part", N_("Choose the morning or the afternoon."))
    ward = assignment.ward
    if not 0 <= weekday <= 5 or (weekday == 5 and not (ward.saturday_morning
                                                        and part == ShiftPart.MORNING)):
        raise _invalid("weekday", N_("The ward does not work on that day or half-day."))
    existing = session.scalar(select(Shift).where(
        Shift.assignment_id == assignment.id, Shift.weekday == weekday, Shift.part == part))
    if existing is not None:
        return existing
    shift = Shift(assignment=assignment, weekday=weekday, part=part)
    session.add(shift)
    session.flush()
    return shift


def remove_shift(session: Session, actor: User, shift: Shift) -> None:
    """Take a half-day out of the weekly pattern."""
    _require_editor(actor)
    session.delete(shift)
    session.flush()


def _placed(session: Session, ward_id: int, student_id: int, day: dt.date) -> bool:
    return session.scalar(select(StudentAssignment.id).where(
        StudentAssignment.ward_id == ward_id, StudentAssignment.student_id == student_id,
        StudentAssignment.starts_on <= day, StudentAssignment.ends_on >= day).limit(1)) is not None


def request_change(session: Session, actor: User, ward: Ward, day: dt.date, part: str, *,
                   off: User | None, on: User | None, note: str, today: dt.date,
                   now: dt.datetime, tz_name: str | None = None) -> ShiftChange:
    """A dated change of one half-day: *off* does not come, *on* comes instead.

    A coordinator's change is approved at once. A student may only hand over a half-day
    of their own (``off`` is the student), to a colleague placed in the ward or to
    nobody; it waits for a coordinator (:func:`decide`).
    :raises ValidationFailed: a past day, a half-day the ward does not work, *off* not on
        duty then, *on* not placed in the ward that day or already on duty.
    :raises PermissionDenied: a student asking for someone else, or staff.
    """
    if actor.role == Role.STUDENT:
        if off is None or off.id != actor.id:
            raise PermissionDenied("You can only ask to change your own shifts.")
    else:
        _require_editor(actor)
    if part not in ShiftPart.ALL:
        raise _invalid("part", N_("Choose the morning or the afternoon."))
    if off is None and on is None:
        raise _invalid("on", N_("Choose who comes instead, or who does not come."))
    if off is not None and on is not None and off.id == on.id:
        raise _invalid("on", N_("Choose someone else to come instead."))
    if day < today:
        raise _invalid("day", N_("Choose today or a later day."))
    calendar = sla.calendar_for(session, ward, tz_name or DEFAULT_TIMEZONE)
    if part not in parts_on(calendar, day):
        raise _invalid("day", N_("The ward does not work on that day or half-day."))
    cell = rostered(session, [ward.id], day, day).get((ward.id, day, part), set())
    if off is not None and off.id not in cell:
        raise _invalid("off", N_("%(name)s is not on duty then."), name=off.name)
    if on is not None:
        if not _placed(session, ward.id, on.id, day) or on.role != Role.STUDENT:
            raise _invalid("on", N_("%(name)s is not placed in this ward on that day."),
                           name=on.name)
        if on.id in cell:
            raise _invalid("on", N_("%(name)s is already on duty then."), name=on.name)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise _invalid("note", N_("At most %(num)d characters."), num=NOTE_MAX)
    from ..privacy import mask_personal_data
    editor = actor.role in EDITORS
    change = ShiftChange(ward_id=ward.id, day=day, part=part, off_id=off.id if off else None,
                         on_id=on.id if on else None, note=mask_personal_data(note),
                         requested_by_id=actor.id, created_at=now,
                         status=ChangeStatus.APPROVED if editor else ChangeStatus.PENDING,
                         decided_by_id=actor.id if editor else None,
                         decided_at=now if editor else None)
    session.add(change)
    session.flush()
    return change


def decide(session: Session, actor: User, change: ShiftChange, approve: bool,
           now: dt.datetime) -> ShiftChange:
    """Approve or refuse a student's pending request.

    :raises ValidationFailed: it was decided already.
    """
    _require_editor(actor)
    if change.status != ChangeStatus.PENDING:
        raise ValidationFailed("This request has already been decided.")
    change.status = ChangeStatus.APPROVED if approve else ChangeStatus.REFUSED
    change.decided_by_id, change.decided_at = actor.id, now
    session.flush()
    return change


def get_change(session: Session, ward_id: int, change_id: int) -> ShiftChange:
    change = session.get(ShiftChange, change_id)
    if change is None or change.ward_id != ward_id:
        raise NotFound("Not found.")
    return change


def get_shift(session: Session, ward_id: int, shift_id: int) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None or shift.assignment.ward_id != ward_id:
        raise NotFound("Not found.")
    return shift


# --- tickets nobody is there for --------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    """A new ticket nobody is on duty for: what the dashboard's list shows."""

    id: int
    number: str
    title: str
    priority: int
    created_at: dt.datetime
    ward_id: int
    ward_name: str


@functools.lru_cache(maxsize=1)
def _waiting_wards_query():
    """The wards with new unassigned tickets and how many each has, counted per ward (the
    same work as a probe per ward and a count apart, one query less); their hours (all
    calendars_on reads). Built once: building it cost more than running it on SQLite."""
    per_ward = (select(Ticket.ward_id, func.count().label("waiting"))
                .where(Ticket.status == Status.NEW, Ticket.assignee_id.is_(None))
                .group_by(Ticket.ward_id).subquery())
    return select(*HOURS_COLUMNS, per_ward.c.waiting).join(
        per_ward, per_ward.c.ward_id == Ward.id)


@functools.lru_cache(maxsize=8)
def _waiting_rows_query(wards: str | None, limit: int):
    """The oldest *limit* new unassigned tickets, of the wards ``ids`` (*wards* "in"), not
    of them ("not_in") or of any ward (None). Built once per shape.

    The first rows apart from the counts: count(*) OVER () beside a LIMIT makes
    PostgreSQL read every waiting ticket in date order (2.7 s at 1,000,000 tickets).
    """
    query = (select(Ticket.id, Ticket.number, Ticket.title, Ticket.priority,
                    Ticket.created_at, Ticket.ward_id, Ward.name)
             .join(Ward, Ward.id == Ticket.ward_id)
             .where(Ticket.status == Status.NEW, Ticket.assignee_id.is_(None))
             .order_by(Ticket.created_at, Ticket.id).limit(limit))
    if wards == "in":
        return query.where(Ticket.ward_id.in_(bindparam("ids", expanding=True)))
    if wards == "not_in":
        return query.where(Ticket.ward_id.not_in(bindparam("ids", expanding=True)))
    return query


@dataclass(frozen=True)
class WaitingList:
    """The first tickets of :func:`waiting_list`, and how many there are in all."""

    tickets: list[Waiting]
    total: int


def waiting_list(session: Session, now: dt.datetime, tz_name: str | None = None,
                 ward_ids: Iterable[int] | None = None,
                 limit: int = WAITING_LIMIT) -> WaitingList:
    """New, unassigned tickets of wards where nobody is on duty at *now*: the oldest
    *limit* and how many there are in all (the coordinators' dashboard's "waiting, no one
    on duty").

    Five queries, whatever the number of wards: the wards with such tickets and how many
    each has, their calendars for today, the roster, its changes, the first tickets.
    """
    query = _waiting_wards_query()
    if ward_ids is not None:
        query = query.where(Ward.id.in_(list(ward_ids)))
    wards = session.execute(query).all()
    staffed = on_duty_ids(session, wards, now, tz_name) if wards else {}
    busy = [w.id for w in wards if staffed.get(w.id)]
    unstaffed = [w.id for w in wards if not staffed.get(w.id)]
    total = sum(w.waiting for w in wards if not staffed.get(w.id))
    if not total:
        return WaitingList([], 0)
    if ward_ids is None and len(busy) < len(unstaffed):
        # *wards* are all the wards with such tickets: leaving the few staffed ones out
        # says the same with fewer ids (at night and on days off, none at all).
        shape, ids = ("not_in", busy) if busy else (None, [])
    else:
        shape, ids = "in", unstaffed
    rows = session.execute(_waiting_rows_query(shape, limit),
                           {"ids": ids} if shape else {}).all()
    return WaitingList([Waiting(*row) for row in rows], int(total))
