"""Personal data on the web: every ticket page, attachment and export opened is recorded
with who, when and from where; administrators and coordinators read and export the log;
contact numbers come from profiles that people edit themselves."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from helpdesk_core.models import AccessKind, AccessRecord, Ticket, User
from helpdesk_core.services import access_log, attachments, tickets

from webapp.extensions import db

from ..conftest import FIXED_NOW
from ..core.test_personal_data import PNG

ADDRESS = {"REMOTE_ADDR": "10.20.30.40"}


def _records(app, **where):
    with app.app_context():
        query = select(AccessRecord).order_by(AccessRecord.id)
        for key, value in where.items():
            query = query.where(getattr(AccessRecord, key) == value)
        return [(r.user_id, r.kind, r.ticket_id, r.target, r.details, r.address, r.at)
                for r in db.session.scalars(query)]


def _attach(app, world) -> int:
    with app.app_context():
        ticket = db.session.get(Ticket, world.ticket_a)
        staff = db.session.get(User, world.user_ids["staff_a"])
        item = attachments.add_attachment(
            db.session, app.extensions["helpdesk"], ticket, staff, "giay_to.png", PNG,
            FIXED_NOW, folder=app.config["UPLOAD_FOLDER"], max_bytes=10_000)
        tickets.commit(db.session)
        return item.id


def test_opening_a_ticket_an_attachment_or_an_export_is_recorded(app, client, world, login):
    attachment_id = _attach(app, world)
    login("student_a")
    assert client.get(f"/tickets/{world.ticket_a}", environ_base=ADDRESS).status_code == 200
    download = client.get(f"/tickets/{world.ticket_a}/attachments/{attachment_id}",
                          environ_base=ADDRESS)
    assert download.status_code == 200 and download.data == PNG
    download.close()
    assert client.get(f"/tickets/{world.ticket_b}").status_code == 404  # not theirs: no record
    student = world.user_ids["student_a"]
    assert _records(app) == [
        (student, "ticket", world.ticket_a, "", {}, "10.20.30.40", FIXED_NOW),
        (student, "attachment", world.ticket_a, f"{attachment_id} giay_to.png", {},
         "10.20.30.40", FIXED_NOW)]

    login("coordinator")
    exported = client.get(f"/dashboard/export/tickets.csv?start=01/03/2026&end=10/03/2026"
                          f"&ward={world.ward_a}&status=open", environ_base=ADDRESS)
    assert exported.status_code == 200 and world.number_a in exported.get_data(as_text=True)
    assert client.get("/dashboard/export/students.csv").status_code == 200
    coordinator = world.user_ids["coordinator"]
    exports = _records(app, kind="export")
    assert exports[0][:5] == (coordinator, "export", None, "tickets.csv",
                              {"start": "01/03/2026", "end": "10/03/2026",
                               "ward": world.ward_a, "status": "open"})
    assert exports[1][3] == "students.csv"


def test_the_access_log_is_for_administrators_and_coordinators(app, client, world, login):
    for who in ("staff_a", "student_a"):
        login(who)
        assert client.get("/dashboard/access-log/").status_code == 403
        assert client.get("/dashboard/access-log/access_log.csv").status_code == 403
    login("anonymous")
    assert client.get("/dashboard/access-log/").status_code == 302
    for who in ("admin", "coordinator"):
        login(who)
        page = client.get("/dashboard/access-log/")
        assert page.status_code == 200
        assert "/dashboard/access-log/" in client.get("/tickets/").get_data(as_text=True)


def _seed(app, world):
    with app.app_context():
        staff = db.session.get(User, world.user_ids["staff_a"])
        student = db.session.get(User, world.user_ids["student_a"])
        ticket = db.session.get(Ticket, world.ticket_a)
        other = db.session.get(Ticket, world.ticket_b)
        for days in range(60):  # more than a page
            access_log.record_access(db.session, staff, AccessKind.TICKET,
                                     FIXED_NOW - dt.timedelta(days=days, hours=1),
                                     address="10.0.0.1", ticket=ticket)
        access_log.record_access(db.session, student, AccessKind.ATTACHMENT,
                                 FIXED_NOW - dt.timedelta(days=3), address="10.0.0.2",
                                 ticket=other, target="9 anh.png")
        tickets.commit(db.session)


def test_the_access_log_filters_pages_and_exports(app, client, world, login):
    _seed(app, world)
    login("coordinator")
    html = client.get("/dashboard/access-log/").get_data(as_text=True)
    assert html.count("10.0.0.1") == 49 and 'rel="next"' in html  # 50 a page
    assert "10.0.0.2" in html and world.number_b in html
    second = client.get("/dashboard/access-log/?page=2").get_data(as_text=True)
    assert second.count("10.0.0.1") == 11 and 'rel="prev"' in second

    by_user = client.get(f"/dashboard/access-log/?login={world.logins['student_a']}")
    text = by_user.get_data(as_text=True)
    assert "10.0.0.2" in text and "10.0.0.1" not in text
    by_ticket = client.get(f"/dashboard/access-log/?ticket={world.number_b.lower()}")
    assert "9 anh.png" in by_ticket.get_data(as_text=True)
    # Dates are local days, both ends included: 08/03 and 09/03 are two days of records.
    by_dates = client.get("/dashboard/access-log/?start=08/03/2026&end=09/03/2026")
    assert by_dates.get_data(as_text=True).count("10.0.0.1") == 2
    bad = client.get("/dashboard/access-log/?start=31/02/2026").get_data(as_text=True)
    assert 'value="31/02/2026"' in bad and "has-error" in bad  # kept and shown, not lost

    exported = client.get(f"/dashboard/access-log/access_log.csv?ticket={world.number_b}",
                          environ_base=ADDRESS)
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1][1] == world.logins["student_a"] and rows[1][4] == world.number_b
    assert rows[1][5] == "9 anh.png" and rows[1][7] == "10.0.0.2"
    [mine] = _records(app, user_id=world.user_ids["coordinator"])
    assert mine[1:4] == ("export", None, "access_log.csv")
    assert mine[4] == {"ticket": world.number_b} and mine[5] == "10.20.30.40"


# --- contacts come from profiles -------------------------------------------------------------

def test_people_edit_their_own_contact_and_the_ticket_page_shows_it(app, client, world,
                                                                     login):
    login("staff_a")
    page = client.get("/profile/")
    assert page.status_code == 200
    bad = client.post("/profile/", data={"phone": "gọi tôi", "email": "an@danang.gov.vn"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "has-error" in html and 'value="an@danang.gov.vn"' in html  # nothing lost
    saved = client.post("/profile/", data={"phone": "０２３６ ３８２１ ２３４",
                                           "email": "minh@danang.gov.vn"})
    assert saved.status_code == 302
    with app.app_context():
        staff = db.session.get(User, world.user_ids["staff_a"])
        assert (staff.phone, staff.email) == ("0236 3821 234", "minh@danang.gov.vn")

    login("student_a")
    client.post("/profile/", data={"phone": "0905 123 456", "email": ""})
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    # A call-back number typed into a comment is masked ...
    client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "Gọi tôi: 0905 123 456"})
    html = client.get(f"/tickets/{world.ticket_a}").get_data(as_text=True)
    assert "Gọi tôi: •••• ••• 456" in html
    # ... and the profiles' numbers are shown, in full, to those who see the ticket.
    assert 'href="tel:0905123456"' in html and "0905 123 456" in html
    assert "0236 3821 234" in html and "mailto:minh@danang.gov.vn" in html
    login("staff_b")
    assert client.get(f"/tickets/{world.ticket_a}").status_code == 404


@pytest.mark.parametrize("phone", ["123", "0905 123 456 789 012 345", "09o5123456",
                                   "+84 905 123 456 ext 2"])
def test_a_phone_number_must_look_like_one(app, client, world, login, phone):
    login("staff_a")
    assert client.post("/profile/", data={"phone": phone, "email": ""}).status_code == 400


def test_a_purge_reads_as_a_sentence_in_the_history(app, client, world, login):
    with app.app_context():
        ticket = db.session.get(Ticket, world.ticket_a)
        tickets.record_event(db.session, None, ticket, "purged", None, FIXED_NOW,
                             data={"texts": 4, "attachments": 1})
        tickets.commit(db.session)
    login("staff_a")
    html = client.get(f"/tickets/{world.ticket_a}").get_data(as_text=True)
    assert "(4 " in html and ", 1 " in html and "purged" not in html.split("<main")[1]


# --- masking reaches every place a ticket's text is shown ---------------------------------

ESCAPED = ("Công dân (0236) 3821 234, +84 (0) 905 123 456, CCCD ０４８０９５００１２３４, "
           "048_095_001_234, 0812 345 678, nguyen.van.an@gmail.com")
RAW = ["3821 234", "905 123 456", "０４８０９５", "048_095", "0812 345", "nguyen.van.an",
       "02363821234", "905123456", "048095001234", "812345678"]


def _assert_no_raw(text: str) -> None:
    for raw in RAW:
        assert raw not in text, raw


def test_numbers_in_every_format_are_masked_everywhere(app, client, world, login):
    login("staff_a")
    filed = client.post("/tickets/new/network", data={
        "title": "Mất mạng, gọi 0812 345 678", "description": ESCAPED,
        "triage-scope": "one_device", "triage-connection": "wired",
        "triage-what_fails": "one_site", "impact": "person", "urgency": "normal",
        "asset": "0"})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    ticket_id = int(filed.headers["Location"].split("/")[-2])
    client.post(f"/tickets/{ticket_id}/comment", data={"body": ESCAPED})
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        stored = " ".join([ticket.title, ticket.description, ticket.search_text] +
                          [e.body for e in ticket.events])
        number = ticket.number
    _assert_no_raw(stored)
    assert "••••••••１２３４" in stored and "n••••••••••••@gmail.com" in stored

    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    _assert_no_raw(page)
    assert "(••••) •••• 234" in page
    login("student_a")
    queue = client.get("/tickets/queue").get_data(as_text=True)
    assert number in queue
    _assert_no_raw(queue)
    assert number not in client.get("/tickets/?q=3821234").get_data(as_text=True)
    assert number in client.get("/tickets/?q=m%E1%BA%A5t+m%E1%BA%A1ng").get_data(as_text=True)
    login("coordinator")
    export = client.get("/dashboard/export/tickets.csv").get_data(as_text=True)
    assert number in export
    _assert_no_raw(export)


def test_a_ticket_page_shown_again_after_a_bad_form_is_recorded_too(app, client, world,
                                                                   login):
    login("student_a")
    page = client.post(f"/tickets/{world.ticket_a}/comment", data={"body": ""},
                       environ_base=ADDRESS)
    assert page.status_code == 400 and world.number_a in page.get_data(as_text=True)
    assert [r[1:3] for r in _records(app)] == [("ticket", world.ticket_a)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_record_commits_what_the_request_changed_before_it(app, world, method):
    """A page's read ends before the record's write (its own transaction on SQLite, the
    request's on PostgreSQL); a change the request made is committed with it, as
    before, whether flushed already or still in the session."""
    from flask_login import login_user

    from helpdesk_core.db import reset_reads_only, set_reads_only
    from webapp import access_log as web_access_log

    student = world.user_ids["student_a"]
    with app.test_request_context(f"/tickets/{world.ticket_a}", method=method,
                                  environ_base=ADDRESS):
        token = set_reads_only(method == "GET")
        try:
            user = db.session.get(User, student)
            login_user(user)
            ticket = db.session.get(Ticket, world.ticket_a)
            if method == "POST":
                user.phone = "0905 123 456"
                db.session.flush()
                user.email = "tuan@example.vn"  # not flushed yet
            web_access_log.record(AccessKind.TICKET, ticket=ticket)
        finally:
            reset_reads_only(token)
            db.session.remove()
    assert [r[:3] for r in _records(app)] == [(student, "ticket", world.ticket_a)]
    with app.app_context():
        user = db.session.get(User, student)
        expected = (("0905 123 456", "tuan@example.vn") if method == "POST"
                    else (user.phone, user.email))
        assert (user.phone, user.email) == expected
