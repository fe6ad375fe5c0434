"""The main journey in a real headless Chromium: file, queue, claim, checklist, resolve, confirm.

The app is served by werkzeug on 127.0.0.1 (ephemeral port) against its own SQLite file,
with CSRF on, exactly as a browser meets it. One engine is enough here: the routes are
tested on both engines in test_tickets_web.py. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from helpdesk_core.db import create_schema
from helpdesk_core.models import Asset, Role
from tests.conftest import missing
from tests.factories import PASSWORD, make_student, make_user, make_ward

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01"
       b"\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def live_app(tmp_path):
    """The app on a fresh SQLite file, with one ward, its staff, a student, a coordinator."""
    from webapp import create_app
    from webapp.extensions import db
    app = create_app({"TESTING": False, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
                      "SECRET_KEY": "browser-test", "RATELIMIT_ENABLED": False,
                      "QUEUE_REFRESH_SECONDS": 1, "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    with app.app_context():
        create_schema(db.engine)
        s = db.session
        ward = make_ward(s, code="HCH", name="Phường Hải Châu")
        other = make_ward(s, code="HKH", name="Phường Hòa Khánh")
        from webapp.web import today
        make_user(s, Role.STAFF, ward, login="canbo.haichau", name="Trần Văn Minh")
        make_user(s, Role.STAFF, other, login="canbo.hoakhanh", name="Lê Thị Hoa")
        make_student(s, ward, today(), login="sv.haichau1", name="Võ Minh Tuấn")
        make_user(s, Role.COORDINATOR, login="dieuphoi", name="Nguyễn Thị Lan")
        s.add(Asset(ward=ward, category="printer", kind="printer", name="Máy in quầy 1",
                    location="Quầy tiếp nhận số 1"))
        s.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def browser():
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not shutil.which(executable) and not os.path.exists(executable):
        missing(f"Chromium not found at {executable}")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shot(page, name: str) -> None:
    """The first screen as the user sees it, and the whole page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)


def log_in(browser, base: str, login: str, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(base + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state()
    return page


def test_front_desk_to_resolution_in_a_real_browser(live_server, browser):
    base = live_server

    # A student opens the queue on a phone first: the new ticket must appear by itself.
    student = log_in(browser, base, "sv.haichau1", PHONE)
    assert student.url.endswith("/tickets/queue")
    assert "Hàng chờ" in student.inner_text("h1")
    shot(student, "01-queue-empty-phone")

    # The front desk files a printer ticket with the triage form and a photo.
    staff = log_in(browser, base, "canbo.haichau")
    assert staff.url.endswith("/tickets/new")
    shot(staff, "02-front-desk-categories")
    staff.click("a.category-button[href$='/tickets/new/printer']")
    staff.wait_for_load_state()
    staff.check("input[name=citizen_waiting]")
    staff.select_option("select[name=triage-symptom]", "paper_jam")
    staff.select_option("select[name=triage-connection]", "network")
    staff.fill("input[name=triage-error_code]", "13.B2")
    staff.fill("input[name=title]", "Máy in quầy 1 kẹt giấy")
    staff.select_option("select[name=asset]", label="Máy in quầy 1 (Quầy tiếp nhận số 1)")
    staff.set_input_files("input[name=photo]", files=[
        {"name": "loi.png", "mimeType": "image/png", "buffer": PNG}])
    shot(staff, "03-file-printer-form")
    staff.click("button[type=submit].big")
    staff.wait_for_selector("[data-testid=ticket-number]")
    number = staff.inner_text("[data-testid=ticket-number]").strip()
    assert re.fullmatch(r"HCH-\d{4}-\d{5}", number), number
    shot(staff, "04-filed-confirmation")

    # Without a reload, the student's queue shows it (htmx polls every second here).
    row = f'tr[data-ticket="{number}"]'
    student.wait_for_selector(row)
    shot(student, "05-queue-with-ticket-phone")
    student.click(f"{row} button:has-text('Nhận xử lý')")
    student.wait_for_selector("#checklist")
    assert "Đã tiếp nhận" in student.inner_text(".ticket-head")
    problem = student.inner_text("#problem-title + dl")
    assert "Kẹt giấy" in problem and "13.B2" in problem  # labelled by the triage form
    assert "loi.png" in student.inner_text("#attachments")

    # Follow the paper-jam checklist the triage answers suggest, ticking every step.
    assert "Kẹt giấy" in student.inner_text("#checklist h3")
    steps = student.locator("ol.steps button.tick").count()
    assert steps >= 2
    for index in range(steps):
        student.locator("ol.steps button.tick").nth(index).click()
        student.wait_for_selector(f"ol.steps li:nth-child({index + 1}).done")
    assert student.locator("ol.steps li.done").count() == steps
    shot(student, "06-ticket-checklist-phone")
    width = student.evaluate("document.documentElement.scrollWidth")
    wide = student.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className).slice(0, 10)""")
    assert width <= PHONE["width"], (width, wide)  # the ticket page fits a phone too

    student.fill("textarea[name=resolve-reason]", "Đã lấy giấy kẹt, in thử trang đạt")
    student.click("form.action-resolve button")
    student.wait_for_selector(".flash-success")
    assert "Đã xử lý" in student.inner_text(".ticket-head")

    # The front desk sees it resolved and confirms.
    staff.goto(base + "/tickets/new")
    staff.click(f"text={number}")
    staff.wait_for_selector("form.action-confirm")
    assert "Đã xử lý" in staff.inner_text(".ticket-head")
    shot(staff, "07-staff-confirms")
    # One tap confirms and rates (issue 17); the comment is optional and masked.
    assert staff.locator("form.action-confirm button.rating-button").count() == 5
    staff.fill("textarea[name=rating_comment]", "Em Tuấn xử lý nhanh, SĐT 0905123456")
    staff.click("form.action-confirm button[data-rating='4']")
    staff.wait_for_selector(".flash-success")
    assert "Đã đóng" in staff.inner_text(".ticket-head")
    history = staff.inner_text("#history")
    assert "Bước 1 đã xong." in history and "Đã giao cho Võ Minh Tuấn." in history
    assert "Kết quả xử lý được đánh giá 4/5." in history
    assert "xử lý nhanh" in history and "0905123456" not in history
    shot(staff, "07b-staff-rated")

    # Staff of another ward never sees it; the coordinator does.
    outsider = log_in(browser, base, "canbo.hoakhanh")
    outsider.goto(base + "/tickets/?status=")
    assert number not in outsider.content()
    coordinator = log_in(browser, base, "dieuphoi")
    coordinator.goto(base + "/")  # the coordinators' start page is the dashboard
    coordinator.wait_for_selector("#ward-load")
    assert "Phường Hải Châu" in coordinator.inner_text("#sla-compliance")
    shot(coordinator, "08-coordinator-dashboard")
    export = coordinator.request.get(base + "/dashboard/export/tickets.csv")
    assert export.ok and number in export.text()  # the dashboard's ticket export has it
    coordinator.goto(base + "/tickets/?status=")
    assert number in coordinator.inner_text("table.list")
    shot(coordinator, "09-coordinator-list")
    coordinator.click(f"text={number}")
    coordinator.wait_for_selector("#history")
    shot(coordinator, "10-coordinator-ticket")

    # The phone layout of the filing form.
    phone_staff = log_in(browser, base, "canbo.haichau", PHONE)
    shot(phone_staff, "11-front-desk-phone")
    phone_staff.click("a.category-button[href$='/tickets/new/printer']")
    phone_staff.wait_for_load_state()
    width = phone_staff.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing overflows sideways
    shot(phone_staff, "12-file-form-phone")


def test_the_front_desk_cannot_file_a_first_answer_or_a_huge_photo_by_accident(
        live_app, live_server, browser):
    """A required question starts unanswered; a too-large photo is refused when chosen,
    before any upload; nothing typed is lost."""
    live_app.config["ATTACHMENT_MAX_BYTES"] = 1024 * 1024
    staff = log_in(browser, live_server, "canbo.haichau")
    staff.goto(live_server + "/tickets/new/network")
    staff.fill("input[name=title]", "Mất mạng quầy 2")
    assert staff.input_value("select[name=triage-scope]") == ""  # nothing chosen for them
    staff.set_input_files("input[name=photo]", files=[
        {"name": "anh.png", "mimeType": "image/png", "buffer": PNG + b"\0" * (2 * 1024 * 1024)}])
    assert staff.inner_text("#photo-size-err") == "Tệp lớn hơn 1 MB."
    assert staff.input_value("input[name=photo]") == ""  # the file is not sent
    staff.set_input_files("input[name=photo]", files=[
        {"name": "anh.png", "mimeType": "image/png", "buffer": PNG}])
    assert staff.locator("#photo-size-err").count() == 0
    staff.click("form.file-form button[type=submit]")
    staff.wait_for_selector("#triage-scope-err")
    assert staff.input_value("input[name=title]") == "Mất mạng quầy 2"
    staff.select_option("select[name=triage-scope]", "one_room")
    staff.select_option("select[name=triage-connection]", "wifi")
    staff.select_option("select[name=triage-what_fails]", "internet")
    staff.set_input_files("input[name=photo]", files=[
        {"name": "anh.png", "mimeType": "image/png", "buffer": PNG}])
    staff.click("form.file-form button[type=submit]")
    staff.wait_for_selector("[data-testid=ticket-number]")


# Every violation of the Content-Security-Policy, as the page itself sees it.
CSP_LISTENER = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")
                              + " at " + e.sourceFile + ":" + e.lineNumber);
});"""

CSP_PAGES = {
    "canbo.haichau": ["/tickets/new", "/tickets/new/printer", "/tickets/new/network",
                      "/tickets/?status=", "/health/"],
    "sv.haichau1": ["/tickets/?status=", "/health/", "/roster/1", "/counter/", "/skills/"],
    "dieuphoi": ["/dashboard/", "/dashboard/students", "/tickets/?status=", "/roster/1",
                 "/skills/"],
    "quantri": ["/admin/", "/admin/wards", "/admin/calendar", "/admin/users",
                "/admin/users/new", "/admin/assignments", "/admin/assets", "/admin/assets/new",
                "/admin/sla", "/admin/plugins", "/dashboard/"],
}


def _watch_csp(browser, base: str, login: str):
    """A logged-in page that records CSP violations (events and console messages)."""
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(15000)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None)
    page.goto(base + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state()
    return page, console


def _violations(page, console: list[str]) -> list[str]:
    return page.evaluate("window.__cspViolations") + console


def test_no_page_of_any_role_breaks_the_content_security_policy(live_app, live_server, browser):
    """The pages, the queue's htmx polling and the front desk's scripts work under the CSP."""
    from webapp.extensions import db
    with live_app.app_context():
        make_user(db.session, Role.ADMIN, login="quantri", name="Quản trị")
        db.session.commit()
    base = live_server

    # The front desk: files a ticket (app.js checks the photo's size as it is chosen).
    staff, staff_console = _watch_csp(browser, base, "canbo.haichau")
    response = staff.goto(base + "/tickets/new/printer")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    staff.set_input_files("input[name=photo]", files=[
        {"name": "anh.png", "mimeType": "image/png", "buffer": PNG + b"\0" * (9 * 1024 * 1024)}])
    staff.wait_for_selector("#photo-size-err")  # app.js ran
    staff.select_option("select[name=triage-symptom]", "paper_jam")
    staff.select_option("select[name=triage-connection]", "network")
    staff.fill("input[name=title]", "Máy in quầy 1 kẹt giấy")
    staff.click("button[type=submit].big")
    staff.wait_for_selector("[data-testid=ticket-number]")
    number = staff.inner_text("[data-testid=ticket-number]").strip()
    assert _violations(staff, staff_console) == []

    # The students' queue polls with htmx (every second here): the rows come in.
    student, student_console = _watch_csp(browser, base, "sv.haichau1")
    assert student.url.endswith("/tickets/queue")
    for _ in range(2):
        with student.expect_response(lambda r: "/tickets/queue/rows" in r.url) as polled:
            pass
        assert polled.value.ok
    student.wait_for_selector(f'tr[data-ticket="{number}"]')
    assert student.evaluate("document.querySelectorAll('style').length") == 0
    student.click(f'tr[data-ticket="{number}"] a')
    student.wait_for_selector("#history")
    assert _violations(student, student_console) == []

    pages = {"canbo.haichau": staff, "sv.haichau1": student}
    consoles = {"canbo.haichau": staff_console, "sv.haichau1": student_console}
    for login, paths in CSP_PAGES.items():
        if login not in pages:
            pages[login], consoles[login] = _watch_csp(browser, base, login)
        page = pages[login]
        for path in paths:
            page.goto(base + path)
            page.wait_for_load_state()
            assert _violations(page, consoles[login]) == [], (login, path)


def test_all_wards_page_on_a_phone_and_a_projector(live_app, live_server, browser):
    """The coordinators' all-wards page: every ward in the table and the heat map, the
    page no wider than a phone (the tables scroll in their own box), sorting by a click."""
    import datetime as dt

    from sqlalchemy import select

    from helpdesk_core.models import Ward
    from tests.factories import make_ticket
    from webapp.extensions import db
    with live_app.app_context():  # one open ticket in Hải Châu, none in Hòa Khánh
        ward = db.session.scalar(select(Ward).where(Ward.code == "HCH"))
        make_ticket(db.session, live_app.extensions["helpdesk"], ward,
                    dt.datetime.now(dt.timezone.utc))
        db.session.commit()
    base = live_server
    phone = log_in(browser, base, "dieuphoi", PHONE)
    phone.goto(base + "/dashboard/wards")
    phone.wait_for_selector("#heatmap")
    for table in ("#ward-table", "#heatmap"):
        text = phone.inner_text(table)
        assert "Phường Hải Châu" in text and "Phường Hòa Khánh" in text
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    shot(phone, "13-all-wards-phone")
    projector = log_in(browser, base, "dieuphoi", {"width": 1920, "height": 1080})
    projector.goto(base + "/dashboard/wards")
    projector.click("#ward-table th a:has-text('Chưa xong')")
    projector.wait_for_selector("#ward-table th[aria-sort=descending]")
    first = projector.locator("#ward-table tbody tr").first.get_attribute("data-ward")
    assert first == "HCH"  # the ward with an open ticket comes first
    shot(projector, "14-all-wards-projector")
