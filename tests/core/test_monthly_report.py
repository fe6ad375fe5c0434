"""The city's monthly report: figures on a known data set, the XLSX re-read with openpyxl,
the PDF rendered (pdftoppm) and read back (pdftotext), one stored report per month."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from sqlalchemy import event, func, select

from helpdesk_core.models import (Asset, CalendarDay, MonthlyReport, Role, Source, Status,
                                  TicketRating, Ward)
from helpdesk_core.monthly_files import render_pdf, render_xlsx
from helpdesk_core.services import counter_help, monthly, monthly_store, reports, tickets
from helpdesk_core.stickers import find_font
from tests.conftest import missing
from tests.factories import make_student, make_ticket, make_user, make_ward

UTC = dt.timezone.utc
MARCH = dt.date(2026, 3, 1)
IN_MARCH = dt.datetime(2026, 3, 10, 3, tzinfo=UTC)
LABELS = {"network": "Mạng, Wi-Fi", "printer": "Máy in"}


def _ticket(session, registry, ward, *, created, status=Status.NEW, **fields):
    ticket = make_ticket(session, registry, ward, created)
    ticket.created_at = created
    ticket.status = status
    for key, value in fields.items():
        setattr(ticket, key, value)
    session.flush()
    return ticket


def _world(session, registry, extra: int = 0):
    """Three wards (Sơn Trà has no ticket at all), a printer, two students, tickets of
    March and one of February. *extra* adds that many more March tickets to Hải Châu."""
    hai_chau = make_ward(session, code="HCH", name="Phường Hải Châu")
    hoa_khanh = make_ward(session, code="HKH", name="Phường Hòa Khánh")
    make_ward(session, code="STR", name="Phường Sơn Trà")
    printer = Asset(ward=hai_chau, category="printer", kind="printer", name="Máy in quầy 1")
    session.add(printer)
    staff = make_user(session, Role.STAFF, hai_chau)
    dtu = make_student(session, hai_chau, MARCH, name="Võ Minh Tuấn")
    fpt = make_user(session, Role.STUDENT)
    from helpdesk_core.services import users
    users.assign_student(session, fpt, hoa_khanh, "Đại học FPT", MARCH, dt.date(2026, 5, 31))
    session.flush()
    due = IN_MARCH + dt.timedelta(days=1)
    # Hải Châu: 3 filed in March (2 resolved, 1 on time), 1 escalated to 1022.
    t1 = _ticket(session, registry, hai_chau, created=IN_MARCH, asset_id=printer.id,
                 category="printer", source=Source.HEALTH_CHECK)
    t2 = _ticket(session, registry, hai_chau, created=IN_MARCH, asset_id=printer.id)
    t3 = _ticket(session, registry, hai_chau, created=IN_MARCH)
    for n in range(extra):
        _ticket(session, registry, hai_chau, created=IN_MARCH, asset_id=printer.id)
    # Hòa Khánh: 1 filed in March, 1 filed in February and resolved in March (late).
    t4 = _ticket(session, registry, hoa_khanh, created=IN_MARCH + dt.timedelta(days=7))
    t5 = _ticket(session, registry, hoa_khanh, created=dt.datetime(2026, 2, 20, tzinfo=UTC))
    for ticket, student, at in ((t1, dtu, IN_MARCH), (t2, dtu, IN_MARCH), (t5, fpt, IN_MARCH)):
        tickets.perform(session, registry, ticket, student, "claim", at)
        tickets.perform(session, registry, ticket, student, "resolve",
                        at + dt.timedelta(hours=2), reason="Đã sửa")
    t1.resolution_due_at, t2.resolution_due_at = due, IN_MARCH  # t2 late
    t5.resolution_due_at = dt.datetime(2026, 2, 21, tzinfo=UTC)  # late
    tickets.perform(session, registry, t3, dtu, "claim", IN_MARCH)
    tickets.perform(session, registry, t3, dtu, "escalate", IN_MARCH + dt.timedelta(hours=1),
                    reason="Lỗi hệ thống một cửa")
    session.add_all([TicketRating(ticket=t1, rating=5, student_id=dtu.id, rater_id=staff.id,
                                  created_at=IN_MARCH),
                     TicketRating(ticket=t2, rating=4, student_id=dtu.id, rater_id=staff.id,
                                  created_at=IN_MARCH)])
    session.flush()
    return t4


def _report(session):
    return monthly.build_report(session, MARCH, category_labels=LABELS)


def test_the_report_counts_a_known_month(db_session, registry):
    _world(db_session, registry)
    report = _report(db_session)
    assert [s.key for s in report.sections] == ["wards", "categories", "sla", "escalations",
                                                "assets", "students", "counter_help"]
    wards = {r[0]: r[1:] for r in report.section("wards").rows}
    # Every ward is there, Sơn Trà too with nothing; the February ticket is resolved in March.
    assert wards == {"Phường Hải Châu": [3, 2], "Phường Hòa Khánh": [1, 1],
                     "Phường Sơn Trà": [0, 0]}
    assert report.section("wards").total[1:] == [4, 3]
    categories = {r[0]: r[1:] for r in report.section("categories").rows}
    assert categories == {"Mạng, Wi-Fi": [3, 75.0], "Máy in": [1, 25.0]}
    sla = {r[0]: r[1:] for r in report.section("sla").rows}
    assert sla["Phường Hải Châu"] == [2, 1, 50.0] and sla["Phường Hòa Khánh"] == [1, 0, 0.0]
    assert sla["Phường Sơn Trà"] == [0, 0, None]
    assert report.section("sla").total[1:] == [3, 1, 33.3]
    assert report.section("escalations").rows == [["Mạng, Wi-Fi", 1, 1]]
    assets = report.section("assets").rows
    assert assets == [["Máy in quầy 1 (Phường Hải Châu)", 2, 1, "printer"]]
    students = {r[0]: r[1:] for r in report.section("students").rows}
    assert students == {"Đại học Duy Tân": [1, 1, 2, 4.5, 2], "Đại học FPT": [1, 1, 1, None, 0]}
    assert report.summary == {"wards": 3, "filed": 4, "resolved": 3, "sla_percent": 33.3}


def test_the_sla_table_lists_a_ward_that_resolved_nothing(db_session, registry):
    _world(db_session, registry)
    rows, _overall = reports.sla_compliance(db_session, monthly.month_period(MARCH))
    son_tra = [r for r in rows if r.name == "Phường Sơn Trà"]
    assert son_tra and (son_tra[0].resolved, son_tra[0].percent) == (0, None)


def test_counter_help_sums_the_students_log_per_kind(db_session, registry):
    _world(db_session, registry)
    section = _report(db_session).section("counter_help")
    assert section.rows == [] and section.chart == "none" and section.note
    ward = db_session.scalar(select(Ward).order_by(Ward.id))
    student = make_student(db_session, ward, MARCH)
    inside = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.timezone.utc)
    kinds = list(counter_help.kinds(registry.categories))
    for kind, people, at in [("vneid_level2", 4, inside), ("vneid_level2", 3, inside),
                             ("online_filing", 2, inside),
                             ("online_filing", 9, dt.datetime(2026, 4, 2, 3, 0, tzinfo=dt.timezone.utc))]:
        counter_help.log_help(db_session, student, ward, kind, kinds, people=people, now=at)
    db_session.flush()
    section = _report(db_session).section("counter_help")
    assert [row[1:] for row in section.rows] == [[2, 7], [1, 2]]  # April's entry is left out
    assert section.total[1:] == [3, 9] and section.chart == "column"


def _count_queries(session, work):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_query_count_does_not_grow_with_the_data(db_session, registry):
    _world(db_session, registry)
    db_session.commit()
    small = _count_queries(db_session, lambda: _report(db_session))
    # Ten times the tickets, more wards and students: the same number of queries.
    ward = make_ward(db_session, name="Phường Ngũ Hành Sơn")
    for n in range(30):
        _ticket(db_session, registry, ward, created=IN_MARCH + dt.timedelta(minutes=n))
    make_student(db_session, ward, MARCH)
    db_session.commit()
    large = _count_queries(db_session, lambda: _report(db_session))
    assert small == large and small <= 12


def test_the_workbook_has_a_sheet_and_a_native_chart_per_section(db_session, registry):
    _world(db_session, registry)
    report = _report(db_session)
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(report)))
    assert len(book.sheetnames) == 1 + len(report.sections)
    wards = book[book.sheetnames[1]]
    assert wards["A1"].value == report.section("wards").title
    table = {wards.cell(r, 1).value: (wards.cell(r, 2).value, wards.cell(r, 3).value)
             for r in range(4, 4 + 3)}
    assert table == {"Phường Hải Châu": (3, 2), "Phường Hòa Khánh": (1, 1),
                     "Phường Sơn Trà": (0, 0)}
    assert (wards.cell(7, 2).value, wards.cell(7, 3).value) == (4, 3)  # the total row
    # A chart on every sheet with data (openpyxl keeps charts it reads in _charts).
    charted = {name: len(book[name]._charts) for name in book.sheetnames[1:]}
    assert all(count == 1 for name, count in charted.items() if not name.startswith("7."))
    assert charted[book.sheetnames[7]] == 0  # counter help: no data, no chart
    sla = book[book.sheetnames[3]]
    assert [sla.cell(r, 4).value for r in range(4, 8)] == [50.0, 0.0, None, 33.3]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} not found (poppler-utils)")
    return path


def test_the_pdf_keeps_vietnamese_letters_and_renders(db_session, registry, tmp_path):
    _world(db_session, registry)
    from helpdesk_core import i18n
    with i18n.use_locale("vi"):
        report = _report(db_session)
        pdf = render_pdf(report, find_font())
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    for words in ("Phường Hòa Khánh", "Phường Sơn Trà", "Đại học Duy Tân", "Máy in quầy 1",
                  "Tổng đài 1022", "Mạng, Wi-Fi"):
        assert words in text, words
    assert "Báo cáo" in text and "03/2026" in text
    subprocess.run([_tool("pdftoppm"), "-r", "40", "-png", str(path), str(tmp_path / "page")],
                   check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 1 + len(report.sections)  # a title page, then a page per section
    assert all(p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG" for p in pages)
    fonts = subprocess.run([_tool("pdffonts"), str(path)], check=True, capture_output=True,
                           text=True).stdout
    # The TrueType font is embedded (a subset): the text reads the same everywhere.
    truetype = [line.split() for line in fonts.splitlines() if "TrueType" in line]
    assert truetype and all(cols[-5:-2] == ["yes", "yes", "yes"] for cols in truetype)


def _options():
    return monthly_store.Options(find_font(), LABELS)


def test_generating_twice_keeps_one_report_per_month(db_session, registry):
    _world(db_session, registry)
    first = monthly_store.generate(db_session, MARCH, _options(), IN_MARCH)
    db_session.commit()
    again, made = monthly_store.ensure(db_session, dt.date(2026, 3, 17), _options(), IN_MARCH)
    assert (again.id, made) == (first.id, False)
    later = IN_MARCH + dt.timedelta(days=30)
    replaced = monthly_store.generate(db_session, MARCH, _options(), later)
    db_session.commit()
    assert replaced.id == first.id and replaced.generated_at == later
    assert db_session.scalar(select(func.count()).select_from(MonthlyReport)) == 1
    assert replaced.pdf[:5] == b"%PDF-" and replaced.xlsx[:2] == b"PK"
    assert [r.month for r in monthly_store.list_reports(db_session)] == [MARCH]


def test_the_scheduler_step_makes_last_month_from_the_first_working_day(db_session, registry):
    _world(db_session, registry)
    db_session.commit()
    # 1/1/2027 is a public holiday, 2-3/1 a weekend: the first working day is Monday 4/1.
    holiday = dt.datetime(2027, 1, 1, 2, tzinfo=UTC)
    assert monthly_store.run_due(db_session, _options(), holiday - dt.timedelta(days=300)) \
        is not None  # March 2026's report of February, made once
    db_session.commit()
    count = db_session.scalar(select(func.count()).select_from(MonthlyReport))
    assert monthly_store.run_due(db_session, _options(), holiday) is None
    assert monthly_store.run_due(db_session, _options(),
                                 dt.datetime(2027, 1, 3, 2, tzinfo=UTC)) is None
    made = monthly_store.run_due(db_session, _options(), dt.datetime(2027, 1, 4, 0, 30, tzinfo=UTC))
    db_session.commit()
    assert made is not None and made.month == dt.date(2026, 12, 1) and made.generated_by_id is None
    assert monthly_store.run_due(db_session, _options(),
                                 dt.datetime(2027, 1, 4, 5, tzinfo=UTC)) is None  # kept
    assert db_session.scalar(select(func.count()).select_from(MonthlyReport)) == count + 1
    # A city-wide declared day off moves the first working day.
    db_session.add(CalendarDay(ward_id=None, day=dt.date(2027, 2, 1), is_working=False))
    db_session.flush()
    assert monthly_store.run_due(db_session, _options(),
                                 dt.datetime(2027, 2, 1, 3, tzinfo=UTC)) is None


def test_delivery_tells_coordinators_through_the_outbox_once(db_session, registry):
    _world(db_session, registry)
    lan = make_user(db_session, Role.COORDINATOR, email="lan@danang.gov.vn", name="Nguyễn Thị Lan")
    make_user(db_session, Role.COORDINATOR, email="")
    make_user(db_session, Role.COORDINATOR, email="nghi@danang.gov.vn").active = False
    make_user(db_session, Role.ADMIN, email="admin@danang.gov.vn")
    row = monthly_store.generate(db_session, MARCH, _options(), IN_MARCH)
    queued = monthly_store.deliver_report(db_session, registry, row, IN_MARCH)
    emails = [n for n in queued if n.channel == "email"]
    assert [(n.address, n.user_id) for n in emails] == [("lan@danang.gov.vn", lan.id)]
    assert "03/2026" in emails[0].subject and emails[0].url.endswith("/dashboard/monthly")
    db_session.flush()
    again = monthly_store.deliver_report(db_session, registry, row, IN_MARCH)
    assert [n for n in again if n.channel == "email"] == []  # the month's key: sent once
