"""What the front desk and the students see of a ticket: the suggested checklist, a
citizen waiting, what was done before staff confirm."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk_core.models import Ticket, Ward
from helpdesk_core.services import tickets as ticket_service
from tests.conftest import FIXED_NOW
from tests.factories import make_ticket
from tests.webapp.html_forms import post_form, visible_text
from webapp.extensions import db


def body(response) -> str:
    return response.get_data(as_text=True)


def printer_ticket(app, registry, world, symptom: str, **overrides) -> int:
    with app.app_context():
        s = db.session
        ward = s.get(Ward, world.ward_a)
        ticket = make_ticket(s, registry, ward, FIXED_NOW, category="printer",
                             title="Máy in quầy 1", triage={"symptom": symptom,
                                                             "connection": "usb"}, **overrides)
        ticket_service.commit(s)
        return ticket.id


def test_the_suggested_checklist_is_preselected(app, client, world, login, registry):
    ticket_id = printer_ticket(app, registry, world, "offline")
    login("student_a")
    client.post(f"/tickets/{ticket_id}/do/claim")
    page = body(client.get(f"/tickets/{ticket_id}"))
    assert "Máy in báo offline hoặc không tìm thấy" in visible_text(page)
    assert ("template", "offline") in post_form(page, f"/tickets/{ticket_id}/checklist")


def test_a_chosen_checklist_stays_selected(app, client, world, login, registry):
    ticket_id = printer_ticket(app, registry, world, "offline")
    login("student_a")
    client.post(f"/tickets/{ticket_id}/do/claim")
    client.post(f"/tickets/{ticket_id}/checklist", data={"template": "toner"})
    page = body(client.get(f"/tickets/{ticket_id}"))
    assert ("template", "toner") in post_form(page, f"/tickets/{ticket_id}/checklist")


def _section(page: str, marker: str) -> str:
    """The ``<section>`` of *page* that contains *marker*."""
    at = page.index(marker)
    start = page.rindex("<section", 0, at)
    return page[start:page.index("</section>", at)]


def test_staff_see_what_was_done_next_to_confirm(app, client, world, login, registry):
    ticket_id = printer_ticket(app, registry, world, "offline", reporter=None)
    login("student_a")
    client.post(f"/tickets/{ticket_id}/do/claim")
    client.post(f"/tickets/{ticket_id}/checklist", data={"template": "offline"})
    client.post(f"/tickets/{ticket_id}/checklist/0", data={"done": "y"})
    client.post(f"/tickets/{ticket_id}/checklist/2", data={"done": "y"})
    page = body(client.get(f"/tickets/{ticket_id}"))
    assert '<label for="resolve-reason">Đã xử lý thế nào' in page
    assert client.post(f"/tickets/{ticket_id}/do/resolve",
                       data={"resolve-reason": "Đặt lại IP tĩnh cho máy in"}).status_code == 302
    login("staff_a")
    page = body(client.get(f"/tickets/{ticket_id}"))
    card = visible_text(_section(page, f"/tickets/{ticket_id}/do/confirm"))
    assert "Đặt lại IP tĩnh cho máy in" in card
    assert "Võ Minh Tuấn" in card and "10/03/2026 09:00" in card
    assert "Kiểm tra nguồn điện" in card and "Ping địa chỉ đó" in card  # ticked steps 1, 3
    assert "In trang cấu hình" not in card  # step 2 was not ticked
