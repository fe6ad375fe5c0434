"""Real concurrent connections: claiming and numbering under simultaneous requests.

Each thread has its own session (its own connection) from ``session_factory``; a
``threading.Barrier`` releases them together. Runs on PostgreSQL and on SQLite (where
``BEGIN IMMEDIATE`` makes writers queue).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Callable

from sqlalchemy import func, select

from helpdesk_core.errors import Conflict
from helpdesk_core.models import Role, Status, Ticket, TicketEvent, User, Ward
from helpdesk_core.services import tickets

from ..factories import make_ticket, make_ward
from .conftest import quick_student, quick_user

TIMEOUT = 60


def run_together(count: int, work: Callable[[int, threading.Barrier], object]) -> list:
    """Run ``work(index, barrier)`` in *count* threads; return results (or exceptions)."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)
    results: list = [None] * count

    def target(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except BaseException as exc:  # reported by the test
            results[index] = exc

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_of_students_claiming_at_once_exactly_one_wins(session_factory, registry, now):
    setup = session_factory()
    ward = make_ward(setup)
    students = [quick_student(setup, ward, now.date()) for _ in range(4)]
    rounds = [make_ticket(setup, registry, ward, now) for _ in range(3)]
    tickets.commit(setup)
    student_ids = [s.id for s in students]
    setup.close()

    for ticket_id in (t.id for t in rounds):
        def claim(index: int, barrier: threading.Barrier):
            session = session_factory()
            try:
                ticket = session.get(Ticket, ticket_id)
                student = session.get(User, student_ids[index])
                session.commit()  # end the read; both now hold a "new" ticket in memory
                barrier.wait()
                try:
                    tickets.perform(session, registry, ticket, student, "claim", now)
                    tickets.commit(session)
                    return "won"
                except Conflict as exc:
                    tickets.rollback(session)
                    return exc
            finally:
                session.close()

        results = run_together(len(student_ids), claim)
        winners = [student_ids[i] for i, r in enumerate(results) if r == "won"]
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(winners) == 1, results
        assert len(losers) == len(student_ids) - 1, results
        assert all(str(e) == "Someone else has just claimed this ticket." for e in losers)
        assert all(e.localized() != e.message for e in losers)  # translated (vi default)

        check = session_factory()
        stored = check.get(Ticket, ticket_id)
        assert (stored.status, stored.assignee_id) == (Status.ASSIGNED, winners[0])
        assigned = check.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "assigned")).all()
        assert [(e.actor_id, e.new_value) for e in assigned] == [(winners[0], str(winners[0]))]
        check.close()


def test_tickets_filed_at_once_get_distinct_consecutive_numbers(session_factory, registry, now):
    setup = session_factory()
    ward, other = make_ward(setup, code="NHS"), make_ward(setup, code="THK")
    tickets.commit(setup)
    ward_ids = (ward.id, other.id)
    setup.close()
    filers = 16

    def file(index: int, barrier: threading.Barrier):
        session = session_factory()
        try:
            target = session.get(Ward, ward_ids[index % 2])
            session.commit()
            barrier.wait()
            ticket = make_ticket(session, registry, target, now, title=f"Sự cố {index}")
            tickets.commit(session)
            return ticket.number
        finally:
            session.close()

    results = run_together(filers, file)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert len(set(results)) == filers
    half = filers // 2
    assert sorted(n for n in results if n.startswith("NHS")) == [
        f"NHS-2026-{i:05d}" for i in range(1, half + 1)]
    assert sorted(n for n in results if n.startswith("THK")) == [
        f"THK-2026-{i:05d}" for i in range(1, half + 1)]
    check = session_factory()
    assert check.scalar(select(func.count()).select_from(Ticket)) == filers
    check.close()


def test_a_coordinator_assigning_while_a_student_claims_overwrites_nothing(
        session_factory, registry, now):
    setup = session_factory()
    ward = make_ward(setup)
    claimer, other = (quick_student(setup, ward, now.date()) for _ in range(2))
    coordinator = quick_user(setup, Role.COORDINATOR)
    races = [make_ticket(setup, registry, ward, now) for _ in range(3)]
    tickets.commit(setup)
    ids = {"claimer": claimer.id, "other": other.id, "coordinator": coordinator.id}
    setup.close()

    for ticket_id in (t.id for t in races):
        def act(index: int, barrier: threading.Barrier):
            session = session_factory()
            try:
                ticket = session.get(Ticket, ticket_id)
                if index == 0:
                    actor, kwargs = session.get(User, ids["claimer"]), {}
                else:
                    actor = session.get(User, ids["coordinator"])
                    kwargs = {"assignee": session.get(User, ids["other"])}
                session.commit()
                barrier.wait()
                try:
                    tickets.perform(session, registry, ticket, actor,
                                    "claim" if index == 0 else "assign", now, **kwargs)
                    tickets.commit(session)
                    return "done"
                except Conflict as exc:
                    tickets.rollback(session)
                    return exc
            finally:
                session.close()

        results = run_together(2, act)
        assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"], results
        check = session_factory()
        stored = check.get(Ticket, ticket_id)
        winner = ids["claimer"] if results[0] == "done" else ids["other"]
        assert (stored.status, stored.assignee_id) == (Status.ASSIGNED, winner)
        assigned = check.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "assigned")).all()
        assert [(e.old_value, e.new_value) for e in assigned] == [(None, str(winner))]
        check.close()


def test_a_reopen_racing_the_auto_close_is_not_lost(session_factory, registry, now):
    setup = session_factory()
    ward = make_ward(setup)
    student = quick_student(setup, ward, now.date())
    staff = quick_user(setup, Role.STAFF, ward=ward)
    ticket = make_ticket(setup, registry, ward, now, reporter=staff)
    tickets.perform(setup, registry, ticket, student, "claim", now)
    tickets.perform(setup, registry, ticket, student, "resolve", now, reason="Đã sửa")
    tickets.commit(setup)
    ticket_id, staff_id = ticket.id, staff.id
    setup.close()
    later = now + timedelta(days=7)

    def act(index: int, barrier: threading.Barrier):
        session = session_factory()
        try:
            if index == 0:
                session.commit()
                barrier.wait()
                closed = tickets.auto_close(session, registry, later)
                tickets.commit(session)
                return [t.id for t in closed]
            mine = session.get(Ticket, ticket_id)
            reporter = session.get(User, staff_id)
            session.commit()
            barrier.wait()
            try:
                tickets.perform(session, registry, mine, reporter, "reopen", later,
                                reason="Vẫn lỗi")
                tickets.commit(session)
                return "reopened"
            except Conflict as exc:
                tickets.rollback(session)
                return exc
        finally:
            session.close()

    closed, reopen = run_together(2, act)
    check = session_factory()
    stored = check.get(Ticket, ticket_id)
    moves = [(e.old_value, e.new_value) for e in check.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "status")
        .order_by(TicketEvent.id))][-2:]
    check.close()
    # Either the reopen came first and nothing was closed, or the close came first and
    # the reopen, decided on a resolved ticket, was told it changed.
    if reopen == "reopened":
        assert closed == [] and stored.status == Status.ASSIGNED
        assert moves[-1] == (Status.RESOLVED, Status.ASSIGNED)
    else:
        assert isinstance(reopen, Conflict) and closed == [ticket_id], (reopen, closed)
        assert stored.status == Status.CLOSED and moves[-1] == (Status.RESOLVED, Status.CLOSED)
