"""A form sent twice (a clerk sending again after a timeout) files one ticket, adds one
comment and attaches a file once."""

from __future__ import annotations

import io
import re

from helpdesk_core.models import Attachment, Ticket, TicketEvent

from .test_tickets_web import PNG, PRINTER_FORM, body, count

FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')


def form_key(page: str) -> str:
    match = FORM_KEY.search(page)
    assert match, "no form_key in the page"
    return match.group(1)


def test_the_filing_form_sent_twice_files_one_ticket_with_one_photo(app, client, world, login):
    login("staff_a")
    key = form_key(body(client.get("/tickets/new/printer")))
    assert form_key(body(client.get("/tickets/new/printer"))) != key  # one per form shown

    def send():
        data = dict(PRINTER_FORM, form_key=key, photo=(io.BytesIO(PNG), "lỗi.png"))
        return client.post("/tickets/new/printer", data=data, content_type="multipart/form-data")

    first, second = send(), send()
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, Ticket, Ticket.category == "printer") == 1
    assert count(app, TicketEvent, TicketEvent.kind == "filed") == 3  # with the world's two
    assert count(app, Attachment) == 1
    # A new form is a new request.
    client.post("/tickets/new/printer", data=dict(PRINTER_FORM, form_key=form_key(
        body(client.get("/tickets/new/printer")))))
    assert count(app, Ticket, Ticket.category == "printer") == 2


def test_a_form_sent_back_with_errors_keeps_its_key(app, client, world, login):
    login("staff_a")
    key = form_key(body(client.get("/tickets/new/printer")))
    response = client.post("/tickets/new/printer", data=dict(PRINTER_FORM, title="",
                                                             form_key=key))
    assert response.status_code == 400 and form_key(body(response)) == key
    assert count(app, Ticket, Ticket.category == "printer") == 0
    client.post("/tickets/new/printer", data=dict(PRINTER_FORM, form_key=key))
    client.post("/tickets/new/printer", data=dict(PRINTER_FORM, form_key=key))
    assert count(app, Ticket, Ticket.category == "printer") == 1


def test_a_comment_sent_twice_is_added_once(app, client, world, login):
    login("staff_a")
    key = form_key(body(client.get(f"/tickets/{world.ticket_a}")))
    for _ in range(2):
        response = client.post(f"/tickets/{world.ticket_a}/comment",
                               data={"body": "Máy vẫn không in được", "form_key": key})
        assert response.status_code == 302
    assert count(app, TicketEvent, TicketEvent.kind == "comment") == 1
    # Without a key (an old page still open) a comment is simply added.
    client.post(f"/tickets/{world.ticket_a}/comment", data={"body": "Thêm một ý"})
    assert count(app, TicketEvent, TicketEvent.kind == "comment") == 2


def test_a_file_sent_twice_is_attached_once(app, client, world, login):
    login("staff_a")
    for _ in range(2):
        response = client.post(f"/tickets/{world.ticket_a}/attachments",
                               data={"photo": (io.BytesIO(PNG), "a.png")},
                               content_type="multipart/form-data")
        assert response.status_code == 302
    assert count(app, Attachment) == 1
    assert count(app, TicketEvent, TicketEvent.kind == "attachment") == 1
