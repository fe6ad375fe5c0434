"""The ticket page's actions answered as htmx fragments, and the same routes without
JavaScript: claim and start, ticks, comments, resolve, errors in Vietnamese."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpdesk_core.models import Asset, Status, Ticket, TicketEvent, User
from helpdesk_core.services import tickets as ticket_service
from tests.conftest import FIXED_NOW
from tests.factories import make_ticket
from webapp.extensions import db

from .test_form_keys_web import form_key
from .test_tickets_web import _add_tickets, body, count, get_ticket

HX = {"HX-Request": "true"}


def events(app, ticket_id: int) -> list[tuple[str, str | None, str | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                  .order_by(TicketEvent.id)).all()
        return [(e.kind, e.old_value, e.new_value, (e.data or {}).get("action")) for e in rows]


@pytest.fixture
def printer_ticket(app, registry, world) -> int:
    """A new paper-jam ticket of ward A on its printer: the plugin suggests a checklist."""
    from helpdesk_core.models import Ward
    with app.app_context():
        s = db.session
        ticket = make_ticket(s, registry, s.get(Ward, world.ward_a), FIXED_NOW, category="printer",
                             title="Máy in kẹt giấy", asset=s.get(Asset, world.printer_a),
                             triage={"symptom": "paper_jam", "connection": "usb"})
        ticket_service.commit(s)
        return ticket.id


def test_claim_and_start_is_one_tap_that_records_both_moves(app, client, world, login):
    login("student_a")
    page = body(client.get(f"/tickets/{world.ticket_a}"))
    assert 'name="then" value="start"' in page and "Nhận và bắt đầu xử lý" in page
    response = client.post(f"/tickets/{world.ticket_a}/do/claim", data={"then": "start"},
                           headers=HX)
    assert response.status_code == 200
    fragment = body(response)
    assert fragment.lstrip().startswith("<div id=\"ticket\"") and "<html" not in fragment
    assert "Đã thực hiện: Nhận và bắt đầu xử lý." in fragment
    assert response.headers["HX-Reswap"] == "outerHTML show:window:top"
    assert get_ticket(app, world.ticket_a).status == Status.IN_PROGRESS
    assert events(app, world.ticket_a)[1:] == [
        ("assigned", None, str(world.user_ids["student_a"]), "claim"),
        ("status", Status.NEW, Status.ASSIGNED, "claim"),
        ("status", Status.ASSIGNED, Status.IN_PROGRESS, "start")]


def test_without_javascript_the_same_routes_redirect_to_the_page(app, client, world, login,
                                                                 printer_ticket):
    login("student_a")
    response = client.post(f"/tickets/{printer_ticket}/do/claim", data={"then": "start"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{printer_ticket}")
    response = client.post(f"/tickets/{printer_ticket}/checklist/0",
                           data={"done": "y", "template": "paper_jam"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#checklist")
    response = client.post(f"/tickets/{printer_ticket}/comment", data={"body": "Đang xử lý"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#comments")
    assert get_ticket(app, printer_ticket).checklist == {"template": "paper_jam", "done": [0]}


def test_the_first_tick_of_the_suggested_checklist_chooses_it(app, client, world, login,
                                                              printer_ticket):
    login("student_a")
    client.post(f"/tickets/{printer_ticket}/do/claim", data={"then": "start"}, headers=HX)
    page = body(client.get(f"/tickets/{printer_ticket}"))
    assert "Gợi ý" in page and page.count('role="checkbox"') == 6  # no extra tap to choose
    response = client.post(f"/tickets/{printer_ticket}/checklist/2",
                           data={"done": "y", "template": "paper_jam"}, headers=HX)
    assert response.status_code == 200 and "HX-Reswap" not in response.headers
    fragment = body(response)
    assert 'id="step-2" role="checkbox" aria-checked="true"' in fragment
    assert "Gợi ý" not in fragment  # chosen now
    assert [e[0] for e in events(app, printer_ticket)][-2:] == ["checklist", "checklist"]
    assert get_ticket(app, printer_ticket).checklist == {"template": "paper_jam", "done": [2]}
    # A page still showing another checklist ticks nothing: the step would be the wrong one.
    response = client.post(f"/tickets/{printer_ticket}/checklist/0",
                           data={"done": "y", "template": "offline"}, headers=HX)
    assert response.status_code == 200
    assert "Người khác vừa thay đổi yêu cầu này. Vui lòng xem lại." in body(response)
    assert response.headers["HX-Reswap"] == "outerHTML show:window:top"
    assert get_ticket(app, printer_ticket).checklist == {"template": "paper_jam", "done": [2]}


def test_a_comment_sent_twice_by_htmx_is_added_once_and_the_form_renews(app, client, world,
                                                                       login):
    login("staff_a")
    key = form_key(body(client.get(f"/tickets/{world.ticket_a}")))
    fragments = [body(client.post(f"/tickets/{world.ticket_a}/comment", headers=HX,
                                  data={"body": "Máy vẫn không in được", "form_key": key}))
                 for _ in range(2)]
    assert count(app, TicketEvent, TicketEvent.kind == "comment") == 1
    assert all("Máy vẫn không in được" in f and "Đã thêm bình luận" in f for f in fragments)
    assert form_key(fragments[0]) != key  # the next comment is a new one


def test_errors_come_back_in_the_fragment_in_vietnamese(app, client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim", headers=HX)
    response = client.post(f"/tickets/{world.ticket_a}/do/resolve",
                           data={"resolve-reason": ""}, headers=HX)
    assert response.status_code == 400 and "HX-Retarget" not in response.headers
    fragment = body(response)
    assert 'id="resolve-reason-err"' in fragment and "Vui lòng ghi lý do." in fragment
    assert 'class="flash flash-error" role="alert">Vui lòng ghi lý do.' in fragment
    assert get_ticket(app, world.ticket_a).status == Status.ASSIGNED
    login("staff_a")
    response = client.post(f"/tickets/{world.ticket_a}/checklist/0", data={"done": "y"},
                           headers=HX)
    assert "Vai trò của bạn không được thực hiện thao tác này." in body(response)


def test_error_pages_and_a_lost_session_take_the_whole_tab(app, client, world, login):
    login("student_a")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/tickets/{world.ticket_a}/do/claim", headers=HX)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "body"  # "the form expired", not in the fragment
    assert get_ticket(app, world.ticket_a).status == Status.NEW
    response = client.post(f"/tickets/{world.ticket_b}/do/claim", headers=HX)
    assert response.status_code == 404 and response.headers["HX-Retarget"] == "body"
    login("anonymous")
    response = client.post(f"/tickets/{world.ticket_a}/do/claim", headers=HX)
    assert response.headers["HX-Redirect"] == f"/login?next=/tickets/{world.ticket_a}"
    assert get_ticket(app, world.ticket_a).status == Status.NEW


@pytest.mark.parametrize("action", ["tick", "comment", "claim_start"])
def test_fragments_run_a_bounded_number_of_queries(app, client, world, login, registry,
                                                   count_queries, action):
    login("student_a")
    with app.app_context():
        template = app.extensions["helpdesk"].templates_for("network")[0].key
    assert template == "no_internet"

    def send(ticket_id):
        if action == "tick":
            return client.post(f"/tickets/{ticket_id}/checklist/0", headers=HX,
                               data={"done": "y", "template": template})
        if action == "comment":
            return client.post(f"/tickets/{ticket_id}/comment", headers=HX,
                               data={"body": "Đã kiểm tra dây mạng"})
        return client.post(f"/tickets/{ticket_id}/do/claim", headers=HX, data={"then": "start"})

    def fresh_ticket():
        from helpdesk_core.models import Ward
        with app.app_context():
            t = make_ticket(db.session, registry, db.session.get(Ward, world.ward_a), FIXED_NOW)
            if action != "claim_start":
                student = db.session.get(User, world.user_ids["student_a"])
                ticket_service.perform(db.session, registry, t, student, "claim", FIXED_NOW)
            ticket_service.commit(db.session)
            return t.id

    _add_tickets(app, registry, world, 2)
    first = fresh_ticket()
    with count_queries() as few:
        assert send(first).status_code == 200
    _add_tickets(app, registry, world, 12)
    second = fresh_ticket()
    for _ in range(3):  # more history on the ticket itself: still the same statements
        _comment(app, registry, world, second)
    with count_queries() as many:
        assert send(second).status_code == 200
    assert many.value == few.value, (few.value, many.value)
    assert few.value <= 45, few.value


def _comment(app, registry, world, ticket_id):
    with app.app_context():
        s = db.session
        ticket_service.comment(s, registry, s.get(Ticket, ticket_id),
                               s.get(User, world.user_ids["student_a"]), "thêm", FIXED_NOW,
                               internal=True)  # an internal note: the SLA does not move
        ticket_service.commit(s)


def test_the_ticket_page_puts_resolve_after_the_checklist(client, world, login, printer_ticket):
    login("student_a")
    client.post(f"/tickets/{printer_ticket}/do/claim", data={"then": "start"})
    page = body(client.get(f"/tickets/{printer_ticket}"))
    checklist, resolve = page.index('id="checklist"'), page.index('id="resolve"')
    device, comments = page.index('id="device"'), page.index('id="comments"')
    assert checklist < resolve < device < comments
    jump = re.search(r'<nav class="jump".*?</nav>', page, re.S).group(0)
    for anchor in ("#checklist", "#device", "#similar", "#comments", "#history"):
        assert f'href="{anchor}"' in jump
