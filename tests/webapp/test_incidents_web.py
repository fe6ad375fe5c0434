"""City-wide incidents on the web: banners for everyone, pages for coordinators."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from helpdesk_core.models import (Incident, IncidentDismissal, IncidentStatus, IncidentTicket,
                                  Ticket, TicketEvent, Ward)
from helpdesk_core.services import incidents, tickets
from tests.conftest import FIXED_NOW
from tests.factories import make_ticket
from webapp.extensions import db

BANNER = "Cổng dịch vụ công quốc gia đang gián đoạn: không cần khởi động lại máy"


def open_incident(app, world, service_key="dvcqg") -> int:
    """An open incident of the portal, with ward A's ticket linked (as the checks do)."""
    with app.app_context():
        incident = Incident(service_key=service_key, source="health", title="Cổng DVC",
                            started_at=FIXED_NOW - dt.timedelta(minutes=10),
                            ward_ids=[world.ward_a, world.ward_b])
        db.session.add(incident)
        db.session.flush()
        ticket = db.session.get(Ticket, world.ticket_a)
        incidents.link(db.session, app.extensions["helpdesk"], incident, ticket, None,
                       FIXED_NOW - dt.timedelta(minutes=5))
        tickets.commit(db.session)
        return incident.id


def test_the_banner_shows_on_the_front_desk_queue_and_board_while_open(app, client, world,
                                                                      login):
    pages = {"staff_a": ["/tickets/new", "/tickets/new/network", "/health/"],
             "student_a": ["/tickets/queue", "/tickets/queue/rows", "/health/"],
             "coordinator": ["/tickets/queue", "/tickets/queue/rows", "/health/"]}
    for who, paths in pages.items():
        login(who)
        for path in paths:
            assert BANNER not in client.get(path).get_data(as_text=True), (who, path)
    incident_id = open_incident(app, world)
    for who, paths in pages.items():
        login(who)
        for path in paths:
            html = client.get(path).get_data(as_text=True)
            assert BANNER in html, (who, path)
            # Only coordinators get the link to the incident's page.
            assert (f"/incidents/{incident_id}" in html) == (who == "coordinator"), (who, path)
    login("student_a")  # the queue marks the ticket that waits on it
    html = client.get("/tickets/queue/rows").get_data(as_text=True)
    assert html.count("Chờ sự cố chung toàn thành phố") == 1 and world.number_a in html
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        incident.status = IncidentStatus.RESOLVED
        db.session.commit()
    login("staff_a")
    assert BANNER not in client.get("/tickets/new").get_data(as_text=True)


def test_the_banner_asks_no_query_of_its_own_while_none_is_open(app, client, world, login,
                                                                count_queries):
    login("student_a")
    client.get("/tickets/queue")
    with count_queries() as none_open:
        assert BANNER not in client.get("/tickets/queue").get_data(as_text=True)
    # (the user's query asks whether any is open: ... JOIN (SELECT min(incident.id) ...))
    assert not [q for q in none_open.statements if q.startswith("SELECT incident.")]
    # The same session, the next page: the user's own query now finds one open.
    open_incident(app, world)
    with count_queries() as one_open:
        assert BANNER in client.get("/tickets/queue").get_data(as_text=True)
    assert one_open.value == none_open.value + 2  # the incidents, the tickets waiting on them


@pytest.mark.parametrize("who, status", [("anonymous", 302), ("staff_a", 403),
                                         ("student_a", 403), ("coordinator", 200),
                                         ("admin", 200)])
def test_only_coordinators_and_admins_see_the_incident_pages(app, client, world, login, who,
                                                             status):
    incident_id = open_incident(app, world)
    login(who)
    for path in ("/incidents/", f"/incidents/{incident_id}"):
        assert client.get(path).status_code == status, path
    response = client.post(f"/incidents/{incident_id}/close", data={"note": "x"})
    assert response.status_code == (302 if status == 200 else status)
    with app.app_context():
        closed = db.session.get(Incident, incident_id).status == IncidentStatus.CLOSED
    assert closed == (status == 200)


def test_the_incident_page_lists_wards_tickets_and_closes_by_hand(app, client, world, login):
    incident_id = open_incident(app, world)
    login("coordinator")
    html = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert world.number_a in html and "Phường Hải Châu" in html and BANNER in html
    assert "Đang diễn ra" in html
    response = client.post(f"/incidents/{incident_id}/close",
                           data={"note": "Bộ đã khắc phục"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Đóng thủ công" in html and "Bộ đã khắc phục" in html
    assert client.post(f"/incidents/{incident_id}/close", follow_redirects=True).status_code \
        == 200  # already closed: a message, not an error page
    with app.app_context():
        link = db.session.scalar(select(IncidentTicket))
        assert link.released_at is not None
        ticket = db.session.get(Ticket, world.ticket_a)
        assert ticket.paused_at is None
    # The ticket's history says what happened, in words.
    html = client.get(f"/tickets/{world.ticket_a}").get_data(as_text=True)
    assert "sự cố chung" in html.lower()


def alike_tickets(app, world):
    with app.app_context():
        registry = app.extensions["helpdesk"]
        wards = [db.session.get(Ward, w) for w in (world.ward_a, world.ward_b, world.ward_a)]
        for i, ward in enumerate(wards):
            make_ticket(db.session, registry, ward, FIXED_NOW - dt.timedelta(minutes=10 - i),
                        category="public_portal", title="Không nộp được hồ sơ",
                        triage={"portal": "national", "step": "login",
                                "error_text": f"Lỗi đăng nhập VNeID mã {400 + i}"})
        tickets.commit(db.session)


def test_a_suggestion_on_the_dashboard_is_confirmed_in_one_click(app, client, world, login):
    alike_tickets(app, world)
    login("coordinator")
    assert "/incidents/suggestions" in client.get("/dashboard/").get_data(as_text=True)
    html = client.get("/incidents/suggestions").get_data(as_text=True)  # htmx loads it
    key = "public_portal:loi dang nhap vneid ma"
    assert f'data-suggestion="{key}"' in html
    assert "3 phiếu từ 2 phường" in html
    response = client.post("/incidents/suggestions/confirm",
                           data={"key": key, "service": "vneid"})
    assert response.status_code == 302
    with app.app_context():
        incident = db.session.scalar(select(Incident))
        assert (incident.service_key, incident.source) == ("vneid", "tickets")
        assert len(incidents.linked(db.session, incident)) == 3
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}")
    login("staff_b")
    assert "VNeID đang gián đoạn: không cần khởi động lại máy" in client.get(
        "/tickets/new").get_data(as_text=True)
    # Sent again: the suggestion is gone, and nothing is linked twice.
    login("coordinator")
    html = client.post("/incidents/suggestions/confirm", data={"key": key},
                       follow_redirects=True).get_data(as_text=True)
    assert "không còn hiện hành" in html


def test_a_suggestion_is_dismissed_and_students_cannot_do_either(app, client, world, login):
    alike_tickets(app, world)
    key = "public_portal:loi dang nhap vneid ma"
    login("student_a")
    assert client.post("/incidents/suggestions/confirm", data={"key": key}).status_code == 403
    assert client.post("/incidents/suggestions/dismiss", data={"key": key}).status_code == 403
    login("coordinator")
    response = client.post("/incidents/suggestions/dismiss", data={"key": key},
                           follow_redirects=True)
    assert response.status_code == 200
    assert 'data-suggestion="' not in client.get("/incidents/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(IncidentDismissal.match_text)) == "loi dang nhap vneid ma"
        assert db.session.scalar(select(Incident)) is None


def test_an_administrator_marks_a_device_with_its_shared_service(app, client, world, login):
    login("admin")
    html = client.get(f"/admin/assets/{world.printer_a}").get_data(as_text=True)
    assert 'name="service_key"' in html and "Cổng dịch vụ công quốc gia" in html
    form = {"ward": str(world.ward_a), "category": "network", "kind": "portal",
            "name": "Cổng DVC từ phường", "address": "https://dichvucong.gov.vn",
            "criticality": "high", "service_key": "dvcqg", "active": "y"}
    assert client.post(f"/admin/assets/{world.printer_a}", data=form).status_code == 302
    response = client.post(f"/admin/assets/{world.printer_a}", data=dict(form,
                                                                         service_key="zalo"))
    assert response.status_code in (200, 400)
    assert "Chọn một dịch vụ dùng chung trong danh sách." in response.get_data(as_text=True)
    with app.app_context():
        from helpdesk_core.models import Asset
        assert db.session.get(Asset, world.printer_a).service_key == "dvcqg"


def test_a_coordinator_links_a_ticket_from_its_page_and_takes_it_out(app, client, world,
                                                                     login):
    incident_id = open_incident(app, world)
    link = f"/incidents/tickets/{world.ticket_b}/link"
    unlink = f"/incidents/tickets/{world.ticket_b}/unlink"
    login("staff_b")
    assert client.post(link, data={"incident": incident_id}).status_code == 403
    assert "Gắn với sự cố" not in client.get(f"/tickets/{world.ticket_b}").get_data(
        as_text=True)

    def events():
        with app.app_context():
            return [(e.new_value, e.actor_id) for e in db.session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == world.ticket_b,
                                          TicketEvent.kind == "incident")
                .order_by(TicketEvent.id))]

    def paused():
        with app.app_context():
            return db.session.get(Ticket, world.ticket_b).paused_at is not None

    login("coordinator")
    html = client.get(f"/tickets/{world.ticket_b}").get_data(as_text=True)
    assert "Gắn với sự cố" in html and f'<option value="{incident_id}"' in html
    response = client.post(link, data={"incident": incident_id})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{world.ticket_b}#incident")
    assert paused() and events() == [("linked", world.user_ids["coordinator"])]
    html = client.get(f"/tickets/{world.ticket_b}").get_data(as_text=True)
    assert "Gỡ khỏi sự cố này" in html and "Gắn với sự cố" not in html
    assert "Chờ sự cố chung toàn thành phố: thời hạn SLA tạm dừng." in html
    html = client.post(link, data={"incident": incident_id},
                       follow_redirects=True).get_data(as_text=True)
    assert "Phiếu này đã chờ sự cố chung này rồi." in html
    html = client.post(link, data={"incident": "999999"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Hãy chọn một sự cố chung đang diễn ra." in html

    # From the page with htmx: the ticket's fragment comes back, the clock runs again.
    response = client.post(unlink, data={"incident": incident_id},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="ticket"' in html
    assert "Không còn chờ sự cố chung toàn thành phố." in html and "Gắn với sự cố" in html
    assert not paused() and events() == [("linked", world.user_ids["coordinator"]),
                                         ("unlinked", world.user_ids["coordinator"])]
