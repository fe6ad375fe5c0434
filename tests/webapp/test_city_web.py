"""Web: the rating at confirmation, the all-wards page, the monthly report's pages."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from sqlalchemy import func, select

from helpdesk_core.models import (MonthlyReport, Shift, ShiftPart, Status, StudentAssignment,
                                  Ticket, TicketEvent, TicketRating)
from helpdesk_core.services import tickets as ticket_service
from tests.conftest import FIXED_NOW
from tests.factories import make_ward
from webapp.extensions import db


def body(response) -> str:
    return response.get_data(as_text=True)


def _resolve(app, world, registry) -> None:
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        student = s.get(type(ticket.reporter), world.user_ids["student_a"])
        ticket_service.perform(s, registry, ticket, student, "claim", FIXED_NOW)
        ticket_service.perform(s, registry, ticket, student, "resolve", FIXED_NOW,
                               reason="Đã cắm lại dây")
        ticket_service.commit(s)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_staff_confirm_and_rate_in_one_tap(app, client, world, login, registry):
    _resolve(app, world, registry)
    login("staff_a")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert page.count('name="rating"') == 6  # five ratings and "confirm without rating"
    response = client.post(f"/tickets/{world.ticket_a}/do/confirm",
                           data={"rating": "5", "rating_comment": "Nhanh, gọi 0905123456"})
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.get(Ticket, world.ticket_a)
        rating = db.session.scalar(select(TicketRating))
        assert ticket.status == Status.CLOSED
        assert (rating.rating, rating.student_id) == (5, world.user_ids["student_a"])
        assert "0905123456" not in rating.comment
    history = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "được đánh giá 5/5" in history and "0905123456" not in history


def test_confirm_without_rating_and_a_bad_rating(app, client, world, login, registry):
    _resolve(app, world, registry)
    login("staff_a")
    response = client.post(f"/tickets/{world.ticket_a}/do/confirm",
                           data={"rating": "9", "rating_comment": "Tốt"})
    assert response.status_code == 400
    page = body(response)
    assert "Hãy chọn điểm từ 1 đến 5" in page and "Tốt</textarea>" in page  # nothing lost
    assert _count(app, Ticket, Ticket.status == Status.RESOLVED) == 1
    response = client.post(f"/tickets/{world.ticket_a}/do/confirm", data={"rating": ""})
    assert response.status_code == 302
    assert _count(app, Ticket, Ticket.status == Status.CLOSED) == 1
    assert _count(app, TicketRating) == 0
    assert _count(app, TicketEvent, TicketEvent.kind == "rating") == 0


def test_the_all_wards_page_lists_every_ward_sorted(app, client, world, login):
    with app.app_context():
        make_ward(db.session, code="STR", name="Phường Sơn Trà")
        # Ward A's students on the roster this Tuesday morning (the app's clock).
        placements = db.session.scalars(select(StudentAssignment).where(
            StudentAssignment.ward_id == world.ward_a)).all()
        db.session.add_all(Shift(assignment=p, weekday=FIXED_NOW.weekday(), part=ShiftPart.MORNING)
                           for p in placements)
        db.session.commit()
    login("staff_a")
    assert client.get("/dashboard/wards").status_code == 403
    login("coordinator")
    page = body(client.get("/dashboard/wards"))
    for name in ("Phường Hải Châu", "Phường Hòa Khánh", "Phường Sơn Trà"):
        assert page.count(name) == 2, name  # in the table and in the heat map
    assert 'id="heatmap"' in page and "heat-0" in page and 'style=' not in page
    by_open = body(client.get("/dashboard/wards?sort=open&dir=desc"))
    table = by_open.split('id="ward-table"')[1].split("</table>")[0]
    assert table.index("Sơn Trà") > table.index("Hải Châu")  # 0 open sorts last
    assert 'aria-sort="descending"' in table
    # Students on duty now: ward A's two on this morning's roster, Sơn Trà none.
    rows = {r.split('"')[0]: r for r in table.split('data-ward="')[1:]}
    duty = 'data-label="Sinh viên đang trực">'
    assert duty + "0<" in rows["STR"]
    assert [code for code, r in rows.items() if duty + "2<" in r] == [
        code for code in rows if "Hải Châu" in rows[code]]
    assert client.get("/dashboard/wards?sort=bogus&start=99/99/2026").status_code == 200


def test_monthly_report_generate_list_download(app, client, world, login):
    login("coordinator")
    page = body(client.get("/dashboard/monthly"))
    assert "Chưa có báo cáo nào." in page and 'value="2026-02"' in page
    response = client.post("/dashboard/monthly", data={"month": "2026-03"})
    assert response.status_code == 302
    page = body(client.get("/dashboard/monthly"))
    assert "03/2026" in page and "/dashboard/monthly/2026-03/report.pdf" in page
    pdf = client.get("/dashboard/monthly/2026-03/report.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert "bao-cao-thang-2026-03.pdf" in pdf.headers["Content-Disposition"]
    xlsx = client.get("/dashboard/monthly/2026-03/report.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    wards = book[book.sheetnames[1]]
    names = {wards.cell(r, 1).value: wards.cell(r, 2).value for r in range(4, 6)}
    assert names == {"Phường Hải Châu": 1, "Phường Hòa Khánh": 1}
    # Regenerating keeps one report; bad months and formats are 404, bad form input 400.
    assert client.post("/dashboard/monthly", data={"month": "2026-03"}).status_code == 302
    assert _count(app, MonthlyReport) == 1
    assert client.get("/dashboard/monthly/2026-04/report.pdf").status_code == 404
    assert client.get("/dashboard/monthly/2026-13/report.pdf").status_code == 404
    assert client.get("/dashboard/monthly/2026-03/report.csv").status_code == 404
    assert client.post("/dashboard/monthly", data={"month": "1999-01"}).status_code == 400
    login("student_a")
    assert client.get("/dashboard/monthly/2026-03/report.pdf").status_code == 403


def test_the_scheduler_job_is_registered(app):
    from webapp import scheduler
    sched = scheduler.build(app)
    assert "monthly_report" in {job.id for job in sched.get_jobs()}


def test_the_scheduler_job_makes_last_month_once(app, world, monkeypatch):
    from webapp import scheduler
    # Monday 2/3/2026 is March's first working day: February's report is due.
    monkeypatch.setattr(scheduler, "_now", lambda: dt.datetime(2026, 3, 2, 1, tzinfo=dt.timezone.utc))
    first = scheduler.monthly_report(app)
    second = scheduler.monthly_report(app)
    assert first is not None and second is None
    assert _count(app, MonthlyReport, MonthlyReport.month == dt.date(2026, 2, 1)) == 1
