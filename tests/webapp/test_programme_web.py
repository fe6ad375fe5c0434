"""The students' programme on the web: batches and universities, the ward's evaluation,
results per student (XLSX too), certificates and their public verification, and what a
university's own coordinator may (not) see."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from helpdesk_core.models import Batch, Certificate, Role, Status, University, User, Ward
from helpdesk_core.services import admin as admin_service
from helpdesk_core.services import batches
from tests.conftest import FIXED_NOW
from tests.factories import PASSWORD, make_ticket
from tests.webapp.html_forms import visible_text
from webapp.extensions import db

CITIZEN_PHONE = "0935 777 888"


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def programme(app, world, registry):
    """A batch ending 13/03/2026 (open for evaluation on 10/03) serving ward A, with two
    criteria; student A placed there from DTU; a resolved ticket mentioning a phone."""
    with app.app_context():
        s = db.session
        ward_a = s.get(Ward, world.ward_a)
        dtu = batches.save_university(s, None, code="DTU", name="Đại học Duy Tân")
        fpt = batches.save_university(s, None, code="FPT", name="Đại học FPT")
        batch = batches.save_batch(s, None, name="Đợt 2 – 2026", starts_on=dt.date(2026, 1, 5),
                                   ends_on=dt.date(2026, 3, 13), wards=[ward_a],
                                   issuing_unit="Sở Khoa học và Công nghệ Đà Nẵng",
                                   criteria="Tinh thần trách nhiệm; 5\nKỹ năng; 10")
        student = s.get(User, world.user_ids["student_a"])
        admin_service.save_assignment(s, None, student=student, ward=ward_a, university="",
                                      starts_on=dt.date(2026, 1, 5), ends_on=dt.date(2026, 3, 13),
                                      batch=batch, university_org=dtu)
        other = s.get(User, world.user_ids["student_a2"])
        admin_service.save_assignment(s, None, student=other, ward=ward_a, university="",
                                      starts_on=dt.date(2026, 1, 5), ends_on=dt.date(2026, 3, 13),
                                      batch=batch, university_org=fpt)
        ticket = make_ticket(s, registry, ward_a, FIXED_NOW - dt.timedelta(days=3),
                             title=f"Máy in kẹt, gọi chị Lan {CITIZEN_PHONE}")
        ticket.assignee_id, ticket.status = student.id, Status.RESOLVED
        ticket.resolved_at = FIXED_NOW - dt.timedelta(days=2)
        batches.create_university_coordinator(s, dtu, login="dtu.coord", name="Điều phối DTU",
                                              password=PASSWORD)
        s.commit()
        return {"batch": batch.id, "dtu": dtu.id, "fpt": fpt.id, "ticket": ticket.id,
                "number": ticket.number, "criteria": [c.id for c in batch.criteria]}


def test_coordinator_creates_a_batch_and_bad_input_is_kept(client, login, world):
    login("coordinator")
    bad = client.post("/programme/batches/new", data={
        "name": "Đợt 3", "starts_on": "01/06/2026", "ends_on": "01/05/2026",
        "wards": [str(world.ward_a)], "criteria": "Thái độ; 7"})
    page = body(bad)
    assert bad.status_code == 200
    assert "Thái độ; 7" in page and "thang điểm phải là 5 hoặc 10" in page
    assert "Ngày kết thúc không được trước ngày bắt đầu" in page or "ends_on" in page
    with client.application.app_context():
        assert db.session.scalar(select(Batch).where(Batch.name == "Đợt 3")) is None
    good = client.post("/programme/batches/new", data={
        "name": "Đợt 3", "starts_on": "01/05/2026", "ends_on": "30/06/2026",
        "wards": [str(world.ward_a), str(world.ward_b)], "issuing_unit": "Sở KH&CN",
        "criteria": "Thái độ; 5\nKỹ năng; 10"})
    assert good.status_code == 302
    with client.application.app_context():
        saved = db.session.scalar(select(Batch).where(Batch.name == "Đợt 3"))
        assert [(c.name, c.scale_max) for c in saved.criteria] == [("Thái độ", 5), ("Kỹ năng", 10)]
        assert {w.id for w in saved.wards} == {world.ward_a, world.ward_b}
    page = body(client.get(good.headers["Location"]))
    assert "Thái độ; 5" in page


def test_university_and_its_coordinator_account(client, login):
    login("coordinator")
    made = client.post("/programme/universities/new", data={"code": "vku", "name": "Trường "
                                                           "Đại học CNTT và TT Việt – Hàn",
                                                           "active": "y"})
    assert made.status_code == 302
    with client.application.app_context():
        vku = db.session.scalar(select(University).where(University.code == "VKU"))
    account = client.post(f"/programme/universities/{vku.id}/accounts", data={
        "login": "vku.coord", "name": "Điều phối VKU", "password": "một mật khẩu dài đủ 2026"})
    assert account.status_code == 302, body(account)
    with client.application.app_context():
        user = db.session.scalar(select(User).where(User.login == "vku.coord"))
        assert (user.role, user.university_id) == (Role.UNIVERSITY, vku.id)
    taken = client.post(f"/programme/universities/{vku.id}/accounts", data={
        "login": "vku.coord", "name": "Lần nữa", "password": "một mật khẩu dài đủ 2026"})
    assert "Tên đăng nhập này đã có người dùng" in body(taken) or "đã" in body(taken)


def test_university_coordinator_sees_own_students_without_citizens_data(app, client, world,
                                                                       programme):
    client.post("/logout")
    assert client.post("/login", data={"login": "dtu.coord", "password": PASSWORD}).status_code == 302
    home = client.get("/")
    assert home.headers["Location"].endswith("/programme/")
    page = visible_text(body(client.get("/programme/")))
    assert "Võ Minh Tuấn" in page and "Đặng Thu Trang" not in page  # FPT's student
    # Asking for FPT's students gives DTU's all the same.
    page = visible_text(body(client.get(f"/programme/?university={programme['fpt']}")))
    assert "Đặng Thu Trang" not in page
    student_page = body(client.get(f"/programme/students/{world.user_ids['student_a']}"))
    assert programme["number"] in student_page
    assert CITIZEN_PHONE not in student_page and "777 888" not in student_page
    assert client.get(f"/programme/students/{world.user_ids['student_a2']}").status_code == 404
    # No ticket page, no ticket list entry, no dashboard, no administration.
    assert client.get(f"/tickets/{programme['ticket']}").status_code in (403, 404)
    assert programme["number"] not in body(client.get("/tickets/"))
    assert CITIZEN_PHONE not in body(client.get("/tickets/?q=0935"))
    for path in ("/dashboard/", "/admin/", "/programme/batches", "/tickets/queue",
                 "/access-log/"):
        assert client.get(path).status_code in (403, 404), path
    book = openpyxl.load_workbook(io.BytesIO(client.get("/programme/results.xlsx").data))
    names = [row[0].value for row in book.active.iter_rows(min_row=2)]
    assert names == ["Võ Minh Tuấn"]


def test_ward_staff_evaluates_and_coordinators_see_it(client, login, world, programme):
    login("staff_b")  # another ward: nothing to evaluate, the form is not found
    assert "Võ Minh Tuấn" not in body(client.get("/programme/evaluations"))
    first, second = programme["criteria"]
    url = f"/programme/evaluations/{programme['batch']}/{world.user_ids['student_a']}"
    assert client.get(url).status_code == 404
    login("staff_a")
    assert "Võ Minh Tuấn" in body(client.get("/programme/evaluations"))
    bad = client.post(url, data={f"score_{first}": "5", f"score_{second}": "11",
                                 "comment": "Nhiệt tình, đúng giờ"})
    assert "Chọn điểm từ 1 đến 10" in body(bad) and "Nhiệt tình, đúng giờ" in body(bad)
    done = client.post(url, data={f"score_{first}": "5", f"score_{second}": "8",
                                  f"note_{first}": "Rất chăm", "comment": "Nhiệt tình"})
    assert done.status_code == 302
    again = body(client.get(url))
    assert "Rất chăm" in again
    assert re.search(rf'<input checked[^>]*name="score_{second}"[^>]*value="8"', again)
    login("coordinator")
    page = visible_text(body(client.get(f"/programme/?batch={programme['batch']}&sort=evaluation&desc=1")))
    assert page.index("Võ Minh Tuấn") < page.index("Đặng Thu Trang")
    assert "9.0" in page  # (5/5 + 8/10) / 2 of 10
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/programme/results.xlsx?batch={programme['batch']}&sort=evaluation&desc=1").data))
    first_row = [c.value for c in next(book.active.iter_rows(min_row=2))]
    assert first_row[0] == "Võ Minh Tuấn" and first_row[7] == 1 and first_row[11] == 9.0


def test_certificates_issue_download_and_public_verification(client, login, world, programme):
    login("coordinator")
    url = f"/programme/batches/{programme['batch']}/certificates"
    assert client.post(url).status_code == 302
    with client.application.app_context():
        numbers = {c.student_id: c.number for c in db.session.scalars(select(Certificate))}
    assert len(numbers) == 2
    assert client.post(url).status_code == 302  # issuing again keeps the numbers
    with client.application.app_context():
        assert {c.student_id: c.number for c in db.session.scalars(select(Certificate))} == numbers
    mine = numbers[world.user_ids["student_a"]]
    pdf = client.get(f"/programme/certificates/{mine}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(url + ".pdf").data.startswith(b"%PDF")
    login("student_a")
    assert client.get(f"/programme/certificates/{mine}").status_code == 200
    theirs = numbers[world.user_ids["student_a2"]]
    assert client.get(f"/programme/certificates/{theirs}").status_code == 404
    client.post("/logout")
    page = body(client.get(f"/verify/{mine}"))
    text = visible_text(page)
    assert "Võ Minh Tuấn" in text and "Đợt 2 – 2026" in text and "10/03/2026" in text
    assert "Đại học Duy Tân" not in text and "Phường Hải Châu" not in text  # nothing else
    forged = client.get("/verify/CN-2026-AAAA-BBBB-CCCC")
    assert forged.status_code == 404 and "Không có giấy chứng nhận nào mang số này" in body(forged)
    junk = client.get("/verify/?number=%3Cscript%3E")
    assert junk.status_code == 404 and "<script>" not in body(junk)
    assert client.get("/verify/").status_code == 200


def test_university_coordinator_walks_every_page_without_a_citizens_data(app, client, world,
                                                                         programme):
    """Every GET route, as a university's coordinator: no error, and the citizen's phone
    number (stored masked) or the ticket's number show nowhere but their student's page."""
    from flask import url_for
    client.post("/logout")
    client.post("/login", data={"login": "dtu.coord", "password": PASSWORD})
    values = {"ticket_id": programme["ticket"], "ward_id": world.ward_a,
              "asset_id": world.printer_a, "batch_id": programme["batch"],
              "university_id": programme["dtu"], "student_id": world.user_ids["student_a"],
              "user_id": world.user_ids["staff_a"]}
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith(
                ("api", "auth.")):
            continue
        args = {a: values.get(a, 1) for a in rule.arguments}
        with app.test_request_context():
            try:
                url = url_for(rule.endpoint, **args)
            except Exception:  # a converter that wants text: give it text
                url = url_for(rule.endpoint, **{a: "x" for a in rule.arguments})
        response = client.get(url)
        walked += 1
        assert response.status_code < 500, url
        text = response.get_data().decode("utf-8", "replace")
        response.close()  # a file sent as is (the service worker) holds its file open
        assert "777 888" not in text and CITIZEN_PHONE not in text, url
        if not url.startswith("/programme/students/"):
            assert programme["number"] not in text, url
    assert walked > 30
