"""Bad input gets a clear answer: NUL and control characters, numbers past the columns,
dates past the calendar, and spreadsheet formulas in exports (see webapp/input_guard.py
and helpdesk_core/exports.py). The fuzz test walks every route; these pin each rule."""

from __future__ import annotations

import csv
import io

import pytest

from helpdesk_core.models import Ticket, User
from helpdesk_core.services import tickets
from tests.conftest import FIXED_NOW
from tests.factories import make_ticket

PRINTER_FORM = {"title": "Máy in kẹt giấy", "description": "Quầy 1 in không ra",
                "triage-symptom": "paper_jam", "triage-connection": "usb",
                "triage-error_code": "13.B2"}
CONTROL_MESSAGE = "Vui lòng xóa các ký tự điều khiển ẩn khỏi câu trả lời này."
HOSTILE_TITLES = ("=HYPERLINK(\"http://evil.example/\",\"Bấm\")", "+cmd|' /C calc'!A0",
                  "-2+3", "@SUM(A1:A2)", "\tthụt lề", "\rvề đầu dòng")


def body(response) -> str:
    return response.get_data(as_text=True)


def ticket_count(app) -> int:
    from sqlalchemy import func, select

    from webapp.extensions import db
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


# --- NUL and control characters ---------------------------------------------------------

def test_nul_in_a_filing_title_is_refused_with_the_form_kept(app, client, world, login):
    login("staff_a")
    before = ticket_count(app)
    response = client.post("/tickets/new/printer",
                           data=dict(PRINTER_FORM, title="Máy in\x00kẹt"))
    assert response.status_code == 400
    page = body(response)
    assert CONTROL_MESSAGE in page
    assert "Quầy 1 in không ra" in page and 'value="13.B2"' in page  # nothing typed lost
    assert ticket_count(app) == before


def test_nul_in_a_plugin_triage_answer_is_refused(app, client, world, login):
    login("staff_a")
    response = client.post("/tickets/new/printer",
                           data=dict(PRINTER_FORM, **{"triage-error_code": "13\x00B2"}))
    assert response.status_code == 400 and CONTROL_MESSAGE in body(response)


def test_control_characters_are_refused_in_one_line_fields_only(app, client, world, login):
    login("staff_a")
    refused = client.post("/tickets/new/printer",
                          data=dict(PRINTER_FORM, title="Máy in\x1b[31m kẹt"))
    assert refused.status_code == 400 and CONTROL_MESSAGE in body(refused)
    # Tabs and line breaks are ordinary in a description.
    filed = client.post("/tickets/new/printer",
                        data=dict(PRINTER_FORM, description="Dòng 1\r\n\tDòng 2"))
    assert filed.status_code == 302


@pytest.mark.parametrize("path_form", [
    ("comment", {"body": "Đã xem\x00"}),
    ("do/cancel", {"cancel-reason": "Nhầm\x00"}),
])
def test_nul_in_comments_and_reasons_is_a_form_error(app, client, world, login, path_form):
    path, form = path_form
    login("staff_a")
    response = client.post(f"/tickets/{world.ticket_a}/{path}", data=form)
    assert response.status_code == 400 and CONTROL_MESSAGE in body(response)


def test_nul_in_login_and_admin_forms(app, client, world, login):
    login("anonymous")
    response = client.post("/login", data={"login": "admin\x00", "password": "x"})
    assert response.status_code == 200 and CONTROL_MESSAGE in body(response)
    login("admin")
    response = client.post("/admin/wards/new", data={
        "code": "X1", "name": "Phường\x00X", "morning_start": "07:30", "morning_end": "11:30",
        "afternoon_start": "13:30", "afternoon_end": "17:00"})
    assert CONTROL_MESSAGE in body(response) and 'value="X1"' in body(response)


@pytest.mark.parametrize("path", ["/tickets/?q=a%00b", "/admin/users?q=%00",
                                  "/admin/assets?q=m%00"])
def test_nul_in_a_search_is_a_bad_request(app, client, world, login, path):
    login("admin")
    assert client.get(path).status_code == 400


def test_every_form_of_the_web_layer_carries_the_input_guards():
    """A new Flask-WTF form on a bare ``FlaskForm`` would skip them: keep that from happening."""
    import importlib
    import inspect
    import pkgutil

    from flask_wtf import FlaskForm

    import webapp
    from webapp.input_guard import SafeForm
    forms = [obj for info in pkgutil.iter_modules(webapp.__path__)
             if info.name not in ("cli", "scheduler")
             for obj in vars(importlib.import_module(f"webapp.{info.name}")).values()
             if inspect.isclass(obj) and issubclass(obj, FlaskForm) and obj.__module__
             .startswith("webapp")]
    assert len(forms) > 10
    assert [f.__name__ for f in forms if not issubclass(f, SafeForm)] == []


# --- integers ---------------------------------------------------------------------------

@pytest.mark.parametrize("number", [2 ** 31, 2 ** 63, 10 ** 20])
def test_ids_past_32_bits_are_not_found(app, client, world, login, number):
    login("admin")
    assert client.get(f"/tickets/{number}").status_code == 404
    assert client.get(f"/tickets/{world.ticket_a}/attachments/{number}").status_code == 404
    assert client.get(f"/admin/users/{number}").status_code == 404
    assert client.get(f"/tickets/{2 ** 31 - 1}").status_code == 404  # the largest id: a query


@pytest.mark.parametrize("query", ["ward=2147483648", "ward=9223372036854775808", "ward=-1"])
def test_ward_arguments_out_of_range_are_bad_requests(app, client, world, login, query):
    login("admin")
    for page in ("/tickets/", "/tickets/queue", "/health/", "/admin/assignments",
                 "/admin/assets"):
        assert client.get(f"{page}?{query}").status_code == 400, page


@pytest.mark.parametrize("query", ["page=2147483648", "page=100000000000000000000", "page=0"])
def test_page_arguments_out_of_range_are_bad_requests(app, client, world, login, query):
    login("admin")
    for page in ("/tickets/", "/admin/users", "/admin/assets", "/admin/calendar"):
        assert client.get(f"{page}?{query}").status_code == 400, page


def test_a_ward_past_32_bits_stops_the_export_before_it_starts(app, client, world, login):
    login("coordinator")
    response = client.get("/dashboard/export/tickets.csv?ward=2147483648")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert client.get("/tickets/?ward=abc").status_code == 200  # not a number: ignored


def test_a_select_of_ids_refuses_numbers_past_32_bits(app, client, world, login):
    login("coordinator")
    response = client.post(f"/tickets/{world.ticket_a}/do/assign",
                           data={"assign-assignee": str(2 ** 63)})
    assert response.status_code == 400
    assert "Số phải từ -2147483648 đến 2147483647." in body(response)


# --- dates ------------------------------------------------------------------------------

DATE_MESSAGE = "Vui lòng chọn ngày từ 01/01/2000 đến 31/12/2100."


@pytest.mark.parametrize("query", ["end=01/01/0001", "start=31/12/9999",
                                   "start=01/01/0001&end=31/12/9999"])
def test_dates_past_the_calendar_are_a_form_error_on_pages(app, client, world, login, query):
    login("coordinator")
    for page in ("/dashboard/", "/dashboard/students"):
        response = client.get(f"{page}?{query}")
        assert response.status_code == 200 and DATE_MESSAGE in body(response)


@pytest.mark.parametrize("export", ["tickets", "students"])
def test_dates_past_the_calendar_stop_an_export_with_the_message(app, client, world, login,
                                                                 export):
    login("coordinator")
    response = client.get(f"/dashboard/export/{export}.csv?end=01/01/0001")
    assert response.status_code == 400 and DATE_MESSAGE in body(response)


def test_an_export_over_too_long_a_period_says_so_and_leaves_no_message_behind(
        app, client, world, login):
    login("coordinator")
    response = client.get("/dashboard/export/tickets.csv?start=01/01/2024&end=10/03/2026")
    assert response.status_code == 400
    assert "Hãy chọn khoảng thời gian không quá 366 ngày." in body(response)
    assert "Hãy chọn khoảng thời gian" not in body(client.get("/dashboard/"))


# --- exports ----------------------------------------------------------------------------

def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_formulas_in_ticket_titles_are_inert_in_the_export(app, client, world, login,
                                                           registry):
    from webapp.extensions import db
    with app.app_context():
        ward = db.session.get(Ticket, world.ticket_a).ward
        for title in HOSTILE_TITLES:
            make_ticket(db.session, registry, ward, FIXED_NOW, title=title)
        tickets.commit(db.session)
    login("coordinator")
    rows = _rows(client.get("/dashboard/export/tickets.csv?start=01/03/2026&end=10/03/2026"))
    titles = {r[4] for r in rows[1:]}
    assert {"'" + t for t in HOSTILE_TITLES[:4]} <= titles  # tab and CR: the core trims them
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_formulas_in_student_names_are_inert_in_the_export(app, client, world, login):
    from webapp.extensions import db
    with app.app_context():
        student = db.session.get(User, world.user_ids["student_a"])
        student.name = "=1+1"
        student.login = "@evil"
        db.session.commit()
    login("coordinator")
    rows = _rows(client.get("/dashboard/export/students.csv?start=01/03/2026&end=10/03/2026"))
    by_login = {r[0]: r for r in rows[1:]}
    assert by_login["'@evil"][1] == "'=1+1"


def test_an_export_whose_query_fails_is_an_error_page_not_a_cut_download(
        app, client, world, login, monkeypatch):
    from helpdesk_core.services import reports

    def failing(*_args, **_kwargs):
        raise RuntimeError("the database went away")
        yield  # a generator, like the real one: it fails on its first row

    monkeypatch.setattr(reports, "iter_export_tickets", failing)
    login("coordinator")
    response = client.get("/dashboard/export/tickets.csv")
    assert response.status_code == 500
    assert not response.headers["Content-Type"].startswith("text/csv")
