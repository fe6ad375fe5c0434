"""The duty roster, skills, automatic assignment's choice and help at the counter."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.errors import PermissionDenied, ValidationFailed
from helpdesk_core.models import CalendarDay, ChangeStatus, Role, ShiftPart, Status
from helpdesk_core.services import counter_help, reports, roster, skills, sla
from helpdesk_core.services.assignment import Candidate, choose

from ..factories import make_ticket, make_ward
from .conftest import quick_student, quick_user

MORNING, AFTERNOON = ShiftPart.MORNING, ShiftPart.AFTERNOON
C, D, N = skills.CONFIRMED, skills.DECLARED, skills.NONE

# --- the choice, as a table -------------------------------------------------------------

CASES = [
    # (what the case is about, candidates (id, on duty, skill, load), expected id)
    ("nobody placed", [], None),
    ("nobody on duty", [(1, False, C, 0), (2, False, N, 0)], None),
    ("the only one on duty, even busy and unskilled", [(1, False, C, 0), (2, True, N, 9)], 2),
    ("off duty never wins, however free and skilled", [(1, False, C, 0), (2, True, D, 5)], 2),
    ("confirmed beats declared", [(1, True, D, 0), (2, True, C, 0)], 2),
    ("declared beats none", [(1, True, N, 0), (2, True, D, 0)], 2),
    ("confirmed beats none even with more open tickets", [(1, True, N, 0), (2, True, C, 3)], 2),
    ("same skill: fewer open tickets", [(1, True, D, 2), (2, True, D, 1)], 2),
    ("same skill and load: lower id", [(3, True, C, 1), (2, True, C, 1)], 2),
    ("no skill anywhere: fewest open tickets", [(1, True, N, 4), (2, True, N, 0),
                                                 (3, False, N, 0)], 2),
    ("load ties across three", [(7, True, N, 1), (5, True, N, 1), (6, True, N, 1)], 5),
]


@pytest.mark.parametrize("about, rows, expected", CASES, ids=[c[0] for c in CASES])
def test_choose(about, rows, expected):
    assert choose([Candidate(*row) for row in rows]) == expected


# --- the roster ---------------------------------------------------------------------------

def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo
    return dt.datetime(day.year, day.month, day.day, hour, minute,
                       tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def placed(session, ward, today, **kwargs):
    """A student placed in *ward* with no shift yet; returns (student, placement)."""
    student = quick_student(session, ward, today, on_duty=False)
    placement = student.assignments[0]
    placement.on_duty = kwargs.get("on_duty", True)
    session.flush()
    return student, placement


def _agrees(session, ward, at):
    """The outbox's one query (on_duty_or_placed, on the ward's SLA calendar) gives
    who on_duty gives, else everyone placed that day (placed_on)."""
    day = at.astimezone(sla.calendar_for(session, ward).tz).date()
    expected = ([u.id for u in roster.on_duty(session, ward.id, at)]
                or roster.placed_on(session, ward.id, day))
    got = roster.on_duty_or_placed(session, ward.id, sla.calendar_for(session, ward), at)
    assert list(got) == sorted(expected)
    assert all(user.id == uid for uid, user in got.items())


def test_on_duty_follows_the_weekly_pattern_and_the_ward_hours(db_session, now):
    ward = make_ward(db_session)
    coordinator = quick_user(db_session, Role.COORDINATOR)
    today = now.date()  # Tuesday 10/03/2026
    tuan, tuan_p = placed(db_session, ward, today)
    trang, trang_p = placed(db_session, ward, today)
    roster.set_shift(db_session, coordinator, tuan_p, 1, MORNING)
    roster.set_shift(db_session, coordinator, trang_p, 1, AFTERNOON)
    assert roster.set_shift(db_session, coordinator, tuan_p, 1, MORNING).id  # idempotent
    assert roster.on_duty(db_session, ward.id, local(today, 9)) == [tuan]
    _agrees(db_session, ward, local(today, 9))
    assert roster.on_duty(db_session, ward.id, local(today, 14)) == [trang]
    _agrees(db_session, ward, local(today, 14))
    assert roster.on_duty(db_session, ward.id, local(today, 12)) == []   # lunch
    _agrees(db_session, ward, local(today, 12))
    assert roster.on_duty(db_session, ward.id, local(today, 20)) == []   # night
    _agrees(db_session, ward, local(today, 20))
    assert roster.on_duty(db_session, ward.id, local(today + dt.timedelta(days=1), 9)) == []
    _agrees(db_session, ward, local(today + dt.timedelta(days=1), 9))
    # A declared day off: nobody on duty, whatever the pattern says.
    db_session.add(CalendarDay(ward_id=ward.id, day=today + dt.timedelta(days=7),
                               is_working=False))
    db_session.flush()
    assert roster.on_duty(db_session, ward.id, local(today + dt.timedelta(days=7), 9)) == []
    _agrees(db_session, ward, local(today + dt.timedelta(days=7), 9))
    # The placement ends: its pattern ends with it.
    tuan_p.ends_on = today + dt.timedelta(days=6)
    db_session.flush()
    assert roster.on_duty(db_session, ward.id, local(today + dt.timedelta(days=14), 9)) == []
    _agrees(db_session, ward, local(today + dt.timedelta(days=14), 9))
    # Switched off the rotation, or a deactivated account: never on duty.
    trang_p.on_duty = False
    db_session.flush()
    assert roster.on_duty(db_session, ward.id, local(today, 14)) == []
    _agrees(db_session, ward, local(today, 14))


def test_saturday_and_sunday_shifts_follow_the_ward(db_session, now):
    ward = make_ward(db_session)
    coordinator = quick_user(db_session, Role.COORDINATOR)
    _, placement = placed(db_session, ward, now.date())
    with pytest.raises(ValidationFailed):
        roster.set_shift(db_session, coordinator, placement, 5, MORNING)  # closed Saturdays
    with pytest.raises(ValidationFailed):
        roster.set_shift(db_session, coordinator, placement, 6, MORNING)
    ward.saturday_morning = True
    roster.set_shift(db_session, coordinator, placement, 5, MORNING)
    with pytest.raises(ValidationFailed):
        roster.set_shift(db_session, coordinator, placement, 5, AFTERNOON)
    with pytest.raises(PermissionDenied):
        roster.set_shift(db_session, placement.student, placement, 0, MORNING)


def test_a_swap_counts_once_a_coordinator_approves_it(db_session, now):
    ward = make_ward(db_session)
    coordinator = quick_user(db_session, Role.COORDINATOR)
    today = now.date()
    tuan, tuan_p = placed(db_session, ward, today)
    trang, _ = placed(db_session, ward, today)
    stranger = quick_student(db_session, make_ward(db_session), today)
    roster.set_shift(db_session, coordinator, tuan_p, 3, MORNING)  # Thursdays
    thursday = today + dt.timedelta(days=2)
    change = roster.request_change(db_session, tuan, ward, thursday, MORNING, off=tuan,
                                   on=trang, note="Thi giữa kỳ, gọi 0905123456", today=today,
                                   now=now)
    assert change.status == ChangeStatus.PENDING and "0905123456" not in change.note
    assert roster.on_duty(db_session, ward.id, local(thursday, 9)) == [tuan]
    _agrees(db_session, ward, local(thursday, 9))
    roster.decide(db_session, coordinator, change, True, now)
    assert roster.on_duty(db_session, ward.id, local(thursday, 9)) == [trang]
    _agrees(db_session, ward, local(thursday, 9))
    assert roster.on_duty(db_session, ward.id, local(thursday + dt.timedelta(days=7), 9)) == [tuan]
    _agrees(db_session, ward, local(thursday + dt.timedelta(days=7), 9))
    with pytest.raises(ValidationFailed):
        roster.decide(db_session, coordinator, change, False, now)  # decided already

    refusals = [
        dict(actor=trang, off=tuan, on=trang),                    # someone else's shift
        dict(actor=tuan, off=tuan, on=stranger),                  # not placed in this ward
        dict(actor=tuan, off=tuan, on=trang, day=today - dt.timedelta(days=1)),  # past
        dict(actor=tuan, off=tuan, on=trang, day=today + dt.timedelta(days=5)),  # Sunday
        dict(actor=trang, off=trang, on=tuan, day=thursday + dt.timedelta(days=1)),  # not hers
        dict(actor=coordinator, off=None, on=None),
    ]
    for case in refusals:
        with pytest.raises((ValidationFailed, PermissionDenied)):
            roster.request_change(db_session, case["actor"], ward, case.get("day", thursday),
                                  MORNING, off=case["off"], on=case["on"], note="",
                                  today=today, now=now)
    # A coordinator's own change (an extra shift) counts at once.
    extra = roster.request_change(db_session, coordinator, ward, thursday, AFTERNOON, off=None,
                                  on=tuan, note="", today=today, now=now)
    assert extra.status == ChangeStatus.APPROVED
    assert roster.on_duty(db_session, ward.id, local(thursday, 15)) == [tuan]
    _agrees(db_session, ward, local(thursday, 15))
    grid = roster.week(db_session, ward, roster.monday_of(today))
    thursday_row = grid[3]
    assert [[u.id for u in c.students] for c in thursday_row.cells] == [[trang.id], [tuan.id]]
    assert grid[5].closed  # Saturday


def test_nobody_on_duty_the_ticket_waits_and_is_listed(db_session, registry, now):
    ward = make_ward(db_session, auto_assign=True)
    staffed = make_ward(db_session, auto_assign=True)
    coordinator = quick_user(db_session, Role.COORDINATOR)
    today = now.date()
    placed(db_session, ward, today)  # placed, but not on the roster
    student, placement = placed(db_session, staffed, today)
    roster.set_shift(db_session, coordinator, placement, now.weekday(), MORNING)
    waiting = make_ticket(db_session, registry, ward, now)
    taken = make_ticket(db_session, registry, staffed, now)
    assert (waiting.status, waiting.assignee_id) == (Status.NEW, None)
    assert taken.assignee_id == student.id
    assert [w.id for w in roster.waiting_list(db_session, now).tickets] == [waiting.id]
    # In the evening nobody is on duty anywhere: both new tickets would be listed.
    late = make_ticket(db_session, registry, staffed, local(today, 19))
    assert late.assignee_id is None
    assert {w.number for w in roster.waiting_list(db_session, local(today, 19)).tickets} == {
        waiting.number, late.number}


def test_the_waiting_list_gives_the_oldest_and_counts_them_all(db_session, registry, now):
    ward = make_ward(db_session, auto_assign=True)
    placed(db_session, ward, now.date())  # placed, but not on the roster
    filed = [make_ticket(db_session, registry, ward, now - dt.timedelta(minutes=m))
             for m in (30, 10, 20)]
    listed = roster.waiting_list(db_session, now, limit=2)
    assert [w.id for w in listed.tickets] == [filed[0].id, filed[2].id] and listed.total == 3
    assert roster.waiting_list(db_session, now, ward_ids=[-1]).total == 0


def test_automatic_assignment_prefers_a_confirmed_skill(db_session, registry, now):
    ward = make_ward(db_session, auto_assign=True)
    coordinator = quick_user(db_session, Role.COORDINATOR)
    known = list(registry.categories)
    novice = quick_student(db_session, ward, now.date())
    expert = quick_student(db_session, ward, now.date())
    skills.declare(db_session, expert, ["printer"], known, now)
    skills.declare(db_session, novice, ["printer", "network"], known, now)
    (printer_skill,) = skills.skills_of(db_session, expert.id).values()
    skills.confirm(db_session, coordinator, printer_skill, True, now)
    assert skills.levels_for(db_session, [novice.id, expert.id], "printer") == {
        novice.id: D, expert.id: C}
    first = make_ticket(db_session, registry, ward, now, category="printer",
                        triage={"symptom": "paper_jam", "connection": "usb", "error_code": ""})
    assert first.assignee_id == expert.id
    assert [e.kind for e in first.events] == ["filed", "assigned", "status"]
    # Network: the novice declared it, the expert did not, so the novice gets it.
    second = make_ticket(db_session, registry, ward, now)
    assert second.assignee_id == novice.id
    with pytest.raises(ValidationFailed):
        skills.declare(db_session, novice, ["teleportation"], known, now)
    with pytest.raises(PermissionDenied):
        skills.confirm(db_session, novice, printer_skill, True, now)
    skills.declare(db_session, expert, [], known, now)  # withdrawn with its confirmation
    assert skills.skills_of(db_session, expert.id) == {}


def test_counter_help_is_logged_masked_and_totalled(db_session, registry, now):
    ward = make_ward(db_session)
    other = make_ward(db_session)
    student = quick_student(db_session, ward, now.date())
    colleague = quick_student(db_session, ward, now.date())
    kinds = counter_help.kinds(registry.categories)
    assert list(kinds)[:5] == list(counter_help.FIXED_KINDS) and "printer" in kinds
    entry = counter_help.log_help(db_session, student, ward, "vneid_level2", kinds, now=now,
                                  note="Bà Lan, CCCD 048095012345", ward_ids=[ward.id])
    assert entry.people == 1 and "048095012345" not in entry.note
    counter_help.log_help(db_session, student, ward, "vneid_level2", kinds, people=3, now=now)
    counter_help.log_help(db_session, colleague, ward, "staff_question", kinds, now=now)
    counter_help.log_help(db_session, student, ward, "printer", kinds, now=now)
    for bad in (dict(kind="juggling"), dict(people=0), dict(people=101), dict(note="x" * 301)):
        with pytest.raises(ValidationFailed):
            counter_help.log_help(db_session, student, ward, bad.get("kind", "online_filing"),
                                  kinds, people=bad.get("people", 1), note=bad.get("note", ""),
                                  now=now)
    with pytest.raises(PermissionDenied):
        counter_help.log_help(db_session, student, other, "online_filing", kinds, now=now,
                              ward_ids=[ward.id])
    period = reports.make_period(now.date(), now.date(), now.date())
    mine = counter_help.counter_help_totals(db_session, student_ids=[student.id], period=period)
    assert [(t.kind, t.entries, t.people) for t in mine] == [("printer", 1, 1),
                                                            ("vneid_level2", 2, 4)]
    by_ward = counter_help.sum_by(counter_help.counter_help_totals(
        db_session, ward_ids=[ward.id], period=period), "ward_id")
    assert by_ward == {ward.id: (4, 6)}
    yesterday = reports.make_period(now.date() - dt.timedelta(days=1),
                                    now.date() - dt.timedelta(days=1), now.date())
    assert counter_help.counter_help_totals(db_session, ward_ids=[ward.id],
                                            period=yesterday) == []


def test_the_waiting_list_leaves_out_wards_with_someone_on_duty(db_session, registry, now):
    """Many wards waiting, one staffed (its ticket not taken automatically): the list says
    the same whether it names the unstaffed wards or leaves the staffed one out."""
    coordinator = quick_user(db_session, Role.COORDINATOR)
    staffed = make_ward(db_session, auto_assign=False)
    _, placement = placed(db_session, staffed, now.date())
    roster.set_shift(db_session, coordinator, placement, now.weekday(), MORNING)
    alone = [make_ward(db_session, auto_assign=False) for _ in range(3)]
    seen = make_ticket(db_session, registry, staffed, now - dt.timedelta(minutes=40))
    waiting = [make_ticket(db_session, registry, ward, now - dt.timedelta(minutes=m))
               for ward, m in zip(alone, (30, 10, 20))]
    assert seen.assignee_id is None
    listed = roster.waiting_list(db_session, now)
    assert [w.id for w in listed.tickets] == [waiting[0].id, waiting[2].id, waiting[1].id]
    assert listed.total == 3
    some = roster.waiting_list(db_session, now, ward_ids=[staffed.id, alone[1].id])
    assert [w.id for w in some.tickets] == [waiting[1].id] and some.total == 1
