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


# --- a citizen waiting ------------------------------------------------------------------

WAITING = "Có công dân đang chờ"


def network_ticket(app, registry, world, title: str, **overrides) -> tuple[int, str]:
    with app.app_context():
        s = db.session
        ticket = make_ticket(s, registry, s.get(Ward, world.ward_a), FIXED_NOW, title=title,
                             **overrides)
        ticket_service.commit(s)
        return ticket.id, ticket.number


def _row(page: str, number: str) -> str:
    """The table row (or list item) of *page* that shows ticket *number*."""
    at = page.index(f">{number}<")
    start = max(page.rindex("<tr", 0, at), page.rfind("<li", 0, at))
    end = page.index("</tr>" if page[start:start + 3] == "<tr" else "</li>", at)
    return page[start:end]


def test_a_waiting_citizen_is_marked_wherever_the_ticket_is_listed(app, client, world, login):
    login("staff_a")
    response = client.post("/tickets/new/network", data={
        "title": "Máy tính quầy 3 mất mạng", "citizen_waiting": "y",
        "triage-scope": "one_device", "triage-connection": "wired",
        "triage-what_fails": "one_site"})
    assert response.status_code == 302
    with app.app_context():
        waiting = db.session.scalar(select(Ticket).where(
            Ticket.title == "Máy tính quầy 3 mất mạng"))
        number, ticket_id = waiting.number, waiting.id
    for who, path in (("staff_a", f"/tickets/{ticket_id}"), ("staff_a", "/tickets/"),
                      ("student_a", "/tickets/queue"), ("student_a", "/tickets/queue/rows"),
                      ("student_a", f"/tickets/{ticket_id}"), ("coordinator", "/tickets/"),
                      ("coordinator", f"/tickets/{ticket_id}")):
        login(who)
        page = body(client.get(path))
        shown = page if path.endswith(str(ticket_id)) else _row(page, number)
        assert WAITING in visible_text(shown), (who, path)
        if not path.endswith(str(ticket_id)):
            assert WAITING not in visible_text(_row(page, world.number_a)), (who, path)
    login("coordinator")
    rows = body(client.get("/dashboard/export/tickets.csv?start=01/03/2026&end=10/03/2026"))
    rows = [line.split(",") for line in rows.lstrip("\ufeff").splitlines()]
    column = rows[0].index(WAITING)
    marks = {row[0]: row[column] for row in rows[1:]}
    assert marks[number] == "có" and marks[world.number_a] == "không"


def test_the_queue_puts_a_waiting_citizen_first_within_a_priority(app, client, world, login,
                                                                  registry):
    # P2 both: the whole centre without hurry (due sooner), one person with a citizen
    # waiting (due later); a P1 above both.
    centre, centre_no = network_ticket(app, registry, world, "Cả trung tâm mất mạng",
                                       impact="center", urgency="normal")
    with app.app_context():
        s = db.session
        later = FIXED_NOW.replace(hour=5)
        ticket = make_ticket(s, registry, s.get(Ward, world.ward_a), later,
                             title="Quầy 1 mất mạng", urgency="citizen_waiting")
        urgent = make_ticket(s, registry, s.get(Ward, world.ward_a), later,
                             title="Toàn bộ quầy dừng", impact="center", urgency="today")
        ticket_service.commit(s)
        waiting_no, urgent_no = ticket.number, urgent.number
        assert (ticket.priority, s.get(Ticket, centre).priority, urgent.priority) == (2, 2, 1)
        assert s.get(Ticket, centre).resolution_due_at < ticket.resolution_due_at
    login("student_a")
    page = body(client.get("/tickets/queue"))
    order = sorted((urgent_no, waiting_no, centre_no, world.number_a), key=page.index)
    assert order == [urgent_no, waiting_no, centre_no, world.number_a]
    assert WAITING not in visible_text(_row(page, centre_no))
