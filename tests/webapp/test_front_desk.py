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
