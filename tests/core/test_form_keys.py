"""A form sent twice files one ticket and adds one comment (one-time form keys), also when
both sends race on separate connections (both engines)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from helpdesk_core.errors import Conflict
from helpdesk_core.models import Role, Ticket, TicketCounter, TicketEvent, User, Ward
from helpdesk_core.services import tickets

from ..factories import make_ticket, make_ward
from .conftest import quick_user
from .test_concurrency import run_together

KEY = "k3y-0f-0ne-f0rm"


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_filing_again_with_the_same_key_returns_the_first_ticket(db_session, registry, now):
    ward = make_ward(db_session)
    clerk = quick_user(db_session, Role.STAFF, ward)
    first = make_ticket(db_session, registry, ward, now, reporter=clerk, form_key=KEY)
    tickets.commit(db_session)
    again = make_ticket(db_session, registry, ward, now, reporter=clerk, form_key=KEY)
    tickets.commit(db_session)
    other = make_ticket(db_session, registry, ward, now, reporter=clerk, form_key="another")
    tickets.commit(db_session)
    assert again.id == first.id and other.id != first.id
    assert count(db_session, Ticket) == 2
    assert count(db_session, TicketEvent, TicketEvent.kind == "filed") == 2
    assert other.number.endswith("-00002")  # the repeat used no number
    # No key (the scheduler, the API): every call files.
    make_ticket(db_session, registry, ward, now)
    make_ticket(db_session, registry, ward, now)
    assert count(db_session, Ticket) == 4


def test_another_persons_key_files_nothing(db_session, registry, now):
    ward = make_ward(db_session)
    clerk, colleague = (quick_user(db_session, Role.STAFF, ward) for _ in range(2))
    make_ticket(db_session, registry, ward, now, reporter=clerk, form_key=KEY)
    tickets.commit(db_session)
    with pytest.raises(Conflict) as error:
        make_ticket(db_session, registry, ward, now, reporter=colleague, form_key=KEY)
    assert error.value.localized() != error.value.message  # translated (vi default)
    tickets.rollback(db_session)
    assert count(db_session, Ticket) == 1


def test_two_sends_of_one_form_at_once_file_one_ticket(session_factory, registry, now):
    setup = session_factory()
    ward = make_ward(setup)
    clerk = quick_user(setup, Role.STAFF, ward)
    setup.commit()
    ward_id, clerk_id = ward.id, clerk.id
    setup.close()
    senders = 4

    def send(index: int, barrier: threading.Barrier):
        session = session_factory()
        try:
            reporter = session.get(User, clerk_id)
            target = session.get(Ward, ward_id)
            session.commit()
            barrier.wait()
            ticket = make_ticket(session, registry, target, now, reporter=reporter,
                                 form_key=KEY)
            tickets.commit(session)
            return ticket.id
        finally:
            session.close()

    results = run_together(senders, send)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    check = session_factory()
    try:
        assert count(check, Ticket) == 1
        assert count(check, TicketEvent, TicketEvent.kind == "filed") == 1
        assert check.scalar(select(TicketCounter.last_seq)) == 1  # no number lost either
    finally:
        check.close()


def test_two_sends_of_one_comment_at_once_add_one_comment(session_factory, registry, now):
    setup = session_factory()
    ward = make_ward(setup)
    clerk = quick_user(setup, Role.STAFF, ward)
    ticket = make_ticket(setup, registry, ward, now, reporter=clerk)
    tickets.commit(setup)
    ticket_id, clerk_id = ticket.id, clerk.id
    setup.close()

    def send(index: int, barrier: threading.Barrier):
        session = session_factory()
        try:
            actor = session.get(User, clerk_id)
            target = session.get(Ticket, ticket_id)
            session.commit()
            barrier.wait()
            event = tickets.comment(session, registry, target, actor, "Máy vẫn lỗi", now,
                                    form_key=KEY)
            tickets.commit(session)
            return event.id
        finally:
            session.close()

    results = run_together(4, send)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    check = session_factory()
    try:
        assert count(check, TicketEvent, TicketEvent.kind == "comment") == 1
        again = tickets.comment(check, registry, check.get(Ticket, ticket_id),
                                check.get(User, clerk_id), "Máy vẫn lỗi", now, form_key=KEY)
        tickets.commit(check)
        assert again.id == results[0]
        tickets.comment(check, registry, check.get(Ticket, ticket_id),
                        check.get(User, clerk_id), "Máy vẫn lỗi", now)
        tickets.commit(check)
        assert count(check, TicketEvent, TicketEvent.kind == "comment") == 2
    finally:
        check.close()


def test_one_file_sent_twice_at_once_is_attached_once(session_factory, registry, now, tmp_path):
    from helpdesk_core.models import Attachment
    from helpdesk_core.services import attachments
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    setup = session_factory()
    ward = make_ward(setup)
    clerk = quick_user(setup, Role.STAFF, ward)
    ticket = make_ticket(setup, registry, ward, now, reporter=clerk)
    tickets.commit(setup)
    ticket_id, clerk_id = ticket.id, clerk.id
    setup.close()

    def send(index: int, barrier: threading.Barrier):
        session = session_factory()
        try:
            actor = session.get(User, clerk_id)
            target = session.get(Ticket, ticket_id)
            session.commit()
            barrier.wait()
            attached = attachments.same_file(session, target, png)
            if attached is None:
                attached = attachments.add_attachment(
                    session, registry, target, actor, "a.png", png, now,
                    folder=str(tmp_path), max_bytes=1024)
            tickets.commit(session)
            return attached.id
        finally:
            session.close()

    results = run_together(4, send)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    check = session_factory()
    try:
        assert count(check, Attachment) == 1
    finally:
        check.close()
