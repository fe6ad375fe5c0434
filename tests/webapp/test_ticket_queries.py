"""The read-side queries and attachment rules the ticket pages rely on (no Flask needed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from helpdesk_core.errors import NotFound, ValidationFailed
from helpdesk_core.models import Asset, AssetCheck, CheckRecord, Role, Status
from helpdesk_core.services import attachments, queries, tickets
from tests.factories import make_student, make_ticket, make_user, make_ward

TODAY = dt.date(2026, 3, 10)
# Valid printer triage answers, for tickets whose triage does not matter to a test.
PRINTER = {"symptom": "paper_jam", "connection": "usb"}


def ids(rows) -> list[int]:
    """The ids of similar_resolved's rows, in order."""
    return [row.id for row in rows]


def resolve(session, registry, ticket, student, now, reason="Đã xử lý"):
    tickets.perform(session, registry, ticket, student, "claim", now)
    tickets.perform(session, registry, ticket, student, "resolve", now, reason=reason)


def test_similar_resolved_ignores_diacritics_and_scope(db_session, registry, now):
    a, b = make_ward(db_session), make_ward(db_session)
    student_a = make_student(db_session, a, TODAY)
    student_b = make_student(db_session, b, TODAY)
    current = make_ticket(db_session, registry, a, now, category="printer",
                          title="may in quay 3 ket giay", triage=PRINTER)
    best = make_ticket(db_session, registry, a, now, category="printer",
                       title="Máy in quầy 3 kẹt giấy", triage=PRINTER)
    weaker = make_ticket(db_session, registry, a, now, category="printer",
                         title="Máy in mờ chữ", triage=PRINTER)
    still_open = make_ticket(db_session, registry, a, now, category="printer",
                             title="Máy in kẹt giấy", triage=PRINTER)
    elsewhere = make_ticket(db_session, registry, b, now, category="printer",
                            title="Máy in kẹt giấy quầy 3", triage=PRINTER)
    other_category = make_ticket(db_session, registry, a, now, title="Mất mạng quầy 3")
    for ticket in (weaker, best, other_category):
        resolve(db_session, registry, ticket, student_a, now)
    resolve(db_session, registry, elsewhere, student_b, now)
    db_session.flush()

    found = ids(queries.similar_resolved(db_session, student_a, current, TODAY))
    assert found[:2] == [best.id, weaker.id]
    assert still_open.id not in found and elsewhere.id not in found
    assert other_category.id not in found
    # A typed query: every word, any category, still only the student's wards.
    assert set(ids(queries.similar_resolved(db_session, student_a, current, TODAY,
                                            query="quay 3"))) == {other_category.id, best.id}
    assert ids(queries.similar_resolved(db_session, student_a, current, TODAY,
                                        query="MỜ CHỮ")) == [weaker.id]
    # What the page lists of each: its number and title.
    assert [(s.number, s.title) for s in queries.similar_resolved(
        db_session, student_a, current, TODAY, query="MỜ CHỮ")] == [(weaker.number, weaker.title)]
    coordinator = make_user(db_session, Role.COORDINATOR)
    assert elsewhere.id in ids(queries.similar_resolved(db_session, coordinator, current, TODAY,
                                                        limit=10))
    assert len(queries.similar_resolved(db_session, coordinator, current, TODAY, limit=1)) == 1



def test_similar_resolved_takes_like_wildcards_literally(db_session, registry, now):
    """The statement is built once with bound words: "%", "_" and "/" in a title or a
    query still match only themselves."""
    ward = make_ward(db_session)
    student = make_student(db_session, ward, TODAY)
    current = make_ticket(db_session, registry, ward, now, title="loi 50% a_b")
    percent = make_ticket(db_session, registry, ward, now, title="loi 50% a_b c/d")
    digits = make_ticket(db_session, registry, ward, now, title="loi 500 axb")
    for ticket in (percent, digits):
        resolve(db_session, registry, ticket, student, now)
    db_session.flush()

    assert queries.similar_resolved(db_session, student, current, TODAY)[0].id == percent.id
    for query in ("50%", "a_b", "c/d"):
        assert ids(queries.similar_resolved(db_session, student, current, TODAY,
                                            query=query)) == [percent.id]
    assert queries.similar_resolved(db_session, student, current, TODAY, query="5%0") == []

def test_similar_resolved_reads_no_ticket_row_on_sqlite(db_session, registry, now):
    """Scoring a ward's latest resolutions reads the similar index alone on SQLite (a
    page of rows each, read again after any other process writes, cost ~1 ms a page);
    PostgreSQL scans its own index for the window, as before."""
    from sqlalchemy import event

    ward = make_ward(db_session)
    student = make_student(db_session, ward, TODAY)
    current = make_ticket(db_session, registry, ward, now, category="printer",
                          title="may in ket giay", triage=PRINTER)
    done = make_ticket(db_session, registry, ward, now, category="printer",
                       title="Máy in kẹt giấy", triage=PRINTER)
    resolve(db_session, registry, done, student, now)
    db_session.flush()
    sent = []
    connection = db_session.connection()

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))
    event.listen(connection, "before_cursor_execute", keep)
    try:
        assert ids(queries.similar_resolved(db_session, student, current, TODAY)) == [done.id]
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    statement, parameters = sent[-1]
    if connection.dialect.name == "sqlite":
        plan = " | ".join(row[-1] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters))
        assert "COVERING INDEX ix_ticket_similar_rows" in plan, plan
        assert "INTEGER PRIMARY KEY" not in plan and "SCAN ticket" not in plan, plan
    else:
        plan = " | ".join(row[0] for row in connection.exec_driver_sql(
            "EXPLAIN " + statement, parameters))
        assert "ix_ticket_similar" in plan or "Seq Scan" in plan, plan  # a tiny table


def test_ticket_events_hide_internal_notes_from_staff(db_session, registry, now):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward)
    student = make_student(db_session, ward, TODAY)
    ticket = make_ticket(db_session, registry, ward, now, reporter=staff)
    tickets.comment(db_session, registry, ticket, student, "nội bộ", now, internal=True)
    tickets.comment(db_session, registry, ticket, student, "công khai", now)
    db_session.flush()
    assert [e.body for e in queries.ticket_events(db_session, student, ticket)
            if e.kind == "comment"] == ["nội bộ", "công khai"]
    assert [e.body for e in queries.ticket_events(db_session, staff, ticket)
            if e.kind == "comment"] == ["công khai"]


def test_ticket_history_rows_are_the_events_with_their_author(db_session, registry, now):
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward)
    student = make_student(db_session, ward, TODAY)
    ticket = make_ticket(db_session, registry, ward, now, reporter=staff)
    tickets.perform(db_session, registry, ticket, student, "claim", now)
    tickets.comment(db_session, registry, ticket, student, "nội bộ", now, internal=True)
    tickets.comment(db_session, registry, ticket, student, "công khai", now)
    db_session.flush()
    for reader in (student, staff):
        rows = queries.ticket_history(db_session, reader, ticket)
        events = queries.ticket_events(db_session, reader, ticket)
        assert [(r.id, r.kind, r.body, r.internal, r.data, r.created_at, r.actor_id,
                 r.actor_name) for r in rows] == [
            (e.id, e.kind, e.body, e.internal, e.data, e.created_at, e.actor_id,
             e.actor.name if e.actor else None) for e in events]
    assert {r.actor_name for r in rows} == {staff.name, student.name}
    assert [r.body for r in queries.ticket_history(db_session, staff, ticket)
            if r.kind == "comment"] == ["công khai"]


def test_ward_students_assets_and_check_records(db_session, registry, now):
    ward, other = make_ward(db_session), make_ward(db_session)
    current = make_student(db_session, ward, TODAY, name="B sinh viên")
    expired = make_user(db_session, Role.STUDENT)
    from helpdesk_core.services import users
    users.assign_student(db_session, expired, ward, "ĐH Bách khoa",
                         TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=1))
    make_student(db_session, other, TODAY)
    assert queries.ward_students(db_session, ward.id, TODAY) == [current]

    printer = Asset(ward=ward, category="printer", kind="printer", name="Máy in A")
    retired = Asset(ward=ward, category="printer", kind="printer", name="Máy in cũ", active=False)
    router = Asset(ward=ward, category="network", kind="router", name="Modem")
    theirs = Asset(ward=other, category="printer", kind="printer", name="Máy in B")
    db_session.add_all([printer, retired, router, theirs])
    db_session.flush()
    printer.location = "Quầy 2"
    assert queries.ward_assets(db_session, ward.id, "printer") == [
        queries.AssetChoice(printer.id, "Máy in A", "Quầy 2")]

    checks = [AssetCheck(asset=printer, check_type="ipp"), AssetCheck(asset=printer, check_type="ping")]
    db_session.add_all(checks)
    db_session.flush()
    for i in range(8):
        for check in checks:
            db_session.add(CheckRecord(check_id=check.id, status="ok", message=f"{check.check_type}{i}",
                                       checked_at=now - dt.timedelta(minutes=i)))
    db_session.flush()
    records = queries.recent_check_records(db_session, printer, 10)
    assert len(records) == 10
    assert [r.checked_at for r in records] == sorted((r.checked_at for r in records), reverse=True)
    assert {r.message for r in records[:2]} == {"ipp0", "ping0"}


def test_sla_state_marks_breached_and_at_risk(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = make_ticket(db_session, registry, ward, now)
    assert queries.sla_state(ticket, now) == ""
    ticket.at_risk = True
    assert queries.sla_state(ticket, now) == "at_risk"
    assert queries.sla_state(ticket, ticket.resolution_due_at + dt.timedelta(minutes=1)) == "breached"
    ticket.at_risk, ticket.response_breached = False, True
    assert queries.sla_state(ticket, now) == "breached"
    ticket.status = Status.CLOSED
    assert queries.sla_state(ticket, now) == ""


@pytest.mark.parametrize("data, expected", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"GIF89a....", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    (b"<html>", None),
    (b"PK\x03\x04 docx", None),
])
def test_content_type_comes_from_the_bytes(data, expected):
    assert attachments.sniff_content_type(data) == expected


def test_attachment_names_are_cleaned():
    assert attachments.clean_filename("C:\\Users\\a\\ảnh lỗi.JPG", "image/jpeg") == "ảnh lỗi.JPG"
    assert attachments.clean_filename("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert attachments.clean_filename("bao-cao.exe", "application/pdf") == "bao-cao.pdf"
    assert "012345678901" not in attachments.clean_filename("cccd 012345678901.png", "image/png")


def test_add_attachment_stores_bytes_and_refuses_outsiders(db_session, registry, now, tmp_path):
    a, b = make_ward(db_session), make_ward(db_session)
    staff_b = make_user(db_session, Role.STAFF, b)
    ticket = make_ticket(db_session, registry, a, now)
    with pytest.raises(NotFound):
        attachments.add_attachment(db_session, registry, ticket, staff_b, "x.pdf", b"%PDF-1.4",
                                   now, folder=str(tmp_path), max_bytes=100)
    with pytest.raises(ValidationFailed) as error:
        attachments.add_attachment(db_session, registry, ticket, None, "x.pdf", b"%PDF-1.4" * 20,
                                   now, folder=str(tmp_path), max_bytes=100)
    assert "photo" in error.value.field_errors
    assert list(tmp_path.iterdir()) == []
    item = attachments.add_attachment(db_session, registry, ticket, None, "biên bản.pdf",
                                      b"%PDF-1.4 ok", now, folder=str(tmp_path), max_bytes=100)
    assert item.content_type == "application/pdf" and item.size == 11
    assert (tmp_path / item.storage_key).read_bytes() == b"%PDF-1.4 ok"
    assert ticket.events[-1].kind == "attachment"
    with pytest.raises(NotFound):
        attachments.get_attachment(db_session, staff_b, ticket, item.id, TODAY)


def test_triage_summary_uses_the_form_labels(registry):
    # A plugin with a triage form but no summary hook: the core labels rows from the form.
    from wtforms import Form, SelectChoice, SelectField, StringField

    from helpdesk_core import hookimpl

    class PumpForm(Form):
        symptom = SelectField("What is wrong?", choices=[SelectChoice("leak", "Water leak")])
        note = StringField("Note")

    class FormOnly:
        @hookimpl
        def helpdesk_triage_form(self, category):
            return PumpForm if category == "pump" else None

    registry.pm.register(FormOnly(), name="form-only")
    try:
        rows = registry.triage_summary("pump", {"symptom": "leak", "note": "", "unknown": "x"})
    finally:
        registry.pm.unregister(name="form-only")
    assert rows == [("What is wrong?", "Water leak"), ("unknown", "x")]  # empty answer left out


@pytest.mark.parametrize("read", ["list_tickets", "queue_rows"])
def test_a_wards_queue_is_read_in_order_from_its_partial_index(db_session, registry, now,
                                                               database, read):
    """Priority, a citizen waiting, due time: ix_ticket_open_queue serves the whole order,
    so a page of a big queue stops after its rows instead of sorting the backlog (the
    lists' statement and the queue's own)."""
    from sqlalchemy import event
    ward = make_ward(db_session)
    student = make_student(db_session, ward, TODAY)
    for urgency in ("normal", "citizen_waiting", "today"):
        make_ticket(db_session, registry, ward, now, urgency=urgency)
    db_session.flush()
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        if read == "list_tickets":
            rows, _ = queries.list_tickets(db_session, student, TODAY, queries.TicketFilter())
        else:
            rows, _ = queries.queue_rows(db_session, student, TODAY, queries.TicketFilter(), now)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [t.citizen_waiting for t in rows] == [True, False, False]
    assert rows[1].priority < rows[2].priority  # "today" before "normal"
    [(statement, parameters)] = [s for s in statements if "ORDER BY" in s[0]]
    conn = db_session.connection()
    if database.kind == "postgresql":
        # Tiny tables: make a sort of the whole result cost what it costs on a big queue.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        assert "ix_ticket_open_queue" in plan, plan
        # Only the id tie-break is sorted, group by group (no sort of the whole backlog).
        assert not re.search(r"(^|->)\s*Sort\s+\(", plan, re.MULTILINE), plan
    else:
        # SQLite cannot prove a partial index's WHERE from bound parameters: with the
        # statuses written out, the queue's index serves the order. Asked for by name, as
        # PostgreSQL's is above: on three rows without statistics SQLite's planner may as
        # well take ix_ticket_queue, depending on which index the test schema made first.
        literal = statement.replace("?", "{!r}").format(*parameters).replace(
            "FROM ticket ", "FROM ticket INDEXED BY ix_ticket_open_queue ", 1)
        assert "INDEXED BY" in literal, literal
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + literal))
        assert "USING INDEX ix_ticket_open_queue" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # only its right part (id)


QUEUE_FILTERS = [queries.TicketFilter(), queries.TicketFilter(status=None),
                 queries.TicketFilter(status=Status.ASSIGNED),
                 queries.TicketFilter(category="printer"),
                 queries.TicketFilter(search="may in"), queries.TicketFilter(search="100%"),
                 queries.TicketFilter(search="a_b"),
                 queries.TicketFilter(status=None, category="network", search="quầy")]


def test_queue_rows_are_the_lists_tickets_as_the_queue_shows_them(db_session, registry, now):
    """queries.queue_rows (plain rows, its own statement) reads the tickets list_tickets
    reads, in the same order, for each shape of filters; a row carries its ward's and
    assignee's names, its SLA state and whether the student may claim it."""
    a, b, elsewhere = make_ward(db_session), make_ward(db_session), make_ward(db_session)
    student = make_student(db_session, a, TODAY)
    from helpdesk_core.services import users
    users.assign_student(db_session, student, b, "Đại học Duy Tân", TODAY, TODAY)
    other = make_student(db_session, a, TODAY)
    made = [make_ticket(db_session, registry, ward, now, **values) for ward, values in [
        (a, {}), (a, {"urgency": "citizen_waiting"}), (b, {"urgency": "today"}),
        (a, {"category": "printer", "title": "Máy in quầy 1 kẹt giấy", "triage": PRINTER}),
        (b, {"title": "Mất 100% mạng"}), (a, {"title": "Mất mạng a_b"}),
        (a, {"title": "Mất mạng aXb"}), (elsewhere, {})]]
    tickets.perform(db_session, registry, made[0], other, "claim", now)
    resolve(db_session, registry, made[6], student, now)
    made[1].assignee = other  # new, but someone's already: not to claim
    made[2].at_risk = True
    made[5].response_breached = True
    db_session.flush()
    later = now + dt.timedelta(days=30)  # every open ticket overdue by then
    for filters in QUEUE_FILTERS:
        for moment in (now, later):
            expected, more = queries.list_tickets(db_session, student, TODAY, filters)
            rows, more_rows = queries.queue_rows(db_session, student, TODAY, filters, moment)
            assert [r.id for r in rows] == [t.id for t in expected], filters
            assert more_rows == more
            for row, ticket in zip(rows, expected):
                assert row.ward_name == ticket.ward.name
                assert row.assignee_name == (ticket.assignee.name if ticket.assignee else None)
                assert (row.number, row.title, row.status, row.priority, row.category,
                        row.citizen_waiting, row.resolution_due_at) == (
                    ticket.number, ticket.title, ticket.status, ticket.priority,
                    ticket.category, ticket.citizen_waiting, ticket.resolution_due_at)
                assert row.sla == queries.sla_state(ticket, moment)
                assert row.claimable == (ticket.status == Status.NEW and ticket.assignee is None)
    rows, _ = queries.queue_rows(db_session, student, TODAY, queries.TicketFilter(), later)
    assert {r.sla for r in rows} == {"breached"}
    rows, _ = queries.queue_rows(db_session, student, TODAY, queries.TicketFilter(), now)
    assert {r.id: r.sla for r in rows}[made[2].id] == "at_risk"
    assert {r.id: r.sla for r in rows}[made[5].id] == "breached"
    claimable = {r.id for r in rows if r.claimable}
    assert made[3].id in claimable and made[1].id not in claimable
    assert made[7].id not in {r.id for r in rows} and made[6].id not in {r.id for r in rows}
    assert [r.id for r in queries.queue_rows(db_session, student, TODAY,
                                             queries.TicketFilter(search="100%"), now)[0]] \
        == [made[4].id]
    assert [r.id for r in queries.queue_rows(db_session, student, TODAY,
                                             queries.TicketFilter(search="a_b"), now)[0]] \
        == [made[5].id]
    assert len(queries.queue_rows(db_session, student, TODAY, queries.TicketFilter(), now,
                                  page_size=2)[0]) == 2


def test_queue_rows_refuses_filters_it_does_not_apply(db_session):
    student = make_student(db_session, make_ward(db_session), TODAY)
    with pytest.raises(ValueError):
        queries.queue_rows(db_session, student, TODAY, queries.TicketFilter(assignee_id=1),
                           dt.datetime(2026, 3, 10, tzinfo=dt.timezone.utc))
