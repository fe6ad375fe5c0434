"""Accounting for personal data: who opened what is recorded and kept for a while, and the
citizens' data of done tickets is erased after the configured days (both engines)."""

from __future__ import annotations

import datetime as dt
import logging
import os

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import (AccessKind, AccessRecord, Attachment, Role, Status, Ticket,
                                  TicketEvent)
from helpdesk_core.services import access_log, attachments, purge, tickets
from tests.factories import make_student, make_ticket, make_user, make_ward
from tests.plugins.test_privacy import triage_with_pii

DAY = dt.timedelta(days=1)
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


# --- the access log ---------------------------------------------------------------------

def test_accesses_are_recorded_searched_and_pruned(db_session, registry, now):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward=ward)
    admin = make_user(db_session, Role.ADMIN)
    ticket = make_ticket(db_session, registry, ward, now, reporter=staff)
    other = make_ticket(db_session, registry, ward, now, reporter=staff)
    access_log.record_access(db_session, staff, AccessKind.TICKET, now - 400 * DAY,
                             address="10.1.2.3", ticket=ticket)
    access_log.record_access(db_session, staff, AccessKind.TICKET, now - DAY,
                             address="10.1.2.3", ticket=ticket)
    access_log.record_access(db_session, admin, AccessKind.ATTACHMENT, now,
                             address="2001:db8::1", ticket=other, target="7 anh.png")
    access_log.record_access(db_session, admin, AccessKind.EXPORT, now, address="10.0.0.9",
                             target="tickets.csv", details={"ward": ward.id})
    db_session.commit()

    everything, more = access_log.search(db_session, access_log.AccessFilter())
    assert len(everything) == 4 and not more
    assert everything[-1].at == now - 400 * DAY  # newest first
    by_staff, _ = access_log.search(db_session, access_log.AccessFilter(user_id=staff.id))
    assert {r.user_id for r in by_staff} == {staff.id} and len(by_staff) == 2
    of_ticket, _ = access_log.search(db_session, access_log.AccessFilter(
        ticket_number=ticket.number.lower()))
    assert [r.ticket_id for r in of_ticket] == [ticket.id, ticket.id]
    recent, _ = access_log.search(db_session, access_log.AccessFilter(start=now - 2 * DAY,
                                                                      end=now))
    assert [r.kind for r in recent] == [AccessKind.TICKET]
    exports, _ = access_log.search(db_session, access_log.AccessFilter(kind="export"))
    assert exports[0].details == {"ward": ward.id} and exports[0].address == "10.0.0.9"
    page_one, more = access_log.search(db_session, access_log.AccessFilter(), 1, per_page=3)
    assert len(page_one) == 3 and more
    assert len(list(access_log.iter_records(db_session, access_log.AccessFilter()))) == 4
    assert access_log.ticket_numbers(db_session, everything) == {
        ticket.id: ticket.number, other.id: other.number}

    assert access_log.prune(db_session, now, keep_days=365) == 1
    assert db_session.scalar(select(func.count()).select_from(AccessRecord)) == 3


def test_an_unknown_kind_is_refused(db_session):
    with pytest.raises(ValueError):
        access_log.record_access(db_session, None, "peek", dt.datetime.now(dt.timezone.utc))


# --- the purge policy ------------------------------------------------------------------------

def test_policy_reads_categories_and_a_default():
    policy = purge.parse_policy("printer=90, signing=30,*=365")
    assert policy.days_for("printer") == 90 and policy.days_for("signing") == 30
    assert policy.days_for("vneid") == 365
    assert purge.parse_policy("180").days_for("network") == 180
    assert purge.parse_policy("default=10,vneid=5").days_for("network") == 10
    off = purge.parse_policy("")
    assert not off.enabled and off.days_for("printer") is None
    assert purge.parse_policy("printer=90").days_for("network") is None
    for bad in ("printer=soon", "printer=0", "=5", "x=-1"):
        with pytest.raises(ValueError):
            purge.parse_policy(bad)


# --- the purge ---------------------------------------------------------------------------

def _worked_ticket(session, registry, ward, staff, student, when, folder, category="vneid"):
    triage, free = triage_with_pii(registry, category)
    ticket = tickets.file_ticket(
        session, registry, ward=ward, category=category, title="VNeID lỗi 0905123456",
        description="Công dân Nguyễn Văn An, CCCD 048095012345", triage=triage,
        reporter=staff, now=when, priority_override=1, override_reason="Gấp, 0905 123 456")
    attachments.add_attachment(session, registry, ticket, staff, "cccd.png", PNG, when,
                               folder=folder, max_bytes=10_000)
    tickets.comment(session, registry, ticket, staff, "Gọi lại 0905123456", when)
    tickets.perform(session, registry, ticket, student, "claim", when)
    tickets.perform(session, registry, ticket, student, "wait_reporter", when,
                    reason="Chờ công dân An mang CCCD")
    tickets.perform(session, registry, ticket, student, "resume", when)
    tickets.perform(session, registry, ticket, student, "resolve", when,
                    reason="Cài lại ứng dụng VNeID")
    tickets.perform(session, registry, ticket, staff, "confirm", when)
    return ticket, free


def test_closed_tickets_lose_citizen_data_after_their_days(db_session, registry, now,
                                                           tmp_path, caplog):
    folder = str(tmp_path / "uploads")
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward=ward)
    student = make_student(db_session, ward, (now - 100 * DAY).date())
    old, free = _worked_ticket(db_session, registry, ward, staff, student, now - 40 * DAY,
                               folder)
    recent, _ = _worked_ticket(db_session, registry, ward, staff, student, now - 10 * DAY,
                               folder)
    other_category, _ = _worked_ticket(db_session, registry, ward, staff, student,
                                       now - 40 * DAY, folder, category="network")
    still_open = make_ticket(db_session, registry, ward, now - 90 * DAY,
                             description="CCCD 048095012345")
    cancelled = make_ticket(db_session, registry, ward, now - 100 * DAY,
                            description="Hủy, 0905123456", reporter=staff)
    tickets.perform(db_session, registry, cancelled, staff, "cancel", now - 100 * DAY,
                    reason="Trùng phiếu")
    tickets.commit(db_session)
    assert old.status == Status.CLOSED and old.closed_at == now - 40 * DAY
    old_file = attachments.path_of(folder, old.attachments[0])
    assert os.path.exists(old_file) and free

    policy = purge.parse_policy("vneid=30,network=90,*=45")
    with caplog.at_level(logging.INFO, logger="helpdesk_core.services.purge"):
        result = purge.purge_personal_data(db_session, registry, now, policy, folder)
    assert (result.tickets, result.attachments) == (2, 1)  # old (vneid, 30) and cancelled (network, 90)
    assert "2 tickets" in caplog.text and f"{result.texts} texts" in caplog.text
    db_session.expire_all()

    old = db_session.get(Ticket, old.id)
    assert old.personal_data_purged_at == now
    assert old.description == "" and old.priority_reason == ""
    assert all(old.triage[name] == "" for name in free)
    assert old.triage["level"]  # choices stay: the helpdesk reports on them
    assert old.title == "VNeID lỗi •••••••456"
    assert not os.path.exists(old_file)
    assert db_session.scalar(select(func.count()).select_from(Attachment)
                             .where(Attachment.ticket_id == old.id)) == 0
    bodies = {(e.kind, e.new_value): e.body for e in old.events}
    assert bodies[("status", Status.RESOLVED)] == "Cài lại ứng dụng VNeID"
    assert bodies[("status", Status.WAITING_REPORTER)] == ""
    assert all(e.body == "" for e in old.events if e.kind in ("comment", "attachment"))
    [mark] = [e for e in old.events if e.kind == "purged"]
    assert mark.actor_id is None and mark.data["attachments"] == 1 and mark.data["texts"] >= 5
    assert "an" not in old.search_text.split()
    [record] = db_session.scalars(select(AccessRecord).where(
        AccessRecord.kind == AccessKind.PURGE, AccessRecord.ticket_id == old.id))
    assert record.user_id is None and record.details == mark.data

    cancelled = db_session.get(Ticket, cancelled.id)
    assert cancelled.description == "" and cancelled.personal_data_purged_at == now
    for kept in (recent, other_category, still_open):
        kept = db_session.get(Ticket, kept.id)
        assert kept.description and kept.personal_data_purged_at is None
    assert os.path.exists(attachments.path_of(folder, db_session.get(Ticket, recent.id)
                                              .attachments[0]))

    # Once is enough: a second run finds nothing, and purged tickets get no second entry.
    again = purge.purge_personal_data(db_session, registry, now + DAY, policy, folder)
    assert again.tickets == 0
    assert db_session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.kind == "purged")) == 2


def test_the_purge_is_off_by_default(db_session, registry, now, tmp_path):
    ward = make_ward(db_session)
    ticket = make_ticket(db_session, registry, ward, now - 900 * DAY, description="x")
    staff = make_user(db_session, Role.STAFF, ward=ward)
    tickets.perform(db_session, registry, ticket, staff, "cancel", now - 900 * DAY,
                    reason="Trùng")
    tickets.commit(db_session)
    result = purge.purge_personal_data(db_session, registry, now, purge.parse_policy(""),
                                       str(tmp_path))
    assert result.tickets == 0 and db_session.get(Ticket, ticket.id).description == "x"


def test_the_purge_works_in_batches(db_session, registry, now, tmp_path):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward=ward)
    for _ in range(5):
        ticket = make_ticket(db_session, registry, ward, now - 90 * DAY, description="CCCD")
        tickets.perform(db_session, registry, ticket, staff, "cancel", now - 90 * DAY,
                        reason="Trùng")
    tickets.commit(db_session)
    result = purge.purge_personal_data(db_session, registry, now, purge.parse_policy("30"),
                                       str(tmp_path), batch_size=2)
    assert result.tickets == 5
    assert db_session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.personal_data_purged_at.is_(None))) == 0
