"""Every role's main pages, in Vietnamese, show no raw codes and no English.

Statuses, sources, check results and hook names are stored as codes; operating-system
errors come in English. A page shows them in words of the user's language.
"""

from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import select

from helpdesk_core import CheckTarget
from helpdesk_core.models import AssetCheck, CheckRecord, Source, Ticket, User
from helpdesk_core.services import tickets as ticket_service
from tests.conftest import FIXED_NOW
from tests.webapp.html_forms import visible_text
from webapp.extensions import db

STATUS_CODES = ("new", "assigned", "in_progress", "waiting_reporter", "waiting_vendor",
                "waiting_city", "resolved", "closed", "cancelled")
CHECK_CODES = ("warning", "failure", "error")
SOURCE_CODES = ("front_desk", "health_check")
ENGLISH = ("Connection refused", "logged out", "You are", "Reason", "Hooks", "refused",
           "timed out", "No route to host", "Name or service not known", "Other provider",
           "certificate verify failed")

FORBIDDEN = re.compile("|".join(
    [rf"\b{code}\b" for code in STATUS_CODES + CHECK_CODES + SOURCE_CODES]
    + [r"\bhelpdesk_\w+"] + [re.escape(w) for w in ENGLISH]), re.IGNORECASE)


def leftovers(text: str) -> list[str]:
    return sorted({m.group(0) for m in FORBIDDEN.finditer(text)})


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lived_in(app, world, registry, closed_port):
    """The world with a failing check (a real refused connection, recorded in the
    default locale), a ticket the scheduler filed and a resolved ticket."""
    result, _ms = registry.run_check("tcp", CheckTarget(f"127.0.0.1:{closed_port}",
                                                        {"port": closed_port}, timeout=2))
    with app.app_context():
        s = db.session
        check = s.scalar(select(AssetCheck).where(AssetCheck.asset_id == world.printer_a))
        check.last_status, check.last_message = result.status.value, result.message
        check.last_checked_at = FIXED_NOW
        s.add(CheckRecord(check_id=check.id, status=result.status.value,
                          message=result.message, checked_at=FIXED_NOW))
        ticket_b = s.get(Ticket, world.ticket_b)
        ticket_b.source = Source.HEALTH_CHECK
        ticket_a = s.get(Ticket, world.ticket_a)
        ticket_a.asset_id = world.printer_a
        student = s.get(User, world.user_ids["student_a"])
        ticket_service.perform(s, registry, ticket_a, student, "claim", FIXED_NOW)
        ticket_service.perform(s, registry, ticket_a, student, "resolve", FIXED_NOW,
                               reason="Đã cắm lại dây mạng")
        ticket_service.commit(s)
        return {"check": check.id, "message": result.message}


PAGES = {
    "staff_a": ["/tickets/new", "/tickets/", "/tickets/?status=", "/tickets/new/printer",
                "/tickets/new/network", "/tickets/new/signing", "/tickets/new/vneid",
                "/tickets/{ticket_a}", "/health/", "/roster/{ward_a}"],
    "student_a": ["/tickets/queue", "/tickets/?status=", "/tickets/{ticket_a}", "/health/",
                  "/d/{printer_a}", "/roster/{ward_a}", "/counter/", "/skills/"],
    "coordinator": ["/dashboard/", "/dashboard/students", "/tickets/?status=",
                    "/tickets/{ticket_b}", "/health/", "/d/{printer_a}",
                    "/dashboard/export/tickets.csv?start=01/03/2026&end=10/03/2026",
                    "/roster/{ward_a}", "/skills/"],
    "admin": ["/admin/", "/admin/wards", "/admin/calendar", "/admin/users",
              "/admin/assignments", "/admin/assets", "/admin/assets/{printer_a}",
              "/admin/checks/{check}", "/admin/sla", "/admin/plugins", "/health/"],
}


@pytest.mark.parametrize("who", list(PAGES))
def test_main_pages_say_everything_in_vietnamese(client, world, login, lived_in, who):
    login(who)
    ids = {"ticket_a": world.ticket_a, "ticket_b": world.ticket_b,
           "printer_a": world.printer_a, "check": lived_in["check"], "ward_a": world.ward_a}
    for path in PAGES[who]:
        path = path.format(**ids)
        response = client.get(path)
        assert response.status_code == 200, path
        raw = response.get_data(as_text=True)
        text = raw if path.endswith(".csv") or ".csv?" in path else visible_text(raw)
        assert leftovers(text) == [], (who, path)


def test_the_check_message_and_sources_are_translated(client, world, login, lived_in):
    assert "kết nối bị từ chối" in lived_in["message"]
    login("coordinator")
    csv = client.get("/dashboard/export/tickets.csv?start=01/03/2026&end=10/03/2026")
    text = csv.get_data(as_text=True)
    assert "Cán bộ phường/xã" in text and "Kiểm tra tự động" in text
    login("admin")
    page = visible_text(client.get("/admin/plugins").get_data(as_text=True))
    assert "Thêm loại yêu cầu" in page and "Gợi ý danh mục xử lý từ các câu trả lời" in page
    login("staff_a")
    page = visible_text(client.get("/tickets/new/signing").get_data(as_text=True))
    # A signing provider is a service provider, not a phone carrier ("nhà mạng").
    assert "Nhà cung cấp khác" in page and "Nhà mạng khác" not in page


def test_every_hook_is_described_for_administrators():
    from helpdesk_core import hookspecs
    specs = {name for name in dir(hookspecs) if name.startswith("helpdesk_")}
    assert specs == set(hookspecs.HOOK_DESCRIPTIONS)


def test_logging_out_is_said_in_the_login_pages_language(app, client, world, login):
    """An account in English logs out: the (Vietnamese) login page says so in Vietnamese."""
    login("staff_a")
    client.post("/language/en")
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    text = visible_text(page)
    assert "Bạn đã đăng xuất." in text and leftovers(text) == []
