"""Filing and basic lifecycle through the service layer (both engines)."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.errors import Conflict, PermissionDenied, TransitionNotAllowed, ValidationFailed
from helpdesk_core.models import Role, Status, TicketEvent
from helpdesk_core.services import tickets

from ..factories import make_student, make_ticket, make_user, make_ward


def test_filing_numbers_per_ward_and_year_and_records_an_event(db_session, registry, now):
    ward = make_ward(db_session, code="HKH")
    other = make_ward(db_session, code="HCH")
    first = make_ticket(db_session, registry, ward, now)
    second = make_ticket(db_session, registry, ward, now)
    elsewhere = make_ticket(db_session, registry, other, now)
    next_year = make_ticket(db_session, registry, ward, now.replace(year=2027))
    db_session.commit()
    assert [first.number, second.number] == ["HKH-2026-00001", "HKH-2026-00002"]
    assert elsewhere.number == "HCH-2026-00001"
    assert next_year.number == "HKH-2027-00001"
    events = db_session.query(TicketEvent).filter_by(ticket_id=first.id).all()
    assert [(e.kind, e.new_value) for e in events] == [("filed", Status.NEW)]


def test_filing_sets_priority_and_due_times_in_working_hours(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = make_ticket(db_session, registry, ward, now, impact="center", urgency="citizen_waiting")
    assert ticket.priority == 1
    assert now < ticket.response_due_at <= ticket.resolution_due_at


def test_filing_rejects_bad_input_and_stores_nothing(db_session, registry, now):
    ward = make_ward(db_session)
    with pytest.raises(ValidationFailed) as error:
        make_ticket(db_session, registry, ward, now, title="  ", category="printer",
                    triage={"symptom": "not-a-symptom"}, impact="galaxy")
    assert {"title", "symptom", "impact"} <= set(error.value.field_errors)
    db_session.rollback()
    assert db_session.query(TicketEvent).count() == 0


def test_citizen_id_and_phone_numbers_are_masked_when_stored(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = make_ticket(db_session, registry, ward, now,
                         title="Công dân CCCD 048095012345 gọi 0905123456",
                         description="SĐT +84 905 123 456, số định danh 048 0 95 012345")
    assert "048095012345" not in ticket.title and "012345" not in ticket.description
    assert ticket.title.endswith("••••••456") and "2345" in ticket.title
    assert "0905123456" not in ticket.title


def test_staff_cannot_file_for_another_ward(db_session, registry, now):
    mine, other = make_ward(db_session), make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward=mine)
    with pytest.raises(PermissionDenied):
        make_ticket(db_session, registry, other, now, reporter=staff)


def test_claim_twice_gives_a_clear_conflict(db_session, registry, now):
    ward = make_ward(db_session)
    a = make_student(db_session, ward, now.date())
    b = make_student(db_session, ward, now.date())
    ticket = make_ticket(db_session, registry, ward, now)
    tickets.perform(db_session, registry, ticket, a, "claim", now)
    with pytest.raises((Conflict, TransitionNotAllowed)):
        tickets.perform(db_session, registry, ticket, b, "claim", now)
    assert ticket.assignee_id == a.id and ticket.status == Status.ASSIGNED


def test_resolve_needs_a_reason_and_confirm_closes(db_session, registry, now):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward=ward)
    student = make_student(db_session, ward, now.date())
    ticket = make_ticket(db_session, registry, ward, now, reporter=staff)
    tickets.perform(db_session, registry, ticket, student, "claim", now)
    with pytest.raises(ValidationFailed):
        tickets.perform(db_session, registry, ticket, student, "resolve", now)
    later = now + dt.timedelta(hours=1)
    tickets.perform(db_session, registry, ticket, student, "resolve", later, reason="Đã cắm lại cáp")
    tickets.perform(db_session, registry, ticket, staff, "confirm", later)
    assert ticket.status == Status.CLOSED and ticket.closed_at == later
    kinds = [(e.kind, e.old_value, e.new_value) for e in ticket.events]
    assert ("status", Status.ASSIGNED, Status.RESOLVED) in kinds
    assert ("status", Status.RESOLVED, Status.CLOSED) in kinds


def test_plugins_hear_about_events_only_after_commit(db_session, registry, now, builtin_pm):
    heard = []

    class Listener:
        from helpdesk_core import hookimpl

        @hookimpl
        def helpdesk_on_ticket_event(self, ticket, event):
            heard.append((ticket.number, event.kind))

    builtin_pm.register(Listener(), name="listener")
    try:
        ward = make_ward(db_session, code="LSN")
        make_ticket(db_session, registry, ward, now)
        assert heard == []
        tickets.commit(db_session)
        assert heard == [("LSN-2026-00001", "filed")]
    finally:
        builtin_pm.unregister(name="listener")


def test_stored_triage_is_validated_fully_even_with_optional_fields(registry):
    from helpdesk_core.errors import ValidationFailed as Invalid
    # network's `since` is Optional() + free text; a limit after Optional must still apply.
    from wtforms import Form, StringField
    from wtforms.validators import Length, Optional

    class LimitedForm(Form):
        note = StringField("Note", validators=[Optional(), Length(max=5)])

    class Plugin:
        from helpdesk_core import hookimpl

        @hookimpl
        def helpdesk_triage_form(self, category):
            return LimitedForm if category == "limited" else None

    registry.pm.register(Plugin(), name="limited-form")
    try:
        assert tickets.validate_triage(registry, "limited", {"note": "ok"}) == {"note": "ok"}
        assert tickets.validate_triage(registry, "limited", {}) == {"note": None}
        with pytest.raises(Invalid) as error:
            tickets.validate_triage(registry, "limited", {"note": "far too long"})
        assert "note" in error.value.field_errors
    finally:
        registry.pm.unregister(name="limited-form")


def test_heartbeats_from_several_processes_never_collide(session_factory, now):
    import threading

    from helpdesk_core.services import heartbeat

    barrier = threading.Barrier(4)
    errors = []

    def beat(offset):
        with session_factory() as session:
            barrier.wait()
            try:
                heartbeat.beat(session, heartbeat.SCHEDULER, now + dt.timedelta(seconds=offset),
                               detail=f"process {offset}")
                session.commit()
            except Exception as exc:  # the assertion below reports it
                errors.append(exc)

    threads = [threading.Thread(target=beat, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_factory() as session:
        assert now <= heartbeat.last_beat(session, heartbeat.SCHEDULER) <= now + dt.timedelta(seconds=3)


def test_claim_and_start_checks_and_records_both_moves(db_session, registry, now):
    ward = make_ward(db_session)
    student = make_student(db_session, ward, now.date())
    ticket = make_ticket(db_session, registry, ward, now)
    tickets.claim_and_start(db_session, registry, ticket, student, now)
    assert ticket.status == Status.IN_PROGRESS and ticket.assignee_id == student.id
    moves = [(e.kind, e.old_value, e.new_value) for e in ticket.events][1:]
    assert moves == [("assigned", None, str(student.id)),
                     ("status", Status.NEW, Status.ASSIGNED),
                     ("status", Status.ASSIGNED, Status.IN_PROGRESS)]
    other = make_student(db_session, ward, now.date())
    with pytest.raises(TransitionNotAllowed):  # not new any more: nothing to claim
        tickets.claim_and_start(db_session, registry, ticket, other, now)
    staff = make_user(db_session, Role.STAFF, ward)
    with pytest.raises(PermissionDenied):
        tickets.claim_and_start(db_session, registry, make_ticket(db_session, registry, ward, now),
                                staff, now)


def test_the_first_tick_of_a_shown_checklist_chooses_it(db_session, registry, now):
    ward = make_ward(db_session)
    student = make_student(db_session, ward, now.date())
    ticket = make_ticket(db_session, registry, ward, now)
    tickets.perform(db_session, registry, ticket, student, "claim", now)
    tickets.tick_step(db_session, registry, ticket, student, 1, True, now, template="no_internet")
    assert ticket.checklist == {"template": "no_internet", "done": [1]}
    assert [e.kind for e in ticket.events][-2:] == ["checklist", "checklist"]
    with pytest.raises(Conflict):  # the page showed another checklist: wrong step
        tickets.tick_step(db_session, registry, ticket, student, 0, True, now, template="slow")
    fresh = make_ticket(db_session, registry, ward, now)
    tickets.perform(db_session, registry, fresh, student, "claim", now)
    with pytest.raises(ValidationFailed):
        tickets.tick_step(db_session, registry, fresh, student, 0, True, now,
                          template="no_such_checklist")
    assert ticket.checklist == {"template": "no_internet", "done": [1]}
