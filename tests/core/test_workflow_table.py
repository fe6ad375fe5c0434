"""Every cell of the transition table: each action x each role (system too) x each status.

Parametrized from ``workflow.ACTIONS``, so changing the table changes what is tested.
Allowed moves must succeed and leave the right events; refused ones must raise a domain
error and change nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.errors import (HelpdeskError, NotFound, PermissionDenied,
                                  TransitionNotAllowed, ValidationFailed)
from helpdesk_core.models import Role, Status, Ticket
from helpdesk_core.services import sla, tickets, workflow

from ..factories import make_ticket, make_ward
from .conftest import quick_student, quick_user

ROLES = (*Role.ALL, Role.SYSTEM)
REASON = "Lý do kiểm thử"


def place(session, registry, cast, status: str, now: dt.datetime) -> Ticket:
    """A ticket of the cast's ward, reported by its staff, put straight into *status*.

    Every status but ``new`` has the cast's student as assignee (so students act on
    their own tickets).
    """
    ticket = make_ticket(session, registry, cast.ward, now, reporter=cast.staff)
    if status != Status.NEW:
        ticket.assignee = cast.student
    ticket.status = status
    if status in sla.CLOCK_STOPPED:
        sla.pause(ticket, now)
    if status in (Status.RESOLVED, Status.CLOSED):
        ticket.resolved_at = now
    if status == Status.CLOSED:
        ticket.closed_at = now
    sla.refresh_next(ticket)
    session.flush()
    return ticket


def snapshot(ticket: Ticket) -> dict:
    return {attr.key: getattr(ticket, attr.key) for attr in Ticket.__mapper__.column_attrs}


def arguments(action: str, cast) -> dict:
    kwargs = {}
    if workflow.ACTIONS[action].needs_reason:
        kwargs["reason"] = REASON
    if action == "assign":
        kwargs["assignee"] = cast.other_student
    return kwargs


@pytest.mark.parametrize("action", list(workflow.ACTIONS))
def test_transition_table_cells(db_session, registry, cast, now, action):
    """One action, every role (system too) from every status: 45 cells."""
    for role in ROLES:
        for status in Status.ALL:
            check_cell(db_session, registry, cast, now, action, role, status)


def check_cell(db_session, registry, cast, now, action, role, status):
    """Allowed: it succeeds with the right status and events. Refused: nothing changes."""
    spec = workflow.ACTIONS[action]
    actor = cast.actor(role)
    later = now + dt.timedelta(minutes=1)
    cell = f"{action} by {role} from {status}"
    ticket = place(db_session, registry, cast, status, now)
    seen = {event.id for event in ticket.events}
    if workflow.is_allowed(action, role, status):
        had_assignee = ticket.assignee_id is not None
        tickets.perform(db_session, registry, ticket, actor, action, later,
                        **arguments(action, cast))
        expected = workflow.target_status(action, status, had_assignee, 0)
        assert ticket.status == expected, cell
        new = [e for e in ticket.events if e.id not in seen]
        assert new, f"{cell} left no event"
        for event in new:
            assert event.actor_id == (actor.id if actor else None), cell
            assert event.created_at == later, cell
        changes = [(e.old_value, e.new_value, e.data.get("action"))
                   for e in new if e.kind == "status"]
        if expected != status or action not in ("assign", "escalate"):
            assert changes == [(status, expected, action)], cell
        else:
            assert changes == [], cell
        kinds = {e.kind for e in new}
        if action in ("claim", "assign"):
            assigned = [e for e in new if e.kind == "assigned"]
            who = cast.student if action == "claim" else cast.other_student
            assert [e.new_value for e in assigned] == [str(who.id)]
            assert ticket.assignee_id == who.id
        if action == "escalate":
            assert [(e.old_value, e.new_value, e.body) for e in new if e.kind == "escalated"] \
                == [("0", "1", REASON)]
            assert ticket.escalation_level == 1
        assert kinds <= {"status", "assigned", "escalated"}, (cell, kinds)
        if spec.needs_reason:
            assert all(e.body == REASON for e in new if e.kind == "status")
    else:
        before = snapshot(ticket)
        with pytest.raises(HelpdeskError) as error:
            tickets.perform(db_session, registry, ticket, actor, action, later,
                            **arguments(action, cast))
        expected_error = PermissionDenied if role not in spec.allowed else TransitionNotAllowed
        if role == Role.UNIVERSITY:
            expected_error = NotFound  # a university's coordinator sees no ticket at all
        assert type(error.value) is expected_error, (cell, error.value)
        assert error.value.localized()
        assert snapshot(ticket) == before, cell
        assert {e.id for e in ticket.events} == seen
        assert not db_session.new and not db_session.is_modified(ticket)
    db_session.flush()


@pytest.mark.parametrize("role", ROLES)
def test_allowed_actions_list_exactly_the_table(db_session, registry, cast, now, role):
    actor = cast.actor(role)
    for status in Status.ALL:
        ticket = place(db_session, registry, cast, status, now)
        expected = [a for a in workflow.ACTIONS if workflow.is_allowed(a, role, status)]
        assert tickets.allowed_actions(db_session, ticket, actor, now.date()) == expected


def test_every_status_has_a_label_and_every_target_is_a_status():
    assert set(workflow.STATUS_LABELS) == set(Status.ALL)
    for name, spec in workflow.ACTIONS.items():
        assert spec.target is None or spec.target in Status.ALL, name
        for role, statuses in spec.allowed.items():
            assert role in ROLES and statuses <= set(Status.ALL), name


def test_staff_of_another_ward_and_unplaced_students_see_nothing(db_session, registry, cast, now):
    elsewhere = make_ward(db_session)
    outsider_staff = quick_user(db_session, Role.STAFF, ward=elsewhere)
    outsider_student = quick_student(db_session, elsewhere, now.date())
    for status in Status.ALL:
        ticket = place(db_session, registry, cast, status, now)
        before = snapshot(ticket)
        for actor in (outsider_staff, outsider_student):
            for action in workflow.ACTIONS:
                with pytest.raises(NotFound):
                    tickets.perform(db_session, registry, ticket, actor, action, now,
                                    **arguments(action, cast))
        assert snapshot(ticket) == before


def test_a_student_whose_placement_ended_loses_the_ward(db_session, registry, cast, now):
    ticket = place(db_session, registry, cast, Status.IN_PROGRESS, now)
    after_placement = now + dt.timedelta(days=91)
    with pytest.raises(NotFound):
        tickets.perform(db_session, registry, ticket, cast.student, "resolve", after_placement,
                        reason=REASON)


def test_students_work_only_their_own_tickets(db_session, registry, cast, now):
    ticket = place(db_session, registry, cast, Status.IN_PROGRESS, now)
    with pytest.raises(PermissionDenied, match="assigned to someone else"):
        tickets.perform(db_session, registry, ticket, cast.other_student, "resolve", now,
                        reason=REASON)
    # Escalated by a coordinator before anyone claimed it: a student must be assigned first.
    unassigned = place(db_session, registry, cast, Status.NEW, now)
    tickets.perform(db_session, registry, unassigned, cast.coordinator, "escalate", now,
                    reason=REASON)
    assert unassigned.status == Status.WAITING_CITY
    with pytest.raises(PermissionDenied, match="Claim the ticket first"):
        tickets.perform(db_session, registry, unassigned, cast.student, "resume", now)
    assert tickets.allowed_actions(db_session, unassigned, cast.student, now.date()) == []


def test_escalation_goes_city_then_vendor_then_stops(db_session, registry, cast, now):
    ticket = place(db_session, registry, cast, Status.IN_PROGRESS, now)
    tickets.perform(db_session, registry, ticket, cast.student, "escalate", now, reason="Gọi 1022")
    assert (ticket.status, ticket.escalation_level) == (Status.WAITING_CITY, workflow.LEVEL_CITY)
    assert ticket.paused_at is None  # the city hotline is the helpdesk's own chain
    tickets.perform(db_session, registry, ticket, cast.coordinator, "escalate", now,
                    reason="Cần hãng bảo hành")
    assert (ticket.status, ticket.escalation_level) == (Status.WAITING_VENDOR, workflow.LEVEL_VENDOR)
    assert ticket.paused_at == now  # waiting on the vendor stops the clock
    assert "escalate" not in tickets.allowed_actions(db_session, ticket, cast.coordinator, now.date())
    before = snapshot(ticket)
    with pytest.raises(TransitionNotAllowed, match="already with the vendor"):
        tickets.perform(db_session, registry, ticket, None, "escalate", now, reason=REASON)
    assert snapshot(ticket) == before


def test_reasons_assignees_and_unknown_actions_are_checked_before_any_change(
        db_session, registry, cast, now):
    ticket = place(db_session, registry, cast, Status.IN_PROGRESS, now)
    before = snapshot(ticket)
    with pytest.raises(ValidationFailed) as error:
        tickets.perform(db_session, registry, ticket, cast.student, "wait_vendor", now, reason="  ")
    assert "reason" in error.value.field_errors
    with pytest.raises(ValidationFailed, match="already has the ticket"):
        tickets.perform(db_session, registry, ticket, cast.coordinator, "assign", now,
                        assignee=cast.student)
    with pytest.raises(ValidationFailed, match="Choose a student"):
        tickets.perform(db_session, registry, ticket, cast.coordinator, "assign", now,
                        assignee=cast.staff)
    elsewhere = quick_student(db_session, make_ward(db_session), now.date())
    with pytest.raises(ValidationFailed, match="not assigned to the ticket's ward"):
        tickets.perform(db_session, registry, ticket, cast.coordinator, "assign", now,
                        assignee=elsewhere)
    with pytest.raises(TransitionNotAllowed, match="Unknown action"):
        tickets.perform(db_session, registry, ticket, cast.coordinator, "teleport", now)
    assert snapshot(ticket) == before


def test_reassignment_records_old_and_new_assignee(db_session, registry, cast, now):
    ticket = place(db_session, registry, cast, Status.IN_PROGRESS, now)
    tickets.perform(db_session, registry, ticket, cast.coordinator, "assign", now,
                    assignee=cast.other_student)
    event = ticket.events[-1]
    assert (event.kind, event.old_value, event.new_value, event.actor_id) == (
        "assigned", str(cast.student.id), str(cast.other_student.id), cast.coordinator.id)
    assert ticket.status == Status.IN_PROGRESS
    # The old assignee can no longer work it; the new one can.
    with pytest.raises(PermissionDenied):
        tickets.perform(db_session, registry, ticket, cast.student, "resolve", now, reason=REASON)
    tickets.perform(db_session, registry, ticket, cast.other_student, "resolve", now, reason=REASON)


def test_reopen_by_the_reporter_goes_back_to_the_assignee(db_session, registry, cast, now):
    ticket = place(db_session, registry, cast, Status.NEW, now)
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now)
    tickets.perform(db_session, registry, ticket, cast.student, "resolve", now, reason="Đã sửa")
    tickets.perform(db_session, registry, ticket, cast.staff, "reopen", now,
                    reason="Vẫn chưa in được")
    assert ticket.status == Status.ASSIGNED and ticket.assignee_id == cast.student.id
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.events[-1].body == "Vẫn chưa in được"
