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
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import i18n
from ..calendar import DEFAULT_TIMEZONE, Period, WorkingCalendar
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..i18n import N_
from ..models import (ChangeStatus, Role, Shift, ShiftChange, ShiftPart, Status,
                      StudentAssignment, Ticket, User, Ward)
from . import sla

PART_LABELS = {ShiftPart.MORNING: N_("Morning"), ShiftPart.AFTERNOON: N_("Afternoon")}
WEEKDAY_LABELS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"),
                  N_("Friday"), N_("Saturday"))
NOTE_MAX = 200
WAITING_LIMIT = 200
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

def _placements(session: Session, ward_ids: Iterable[int], first: dt.date,
                last: dt.date) -> list[StudentAssignment]:
    """Active placements in *ward_ids* overlapping the days *first*..*last*."""
    return list(session.scalars(
        select(StudentAssignment).join(User, User.id == StudentAssignment.student_id)
        .where(StudentAssignment.ward_id.in_(list(ward_ids)),
               StudentAssignment.on_duty.is_(True), User.active.is_(True),
               User.role == Role.STUDENT,
               StudentAssignment.starts_on <= last, StudentAssignment.ends_on >= first)))


def rostered(session: Session, ward_ids: Iterable[int], first: dt.date,
             last: dt.date) -> dict[tuple[int, dt.date, str], set[int]]:
    """Student ids on the roster per (ward, day, half-day), days *first*..*last*.

    Pattern and approved changes only: the ward's calendar is not applied here (the
    callers know which half-days the ward works). A few queries, whatever the range.
    """
    ward_ids = list(ward_ids)
    placements = _placements(session, ward_ids, first, last)
    shifts: dict[int, list[Shift]] = defaultdict(list)
    if placements:
        for shift in session.scalars(select(Shift).where(
                Shift.assignment_id.in_([p.id for p in placements]))):
            shifts[shift.assignment_id].append(shift)
    placed: dict[tuple[int, dt.date], set[int]] = defaultdict(set)
    result: dict[tuple[int, dt.date, str], set[int]] = defaultdict(set)
    day = first
    while day <= last:
        for p in placements:
            if p.starts_on <= day <= p.ends_on:
                placed[(p.ward_id, day)].add(p.student_id)
                for shift in shifts[p.id]:
                    if shift.weekday == day.weekday():
                        result[(p.ward_id, day, shift.part)].add(p.student_id)
        day += dt.timedelta(days=1)
    changes = session.scalars(select(ShiftChange).where(
        ShiftChange.ward_id.in_(ward_ids), ShiftChange.day >= first, ShiftChange.day <= last,
        ShiftChange.status == ChangeStatus.APPROVED).order_by(ShiftChange.id))
    for change in changes:  # in the order they were made: a later one wins
        cell = result[(change.ward_id, change.day, change.part)]
        if change.off_id is not None:
            cell.discard(change.off_id)
        if change.on_id is not None and change.on_id in placed[(change.ward_id, change.day)]:
            cell.add(change.on_id)
    return {key: ids for key, ids in result.items() if ids}


def on_duty_by_ward(session: Session, ward_ids: Iterable[int], at: dt.datetime,
                    tz_name: str | None = None) -> dict[int, list[User]]:
    """:func:`on_duty` for several wards at once: ward id -> students (by name)."""
    wards = list(session.scalars(select(Ward).where(Ward.id.in_(list(ward_ids)))))
    slots: dict[int, tuple[dt.date, str]] = {}
    for ward in wards:
        slot = part_at(sla.calendar_for(session, ward, tz_name or DEFAULT_TIMEZONE), at)
        if slot is not None:
            slots[ward.id] = slot
    result: dict[int, list[User]] = {ward.id: [] for ward in wards}
    if not slots:
        return result
    day = at.astimezone(_tz(tz_name)).date()
    cells = rostered(session, slots, day, day)
    ids = {uid for key, uids in cells.items() for uid in uids}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids \
        else {}
    for ward_id, (slot_day, part) in slots.items():
        result[ward_id] = sorted((people[i] for i in cells.get((ward_id, slot_day, part), ())),
                                 key=lambda u: (u.name, u.id))
    return result


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

def waiting_unstaffed(session: Session, now: dt.datetime, tz_name: str | None = None,
                      ward_ids: Iterable[int] | None = None) -> list[Ticket]:
    """New, unassigned tickets of wards where nobody is on duty at *now*, oldest first.

    What the coordinators' dashboard lists as "waiting, no one on duty". At most
    ``WAITING_LIMIT`` tickets. The wards with such tickets come first (one grouped read
    of the queue's index), then who is on duty in those wards only.
    """
    waiting = select(Ticket.ward_id).where(Ticket.status == Status.NEW,
                                           Ticket.assignee_id.is_(None))
    if ward_ids is not None:
        waiting = waiting.where(Ticket.ward_id.in_(list(ward_ids)))
    wards = set(session.scalars(waiting.distinct()))
    if not wards:
        return []
    staffed = on_duty_by_ward(session, wards, now, tz_name)
    empty = [w for w in wards if not staffed.get(w)]
    if not empty:
        return []
    return list(session.scalars(
        select(Ticket).where(Ticket.status == Status.NEW, Ticket.assignee_id.is_(None),
                             Ticket.ward_id.in_(empty))
        .order_by(Ticket.created_at, Ticket.id).limit(WAITING_LIMIT)))
