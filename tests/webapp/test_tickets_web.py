"""The tickets area over HTTP: who reaches which page, filing, the queue, the ticket page."""

from __future__ import annotations

import io
import os
import re

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import Attachment, Status, Ticket, TicketEvent, User
from helpdesk_core.services import tickets as ticket_service
from tests.conftest import FIXED_NOW
from tests.factories import make_ticket
from webapp.extensions import db

ROLES = ["staff_a", "staff_b", "student_a", "student_expired", "coordinator", "admin", "anonymous"]

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01"
       b"\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PRINTER_FORM = {"title": "Máy in kẹt giấy", "description": "Quầy 1 in không ra",
                "triage-symptom": "paper_jam", "triage-connection": "usb",
                "triage-error_code": "13.B2"}


def body(response) -> str:
    return response.get_data(as_text=True)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def get_ticket(app, ticket_id) -> Ticket:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        db.session.expunge(ticket)
        return ticket


# --- who sees what --------------------------------------------------------------------

HOME = {"staff_a": "/tickets/new", "student_a": "/tickets/queue", "coordinator": "/dashboard/",
        "admin": "/dashboard/", "anonymous": "/login"}


@pytest.mark.parametrize("who", list(HOME))
def test_home_sends_each_role_to_its_start_page(client, login, who):
    login(who)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith(HOME[who])


# Expected status per role for pages about ward A's ticket and the role-bound pages.
ACCESS = {
    "/tickets/new": dict(staff_a=200, staff_b=200, student_a=403, student_expired=403,
                         coordinator=403, admin=403, anonymous=302),
    "/tickets/new/printer": dict(staff_a=200, staff_b=200, student_a=403, student_expired=403,
                                 coordinator=403, admin=403, anonymous=302),
    "/tickets/queue": dict(staff_a=403, staff_b=403, student_a=200, student_expired=200,
                           coordinator=200, admin=200, anonymous=302),
    "/tickets/queue/rows": dict(staff_a=403, staff_b=403, student_a=200, student_expired=200,
                                coordinator=200, admin=200, anonymous=302),
    "/tickets/": dict(staff_a=200, staff_b=200, student_a=200, student_expired=200,
                      coordinator=200, admin=200, anonymous=302),
    "/tickets/{a}": dict(staff_a=200, staff_b=404, student_a=200, student_expired=404,
                         coordinator=200, admin=200, anonymous=302),
    "/tickets/{a}/filed": dict(staff_a=200, staff_b=404, student_a=200, student_expired=404,
                               coordinator=200, admin=200, anonymous=302),
}


@pytest.mark.parametrize("who", ROLES)
def test_every_page_answers_each_role_as_expected(client, world, login, who):
    login(who)
    for pattern, expected in ACCESS.items():
        url = pattern.format(a=world.ticket_a)
        response = client.get(url)
        assert response.status_code == expected[who], (url, who)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["staff_b", "student_expired"])
def test_outsiders_see_nothing_of_ward_a(app, client, world, login, who):
    login(who)
    pages = ["/tickets/", "/tickets/?status=", "/tickets/?status=&q=mat+mang+quay+2"]
    if who == "staff_b":
        pages.append("/tickets/new")
    else:
        pages += ["/tickets/queue", "/tickets/queue/rows", "/tickets/queue?status="]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        assert world.number_a not in body(response), url
        assert "Mất mạng quầy 2" not in body(response), url
    # Not found, and the same page as for a ticket that does not exist at all.
    missing = client.get("/tickets/999999")
    hidden = client.get(f"/tickets/{world.ticket_a}")
    assert hidden.status_code == missing.status_code == 404
    assert world.number_a not in body(hidden)
    # Acting on it is refused the same way, and changes nothing.
    for action in ("claim", "resolve", "cancel", "confirm"):
        response = client.post(f"/tickets/{world.ticket_a}/do/{action}", data={f"{action}-reason": "x"})
        assert response.status_code == 404
    assert client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "xin chào"}).status_code == 404
    assert client.post(f"/tickets/{world.ticket_a}/checklist", data={"template": "x"}).status_code == 404
    assert client.post(f"/tickets/{world.ticket_a}/checklist/0", data={"done": "y"}).status_code == 404
    assert client.post(f"/tickets/{world.ticket_a}/attachments",
                       data={"photo": (io.BytesIO(PNG), "a.png")},
                       content_type="multipart/form-data").status_code == 404
    assert count(app, Attachment) == 0
    assert get_ticket(app, world.ticket_a).status == Status.NEW
    assert count(app, TicketEvent, TicketEvent.kind == "comment") == 0


@pytest.mark.parametrize("path", ["do/claim", "do/resolve", "comment", "checklist",
                                  "checklist/0", "attachments"])
def test_anonymous_posts_go_to_the_login_page(app, client, world, path):
    response = client.post(f"/tickets/{world.ticket_a}/{path}", data={"body": "x"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert get_ticket(app, world.ticket_a).status == Status.NEW
    assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    assert count(app, Ticket, Ticket.category == "printer") == 0


def test_students_queue_lists_only_their_wards(client, world, login):
    login("student_a")
    page = body(client.get("/tickets/queue"))
    assert world.number_a in page and world.number_b not in page
    login("coordinator")
    page = body(client.get("/tickets/queue"))
    assert world.number_a in page and world.number_b in page
    # A coordinator can narrow by ward.
    page = body(client.get(f"/tickets/queue?ward={world.ward_b}"))
    assert world.number_a not in page and world.number_b in page


# --- the front desk ---------------------------------------------------------------------

def test_category_buttons_come_from_the_plugins(client, login, app):
    login("staff_a")
    page = body(client.get("/tickets/new"))
    registry = app.extensions["helpdesk"]
    positions = []
    for category in registry.sorted_categories():
        assert f'href="/tickets/new/{category.key}"' in page
        assert category.icon in page
        positions.append(page.index(f'href="/tickets/new/{category.key}"'))
    assert positions == sorted(positions)
    assert client.get("/tickets/new/khong-co").status_code == 404


def test_staff_files_a_printer_ticket_with_a_photo(app, client, world, login):
    login("staff_a")
    form = client.get("/tickets/new/printer")
    page = body(form)
    assert 'name="triage-symptom"' in page and "Máy in quầy 1" in page  # triage + assets
    assert "Máy in HK" not in page  # another ward's device
    assert 'accept="image/*,application/pdf"' in page and "capture" in page
    data = dict(PRINTER_FORM, citizen_waiting="y", asset=str(world.printer_a),
                photo=(io.BytesIO(PNG), "màn hình lỗi.png"))
    response = client.post("/tickets/new/printer", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    confirmation = client.get(response.headers["Location"])
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.category == "printer"))
        assert ticket.ward_id == world.ward_a and ticket.reporter_id == world.user_ids["staff_a"]
        assert ticket.urgency == "citizen_waiting" and ticket.impact == "person"
        assert ticket.triage["symptom"] == "paper_jam" and ticket.triage["error_code"] == "13.B2"
        assert ticket.asset_id == world.printer_a
        [attachment] = ticket.attachments
        assert attachment.content_type == "image/png" and attachment.filename == "màn hình lỗi.png"
        stored = os.path.join(app.config["UPLOAD_FOLDER"], attachment.storage_key)
        with open(stored, "rb") as handle:
            assert handle.read() == PNG
        number = ticket.number
    assert number in body(confirmation)
    assert 'data-testid="ticket-number"' in body(confirmation)


def test_whole_centre_affected_raises_the_impact(app, client, world, login):
    login("staff_a")
    client.post("/tickets/new/printer", data=dict(PRINTER_FORM, whole_centre="y"))
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.category == "printer"))
        assert ticket.impact == "center" and ticket.urgency == "normal"


def test_bad_filing_keeps_what_was_typed_and_stores_nothing(app, client, world, login):
    login("staff_a")
    before = count(app, Ticket)
    data = dict(PRINTER_FORM, title="", **{"triage-symptom": "", "triage-error_code": "Đèn đỏ nhấp nháy"},
                description="Khách đang chờ ở quầy 3", citizen_waiting="y")
    response = client.post("/tickets/new/printer", data=data)
    page = body(response)
    assert response.status_code == 400
    assert "Vui lòng kiểm tra" in page  # the general message, in Vietnamese
    assert "Vui lòng nhập tiêu đề ngắn" in page  # on the title field
    assert 'id="triage-symptom-err"' in page  # the plugin's question is marked too
    assert "Khách đang chờ ở quầy 3" in page and "Đèn đỏ nhấp nháy" in page
    assert re.search(r'id="citizen_waiting"[^>]*checked|checked[^>]*id="citizen_waiting"', page)
    assert 'value="usb" selected' in page or 'selected value="usb"' in page
    assert count(app, Ticket) == before


def _select(page: str, name: str) -> re.Match:
    found = re.search(r'<select([^>]*name="%s"[^>]*)>(.*?)</select>' % name, page, re.S)
    assert found, name
    return found


def test_required_choices_start_unanswered(client, world, login):
    """A required question shows “— Chọn —”, not its first answer as if it were chosen."""
    login("staff_a")
    page = body(client.get("/tickets/new/network"))
    scope = _select(page, "triage-scope")
    assert "required" in scope.group(1)
    first = re.search(r"<option([^>]*)>([^<]*)</option>", scope.group(2))
    assert first.group(2) == "— Chọn —" and 'value=""' in first.group(1)
    assert "selected" in first.group(1) and scope.group(2).count("selected") == 1
    # A question with a sensible default (“Don't know”) keeps it; no prompt there.
    provider = _select(page, "triage-provider")
    assert "— Chọn —" not in provider.group(2)
    assert re.search(r'<option (selected )?value="unknown"( selected)?>', provider.group(2)).group(0) \
        .count("selected") == 1
    # A select with option groups gets its prompt once, before the groups.
    page = body(client.get("/tickets/new/printer"))
    assert _select(page, "triage-symptom").group(2).count("— Chọn —") == 1


def test_an_unanswered_required_choice_is_refused_and_the_rest_kept(app, client, world, login):
    login("staff_a")
    response = client.post("/tickets/new/printer",
                           data=dict(PRINTER_FORM, **{"triage-symptom": ""}))
    page = body(response)
    assert response.status_code == 400 and 'id="triage-symptom-err"' in page
    assert "— Chọn —" in page and "Máy in kẹt giấy" in page
    assert count(app, Ticket, Ticket.category == "printer") == 0


def test_a_photo_far_over_the_limit_keeps_the_form(app, client, world, login):
    """Beyond the per-file limit but within the request limit: the form comes back whole."""
    # The defaults leave room for a photo four times the per-file limit.
    assert app.config["MAX_CONTENT_LENGTH"] >= 4 * app.config["ATTACHMENT_MAX_BYTES"]
    app.config["ATTACHMENT_MAX_BYTES"] = 100 * 1024  # keeps the test client's body in memory
    login("staff_a")
    big = PNG + b"\x00" * (app.config["ATTACHMENT_MAX_BYTES"] * 3)
    data = dict(PRINTER_FORM, description="Khách đang chờ", photo=(io.BytesIO(big), "to.png"))
    response = client.post("/tickets/new/printer", data=data, content_type="multipart/form-data")
    page = body(response)
    assert response.status_code == 400 and 'id="photo-err"' in page and "lớn hơn" in page
    assert "Máy in kẹt giấy" in page and "Khách đang chờ" in page
    assert 'data-max-bytes="%d"' % app.config["ATTACHMENT_MAX_BYTES"] in page
    assert count(app, Ticket, Ticket.category == "printer") == 0


def test_a_device_of_another_ward_is_refused(app, client, world, login):
    login("staff_a")
    response = client.post("/tickets/new/printer", data=dict(PRINTER_FORM, asset=str(world.printer_b)))
    assert response.status_code == 400
    assert count(app, Ticket, Ticket.category == "printer") == 0


@pytest.mark.parametrize("payload, name, message", [
    (b"MZ\x90\x00 this is a program", "anh.jpg", "Chỉ đính kèm được ảnh"),
    (b"<html><script>alert(1)</script></html>", "bao-cao.pdf", "Chỉ đính kèm được ảnh"),
    (PNG + b"\x00" * 2048, "lon.png", "lớn hơn"),
])
def test_attachments_are_checked_by_content_and_size(app, client, world, login,
                                                      payload, name, message):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    login("staff_a")
    data = dict(PRINTER_FORM, photo=(io.BytesIO(payload), name))
    response = client.post("/tickets/new/printer", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = body(response)
    assert message in page and 'id="photo-err"' in page
    assert "Vui lòng chọn lại ảnh" in page  # a browser cannot keep a chosen file
    assert "Máy in kẹt giấy" in page  # the title typed is still there
    assert count(app, Ticket, Ticket.category == "printer") == 0
    assert count(app, Attachment) == 0
    folder = app.config["UPLOAD_FOLDER"]
    assert not os.path.isdir(folder) or os.listdir(folder) == []
    # Same rules when adding a file to an existing ticket.
    response = client.post(f"/tickets/{world.ticket_a}/attachments",
                           data={"photo": (io.BytesIO(payload), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and message in body(response)
    assert count(app, Attachment) == 0


def test_files_are_served_only_to_those_who_see_the_ticket(app, client, world, login):
    login("staff_a")
    response = client.post(f"/tickets/{world.ticket_a}/attachments",
                           data={"photo": (io.BytesIO(PDF), "bien-ban.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        url = f"/tickets/{world.ticket_a}/attachments/{attachment.id}"
        wrong_ticket = f"/tickets/{world.ticket_b}/attachments/{attachment.id}"
    expected = dict(staff_a=200, staff_b=404, student_a=200, student_expired=404,
                    coordinator=200, admin=200, anonymous=302)
    for who, status in expected.items():
        login(who)
        response = client.get(url)
        assert response.status_code == status, who
        if status == 200:
            assert response.data == PDF and response.mimetype == "application/pdf"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    login("coordinator")
    assert client.get(wrong_ticket).status_code == 404


def test_staff_confirm_or_reopen_a_resolution(app, client, world, login, registry):
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        student = s.get(type(ticket.reporter), world.user_ids["student_a"])
        ticket_service.perform(s, registry, ticket, student, "claim", FIXED_NOW)
        ticket_service.perform(s, registry, ticket, student, "resolve", FIXED_NOW, reason="Đã cắm lại dây")
        ticket_service.commit(s)
    login("staff_a")
    page = body(client.get("/tickets/new"))
    assert world.number_a in page  # "waiting for your confirmation"
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "/do/confirm" in page and "/do/reopen" in page and "/do/resolve" not in page
    # Reopen needs a reason: refused, nothing changes, the form says why.
    response = client.post(f"/tickets/{world.ticket_a}/do/reopen", data={"reopen-reason": "  "})
    assert response.status_code == 400 and 'id="reopen-reason-err"' in body(response)
    assert get_ticket(app, world.ticket_a).status == Status.RESOLVED
    response = client.post(f"/tickets/{world.ticket_a}/do/reopen",
                           data={"reopen-reason": "Vẫn chưa vào mạng được"})
    assert response.status_code == 302
    assert get_ticket(app, world.ticket_a).status == Status.ASSIGNED
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        student = s.get(type(ticket.reporter), world.user_ids["student_a"])
        ticket_service.perform(s, registry, ticket, student, "resolve", FIXED_NOW, reason="Thay dây mạng")
        ticket_service.commit(s)
    assert client.post(f"/tickets/{world.ticket_a}/do/confirm").status_code == 302
    assert get_ticket(app, world.ticket_a).status == Status.CLOSED
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Đã đóng" in page or "Đóng" in page


# --- the queue ----------------------------------------------------------------------------

def test_queue_marks_risk_and_breach_sorted_by_due_time(app, client, world, login, registry):
    with app.app_context():
        s = db.session
        ward = s.get(type(s.get(Ticket, world.ticket_a).ward), world.ward_a)
        late = make_ticket(s, registry, ward, FIXED_NOW, title="Máy tính quầy 5 treo")
        late.resolution_due_at = FIXED_NOW.replace(hour=0)
        risky = make_ticket(s, registry, ward, FIXED_NOW, title="Máy scan chậm")
        risky.at_risk = True
        ticket_service.commit(s)
        late_number, risky_number = late.number, risky.number
    login("student_a")
    page = body(client.get("/tickets/queue"))
    assert page.index(late_number) < page.index(world.number_a)
    assert re.search(r'class="row-breached" data-ticket="%s"' % late_number, page)
    assert re.search(r'class="row-at_risk" data-ticket="%s"' % risky_number, page)
    assert "Quá hạn" in page and "Sắp quá hạn" in page


def test_queue_polls_a_partial_that_shows_new_tickets(app, client, world, login, registry):
    app.config["QUEUE_REFRESH_SECONDS"] = 7
    login("student_a")
    page = body(client.get("/tickets/queue?category=network"))
    assert 'hx-trigger="every 7s"' in page
    assert 'hx-get="/tickets/queue/rows?category=network"' in page
    assert "vendor/htmx.min.js" in page
    with app.app_context():
        s = db.session
        ward = s.get(type(s.get(Ticket, world.ticket_a).ward), world.ward_a)
        fresh = make_ticket(s, registry, ward, FIXED_NOW, title="Wifi sảnh chờ yếu")
        ticket_service.commit(s)
        number = fresh.number
    rows = body(client.get("/tickets/queue/rows?category=network"))
    assert number in rows and "<html" not in rows
    assert number not in body(client.get("/tickets/queue/rows?category=printer"))


HOSTILE = "<script>alert(1)</script> & \"q\" 'x' {title} %(number)s 100%"
HOSTILE_HTML = ("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;q&#34; &#39;x&#39; {title} "
                "%(number)s 100%")


@pytest.mark.parametrize("path", ["/tickets/queue", "/tickets/queue/rows"])
def test_the_queues_rows_escape_what_users_wrote(app, client, world, login, registry, path):
    """A row's title, ward and assignee names come out escaped (webapp/queue_table.py
    builds the rows), and braces or percent signs in them are text, not placeholders."""
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        ticket.title = HOSTILE
        ticket.ward.name = "<b>Phường</b> {ward_name}"
        assignee = s.get(User, world.user_ids["student_a2"])
        assignee.name = "<i>Sinh viên</i> %s"
        ticket.assignee_id = assignee.id
        ticket.status = Status.ASSIGNED
        ticket_service.commit(s)
    login("student_a")
    page = body(client.get(path))
    row = re.search(r'<tr class="[^"]*" data-ticket="%s">.*?</tr>' % world.number_a, page, re.S)
    assert row, page
    row = row.group(0)
    assert HOSTILE_HTML in row and "<script>" not in page
    assert "&lt;b&gt;Phường&lt;/b&gt; {ward_name}" in row and "<b>" not in page
    assert '<span class="muted small">&lt;i&gt;Sinh viên&lt;/i&gt; %s</span>' in row
    assert f'href="/tickets/{world.ticket_a}"' in row


def test_a_queue_row_offers_a_claim_in_the_users_language(app, client, world, login):
    """The claim form of a row: its ticket's URL and number, the page's CSRF token and
    the words of the user's language (the row's markup and badges are kept per language)."""
    login("student_a")
    for language, word, status in (("vi", "Nhận xử lý", "Chờ tiếp nhận"), ("en", "Claim", "New"),
                                   ("vi", "Nhận xử lý", "Chờ tiếp nhận")):
        client.post(f"/language/{language}", data={"next": "/tickets/queue"})
        page = body(client.get("/tickets/queue"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = (f'<form method="post" action="/tickets/{world.ticket_a}/do/claim" '
                f'class="inline">\n        <input type="hidden" name="csrf_token" '
                f'value="{token}">\n        <input type="hidden" name="from" value="queue">\n'
                f'        <button type="submit" class="primary" '
                f'aria-label="{word} {world.number_a}">{word}</button>\n      </form>')
        assert form in page, page
        assert f'<span class="badge status-new">{status}</span>' in page


def test_a_logged_out_queue_sends_the_tab_to_the_login_page(client, world, login):
    login("anonymous")
    response = client.get("/tickets/queue/rows", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.data == b""
    assert response.headers["HX-Redirect"].startswith("/login")


def test_queue_filters_by_status(app, client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    assert world.number_a in body(client.get("/tickets/queue?status=assigned"))
    assert world.number_a not in body(client.get("/tickets/queue?status=new"))


def test_claim_and_the_loser_of_a_race_gets_a_clear_message(app, client, world, login):
    login("student_a2")
    assert client.post(f"/tickets/{world.ticket_a}/do/claim", data={"from": "queue"}).status_code == 302
    login("student_a")
    response = client.post(f"/tickets/{world.ticket_a}/do/claim", data={"from": "queue"},
                           follow_redirects=True)
    assert response.status_code == 200
    page = body(response)
    assert response.request.path == "/tickets/queue"  # back in the queue, with the reason
    assert "flash-error" in page and "không thể thao tác như vậy" in page
    assert get_ticket(app, world.ticket_a).assignee_id == world.user_ids["student_a2"]


# --- the ticket page ----------------------------------------------------------------------

def test_student_works_a_ticket_with_a_checklist(app, client, world, login):
    login("student_a")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "/do/claim" in page and "/do/resolve" not in page
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "/do/resolve" in page and "/do/escalate" in page and "/do/claim" not in page
    assert "/do/assign" not in page and "/do/confirm" not in page
    with app.app_context():
        registry = app.extensions["helpdesk"]
        template = registry.templates_for("network")[0]
    response = client.post(f"/tickets/{world.ticket_a}/checklist", data={"template": template.key})
    assert response.status_code == 302
    client.post(f"/tickets/{world.ticket_a}/checklist/0", data={"done": "y"})
    client.post(f"/tickets/{world.ticket_a}/checklist/1", data={"done": "y"})
    client.post(f"/tickets/{world.ticket_a}/checklist/1", data={})
    assert get_ticket(app, world.ticket_a).checklist == {"template": template.key, "done": [0]}
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert 'aria-checked="true"' in page and "Bước 1 đã xong" in page
    # A checklist key of another category is refused with a message.
    response = client.post(f"/tickets/{world.ticket_a}/checklist", data={"template": "paper_jam"})
    assert response.status_code == 400
    assert get_ticket(app, world.ticket_a).checklist["template"] == template.key
    # Resolve needs a reason; what was typed elsewhere is not lost.
    response = client.post(f"/tickets/{world.ticket_a}/do/resolve", data={"resolve-reason": ""})
    assert response.status_code == 400 and 'id="resolve-reason-err"' in body(response)
    client.post(f"/tickets/{world.ticket_a}/do/resolve", data={"resolve-reason": "Khởi động lại modem"})
    ticket = get_ticket(app, world.ticket_a)
    assert ticket.status == Status.RESOLVED
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Khởi động lại modem" in page and "Đã xử lý" in page


def test_staff_cannot_tick_a_checklist(app, client, world, login):
    login("staff_a")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "/checklist" not in page
    client.post(f"/tickets/{world.ticket_a}/checklist", data={"template": "no_internet"})
    assert get_ticket(app, world.ticket_a).checklist in ({}, None)


def test_escalate_to_the_city_hotline_with_a_reason(app, client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "1022" in page
    response = client.post(f"/tickets/{world.ticket_a}/do/escalate", data={"escalate-reason": ""})
    assert response.status_code == 400
    assert get_ticket(app, world.ticket_a).escalation_level == 0
    client.post(f"/tickets/{world.ticket_a}/do/escalate",
                data={"escalate-reason": "Đường truyền của cả phường bị mất"})
    ticket = get_ticket(app, world.ticket_a)
    assert ticket.status == Status.WAITING_CITY and ticket.escalation_level == 1
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Đã chuyển lên tổng đài 1022" in page


def test_coordinator_assigns_to_a_student_of_the_ward(app, client, world, login):
    login("coordinator")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert 'name="assign-assignee"' in page
    assert "Võ Minh Tuấn" in page and "Bùi Đức Anh" not in page  # expired assignment
    response = client.post(f"/tickets/{world.ticket_a}/do/assign",
                           data={"assign-assignee": str(world.user_ids["student_expired"])})
    assert response.status_code == 400 and 'id="assign-assignee-err"' in body(response)
    assert get_ticket(app, world.ticket_a).assignee_id is None
    client.post(f"/tickets/{world.ticket_a}/do/assign",
                data={"assign-assignee": str(world.user_ids["student_a"])})
    assert get_ticket(app, world.ticket_a).assignee_id == world.user_ids["student_a"]
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Đã giao cho Võ Minh Tuấn" in page
    # Given to another: the first entry still names the first student (neither the
    # assignee now nor the author of an entry: read by id).
    client.post(f"/tickets/{world.ticket_a}/do/assign",
                data={"assign-assignee": str(world.user_ids["student_a2"])})
    assert get_ticket(app, world.ticket_a).assignee_id == world.user_ids["student_a2"]
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Đã giao cho Võ Minh Tuấn" in page and "Đã giao cho Đặng Thu Trang" in page


def test_internal_comments_are_hidden_from_staff(app, client, world, login):
    login("student_a")
    response = client.post(f"/tickets/{world.ticket_a}/comment", data={"body": ""})
    assert response.status_code == 400 and 'id="body-err"' in body(response)
    client.post(f"/tickets/{world.ticket_a}/comment",
                data={"body": "Nghi switch tầng 2 hỏng", "internal": "y"})
    client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "Chiều nay em qua kiểm tra"})
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Nghi switch tầng 2 hỏng" in page and "Chiều nay em qua kiểm tra" in page
    login("staff_a")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Nghi switch tầng 2 hỏng" not in page and "Chiều nay em qua kiểm tra" in page
    assert 'name="internal"' not in page
    client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "Cảm ơn em", "internal": "y"})
    with app.app_context():
        mine = db.session.scalar(select(TicketEvent).where(TicketEvent.body == "Cảm ơn em"))
        assert mine.internal is False


def test_ticket_page_shows_triage_device_checks_and_similar(app, client, world, login, registry):
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        ward, staff = ticket.ward, ticket.reporter
        from helpdesk_core.models import Asset, User
        printer = s.get(Asset, world.printer_a)
        student = s.get(User, world.user_ids["student_a"])
        current = make_ticket(s, registry, ward, FIXED_NOW, category="printer", reporter=staff,
                              title="May in quay 1 ket giay", asset=printer,
                              triage={"symptom": "paper_jam", "connection": "usb"})
        old = make_ticket(s, registry, ward, FIXED_NOW, category="printer",
                          title="Máy in kẹt giấy liên tục",
                          triage={"symptom": "paper_jam", "connection": "usb"})
        ticket_service.perform(s, registry, old, student, "claim", FIXED_NOW)
        ticket_service.perform(s, registry, old, student, "resolve", FIXED_NOW, reason="Vệ sinh trục")
        ticket_service.commit(s)
        current_id, old_number = current.id, old.number
    login("student_a")
    page = body(client.get(f"/tickets/{current_id}"))
    assert "Kẹt giấy" in page or "paper_jam" in page  # triage summary
    assert "Máy in quầy 1" in page
    # The last 10 of 12 check results (the latest also stands on its own, on top).
    assert len(set(re.findall(r"lần kiểm tra \d+", page))) == 10
    assert "lần kiểm tra 0" in page and "lần kiểm tra 11" not in page
    assert old_number in page  # similar: "may in" found "Máy in"
    page = body(client.get(f"/tickets/{current_id}?q=truc"))
    assert old_number not in page  # the query searches text, not the resolution
    page = body(client.get(f"/tickets/{current_id}?q=lien+tuc"))
    assert old_number in page
    login("staff_a")
    page = body(client.get(f"/tickets/{current_id}"))
    assert "lần kiểm tra" not in page and old_number not in page  # students' tools only


def test_history_is_human_readable_and_translated(app, client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Đã giao cho Võ Minh Tuấn" in page
    assert "10/03/2026 09:00" in page  # dd/mm/yyyy, Da Nang time
    client.post("/language/en", data={"next": "/"})
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert "Assigned to Võ Minh Tuấn." in page and "Status changed from New to Assigned." in page
    assert 'lang="en"' in page


# --- bounded work per page ---------------------------------------------------------------

# The queue with every filter it has (status, category, ward, a search).
QUEUE_FILTERED = "/tickets/queue/rows?status=&category=network&ward={ward}&q=S%E1%BB%B1+c%E1%BB%91"


def _add_tickets(app, registry, world, n):
    from helpdesk_core.models import User, Ward
    with app.app_context():
        s = db.session
        ward = s.get(Ward, world.ward_a)
        student = s.get(User, world.user_ids["student_a"])
        for i in range(n):
            t = make_ticket(s, registry, ward, FIXED_NOW, title=f"Sự cố số {i}")
            ticket_service.comment(s, registry, t, student, f"ghi chú {i}", FIXED_NOW)
            ticket_service.perform(s, registry, t, student, "claim", FIXED_NOW)
        ticket_service.comment(s, registry, s.get(Ticket, world.ticket_a), student,
                               f"thêm {n}", FIXED_NOW)
        ticket_service.commit(s)


@pytest.mark.parametrize("url", ["/tickets/queue", "/tickets/queue/rows", "/tickets/",
                                 "/tickets/{a}", QUEUE_FILTERED])
def test_queries_per_page_do_not_grow_with_tickets(app, client, world, login, registry,
                                                    count_queries, url):
    url = url.format(a=world.ticket_a, ward=world.ward_a)
    login("student_a")
    _add_tickets(app, registry, world, 2)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    _add_tickets(app, registry, world, 12)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.value == few.value, (few.value, many.value)
    assert few.value <= 40


def test_ticket_page_reads_its_people_device_and_files_with_the_ticket(
        app, client, world, login, count_queries):
    """The reporter, the assignee, the device and the files come in the ticket's own
    statement (FOR_PAGE), not one statement each."""
    from helpdesk_core.models import Asset, User
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        ticket.assignee = s.get(User, world.user_ids["student_a2"])
        ticket.asset = s.scalars(select(Asset).where(Asset.ward_id == world.ward_a)).first()
        s.add(Attachment(ticket=ticket, filename="giay-to.pdf", content_type="application/pdf",
                         size=2048, sha256="0" * 64, storage_key="k"))
        ticket_service.commit(s)
    login("student_a")
    with count_queries() as seen:
        page = client.get(f"/tickets/{world.ticket_a}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "giay-to.pdf" in html and "Đặng Thu Trang" in html and "Trần Văn Minh" in html
    selects = [" ".join(q.split()) for q in seen.statements if q.lstrip().startswith("SELECT")]
    own = [q for q in selects if _main_from(q).startswith(("attachment", "asset "))]
    assert not own, own
    people = [q for q in selects if _main_from(q).startswith("user_account")]
    assert len(people) == 1, people  # the one logged in (the session's user)


def _main_from(statement: str) -> str:
    """What follows the FROM of *statement* itself, not one of a subquery's."""
    depth = 0
    for at, char in enumerate(statement):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and statement.startswith(" FROM ", at):
            return statement[at + len(" FROM "):]
    return ""


def test_ticket_page_queries_do_not_grow_with_the_actions_shown(app, client, world, login,
                                                                 registry, count_queries):
    """A new ticket shows one action; claimed and started, it shows the forms of several
    (a reason each): the page reads the same statements."""
    login("student_a")
    with count_queries() as few:
        page = client.get(f"/tickets/{world.ticket_a}").get_data(as_text=True)
    assert "action-wait_vendor" not in page
    with app.app_context():
        s = db.session
        ticket, student = s.get(Ticket, world.ticket_a), s.get(User, world.user_ids["student_a"])
        ticket_service.perform(s, registry, ticket, student, "claim", FIXED_NOW)
        ticket_service.perform(s, registry, ticket, student, "start", FIXED_NOW)
        ticket_service.commit(s)
    with count_queries() as many:
        page = client.get(f"/tickets/{world.ticket_a}").get_data(as_text=True)
    for action in ("wait_reporter", "wait_vendor", "escalate", "resolve"):
        assert f'action="/tickets/{world.ticket_a}/do/{action}"' in page
    assert many.value == few.value, "\n".join(many.statements)


def test_action_urls_give_what_url_for_gives(app):
    from flask import url_for
    from webapp.ticket_page import action_urls
    from helpdesk_core.services import workflow
    with app.test_request_context("/", base_url="http://example.test/helpdesk/"):
        urls = action_urls(Ticket(id=42))
        assert set(urls) == set(workflow.ACTIONS)
        for name, url in urls.items():
            assert url == url_for("tickets.act", ticket_id=42, action=name)


@pytest.mark.parametrize("url", ["/tickets/queue", "/tickets/queue/rows", QUEUE_FILTERED])
def test_a_students_queue_costs_five_statements_at_most(client, world, login, count_queries,
                                                        url):
    """The queue is the students' busiest page (issue 18): the account with its ward, the
    assignments' wards in one query (their ids scope the tickets; the rows alone read only
    the ids), the tickets with their ward and assignee, the open incidents; and SQLite's
    BEGIN."""
    url = url.format(ward=world.ward_a)
    login("student_a")
    with count_queries() as seen:
        assert client.get(url).status_code == 200
    assert seen.value <= 5, "\n".join(seen.statements)


def test_filing_runs_a_fixed_number_of_queries(app, client, world, login, registry,
                                               count_queries):
    """Filing costs the same statements with 2 or 14 tickets in the ward (no N+1)."""
    login("staff_a")
    _add_tickets(app, registry, world, 2)
    with count_queries() as few:
        assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    _add_tickets(app, registry, world, 12)
    with count_queries() as many:
        assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    assert many.value == few.value, (few.value, many.value)
    # Filing (issue 18): the user, the form's devices, the ward's calendar with the SLA
    # policies, the counter (which also checks the form key), the ticket, its event; its
    # notifications, in the same transaction: who is on duty with their accounts and
    # preferences (one query: pattern and changes), the webhooks, and the recipients'
    # push subscriptions and Zalo ids (a query per channel); on SQLite the BEGIN of the
    # reads and the BEGIN IMMEDIATE of the writes. No SAVEPOINT, no coordinators.
    assert few.value <= 12, "\n".join(few.statements)


def test_filing_queries_do_not_grow_with_the_people_notified(app, client, world, login,
                                                              count_queries):
    """Each channel reads the addresses of everyone it notifies in one query: five
    students placed in the ward cost what two did."""
    from helpdesk_core.models import Ward
    from tests.factories import make_student
    from tests.webapp.conftest import LOCAL_TODAY

    login("staff_a")
    with count_queries() as two:
        assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    with app.app_context():
        ward = db.session.get(Ward, world.ward_a)
        for name in ("Phan Gia Huy", "Lý Ngọc Mai", "Hồ Quốc Bảo"):
            make_student(db.session, ward, LOCAL_TODAY, name=name)
        db.session.commit()
    with count_queries() as five:
        assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    assert five.value == two.value, "\n".join(five.statements)


def test_filing_reads_before_its_first_write(app, client, world, login, count_queries):
    """SQLite's one writer holds the lock from the first write (BEGIN IMMEDIATE) to the
    commit: the user, the form, who is on duty, the calendars, the people and their
    channels are read before it (readahead); after it, only the SLA policy of the
    priority just computed."""
    login("staff_a")
    with count_queries() as seen:
        assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    statements = [" ".join(s.split()) for s in seen.statements]
    first_write = next(i for i, s in enumerate(statements)
                       if s.startswith(("INSERT", "UPDATE", "DELETE")))
    reads_after = [s for s in statements[first_write:] if s.startswith("SELECT")]
    assert all("FROM sla_policy" in s for s in reads_after), reads_after
    assert any("notification_preference" in s for s in statements[:first_write])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        immediate = statements.index("BEGIN IMMEDIATE")
        assert statements[0] == "BEGIN"  # the reads: deferred, no lock
        assert [s for s in statements[immediate + 1:first_write] if s.startswith("SELECT")] \
            == [s for s in statements[immediate + 1:first_write] if "form_key" in s]


def test_filing_checks_the_answers_before_it_takes_the_write_lock(client, world, login,
                                                                  monkeypatch):
    """The triage answers are checked (a plugin form) and the text masked while the
    filing still only reads: SQLite's write lock, which the other workers' filings wait
    for, is held for the writes alone."""
    from helpdesk_core import db as core_db
    from helpdesk_core.services import tickets as ticket_service

    reading_when_checked = []
    check = ticket_service.validate_triage

    def watched(*args, **kwargs):
        reading_when_checked.append(core_db._READS_ONLY.get())
        return check(*args, **kwargs)

    monkeypatch.setattr(ticket_service, "validate_triage", watched)
    login("staff_a")
    assert client.post("/tickets/new/printer", data=PRINTER_FORM).status_code == 302
    assert reading_when_checked == [True]


# --- CSRF ----------------------------------------------------------------------------------

def test_forms_need_the_csrf_token(app, client, world, login):
    login("student_a")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/tickets/{world.ticket_a}/do/claim").status_code == 400
    assert get_ticket(app, world.ticket_a).status == Status.NEW
    app.config["WTF_CSRF_ENABLED"] = False
    login("staff_a")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/tickets/new/printer", data=PRINTER_FORM)
    assert response.status_code == 400
    response = client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "xin chào"})
    assert response.status_code == 400
    assert count(app, Ticket, Ticket.category == "printer") == 0
    assert count(app, TicketEvent, TicketEvent.kind == "comment") == 0
    page = body(client.get("/tickets/new/printer"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    triage_token = re.search(r'name="triage-csrf_token" type="hidden" value="([^"]+)"', page)
    assert triage_token  # the plugin form is built with CSRF on too
    data = dict(PRINTER_FORM, csrf_token=token, **{"triage-csrf_token": triage_token.group(1)})
    response = client.post("/tickets/new/printer", data=data)
    assert response.status_code == 302
    assert count(app, Ticket, Ticket.category == "printer") == 1


def test_the_ticket_list_pages_keep_the_filters(app, client, world, login, registry):
    login("student_a")
    _add_tickets(app, registry, world, 55)  # claimed: status "assigned"
    first = body(client.get("/tickets/?status=assigned&q=s%E1%BB%B1+c%E1%BB%91"))
    prefix = world.number_a.split("-")[0]
    numbers = set(re.findall(rf"{prefix}-\d{{4}}-\d{{5}}", first))
    assert len(numbers) == 50 and 'rel="prev"' not in first
    following = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "status=assigned" in following and "page=2" in following and "q=" in following
    second = body(client.get(following))
    assert len(set(re.findall(rf"{prefix}-\d{{4}}-\d{{5}}", second)) - numbers) == 5
    assert 'rel="prev"' in second and 'rel="next"' not in second
