"""City-wide incident banners in a real headless Chromium, under the CSP.

While an incident is open, the front desk shows the banner when it loads, and a
student's queue that is already open shows it by itself (htmx polls the queue's rows);
the coordinators' dashboard loads its suggestions the same way. No page breaks the CSP.
"""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.models import Incident, Ticket
from helpdesk_core.services import incidents, tickets

from .test_browser import (PHONE, _violations, _watch_csp, browser, live_app,  # noqa: F401
                           live_server, shot)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BANNER = "Cổng dịch vụ công quốc gia đang gián đoạn: không cần khởi động lại máy"


def test_the_banner_appears_on_the_front_desk_and_the_queue(live_app, live_server, browser):
    from tests.factories import make_ticket
    from webapp.extensions import db
    from webapp.web import now
    base = live_server

    student, student_console = _watch_csp(browser, base, "sv.haichau1")
    student.set_viewport_size(PHONE)
    student.goto(base + "/tickets/queue")
    assert student.locator("#incident-banner").count() == 0
    staff, staff_console = _watch_csp(browser, base, "canbo.haichau")
    staff.goto(base + "/tickets/new")
    assert staff.locator("#incident-banner").count() == 0

    # The portal goes down in two wards: one incident, ward Hải Châu's ticket waits on it.
    with live_app.app_context():
        from helpdesk_core.models import Ward
        registry = live_app.extensions["helpdesk"]
        moment = now()
        wards = db.session.query(Ward).order_by(Ward.id).all()
        ticket = make_ticket(db.session, registry, wards[0], moment - dt.timedelta(minutes=5),
                             title="Không vào được Cổng DVC")
        incident = Incident(service_key="dvcqg", source="health", started_at=moment,
                            title=incidents.service_name("dvcqg"),
                            ward_ids=[w.id for w in wards])
        db.session.add(incident)
        db.session.flush()
        incidents.link(db.session, registry, incident, ticket, None, moment)
        tickets.commit(db.session)
        incident_id = incident.id

    # The queue already open on the phone: the banner comes with the next poll.
    student.wait_for_selector("#incident-banner")
    assert BANNER in student.inner_text("#incident-banner")
    shot(student, "incident-queue-phone")
    # The front desk, on its next page.
    staff.goto(base + "/tickets/new")
    assert BANNER in staff.inner_text("#incident-banner")
    staff.click("a.category-button[href$='/tickets/new/network']")
    staff.wait_for_load_state()
    assert BANNER in staff.inner_text("#incident-banner")
    shot(staff, "incident-front-desk")

    # The coordinator: the dashboard's suggestions arrive through htmx; the incident page.
    coordinator, coordinator_console = _watch_csp(browser, base, "dieuphoi")
    coordinator.goto(base + "/dashboard/")
    coordinator.wait_for_selector("#suggestions p:has-text('Không có gợi ý')")
    coordinator.goto(base + f"/incidents/{incident_id}")
    assert "Không vào được Cổng DVC" in coordinator.inner_text("#incident-tickets")
    coordinator.click("button.danger")  # close it by hand
    coordinator.wait_for_load_state()
    assert "Đóng thủ công" in coordinator.inner_text("#incident-status")

    # Closed: the banner leaves the queue by itself.
    student.wait_for_selector("#incident-banner", state="detached")
    with live_app.app_context():
        assert db.session.get(Ticket, ticket.id).paused_at is None
    for page, console in ((student, student_console), (staff, staff_console),
                          (coordinator, coordinator_console)):
        assert _violations(page, console) == []
