"""``python -m bench --phone``: the student's journey on a phone (390 x 844) in Chromium.

From the queue: open the ticket, claim and start, tick every step of the suggested
checklist, add a comment, resolve; once with JavaScript (htmx swaps a fragment of the
page) and once without (every tap posts the whole page). Prints the taps, the main
frame's page loads, and the times the browser measured: page loads from the Navigation
Timing entry (``loadEventEnd``), fragments from ``htmx:beforeRequest`` to
``htmx:afterSettle``. The app runs on werkzeug's threaded server on loopback with its own
SQLite file, as in the browser tests.

The walk itself (:func:`walk`) is shared with tests/webapp/test_phone_journey.py, which
asserts its counts and sizes and never its times.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import datetime as dt
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator
from helpdesk_core.db import create_schema

PHONE = {"width": 390, "height": 844}
TARGET_PX = 44  # WCAG 2.5.5 (AAA) target size, CSS px
PASSWORD = "correct horse battery"
STUDENT, STAFF = "sv.haichau1", "canbo.haichau"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Injected before each page's own scripts (not subject to the page's CSP): fragment times.
TIMING_SCRIPT = """window.__settled = 0; window.__fragmentMs = [];
document.addEventListener("htmx:beforeRequest", function () { window.__t0 = performance.now(); });
document.addEventListener("htmx:afterSettle", function () {
  window.__fragmentMs.push(performance.now() - window.__t0); window.__settled += 1;
});"""

# Every visible thing one can tap that is smaller than the target. A stretched row link
# (a.row-link) counts as its row when a tap on the row's corner lands on it.
SMALL_TARGETS_SCRIPT = """(min) => {
  const small = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=checkbox]';
  for (const el of document.querySelectorAll(sel)) {
    const style = getComputedStyle(el);
    let r = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || (r.width === 0 && r.height === 0)) continue;
    if (el.matches('a.row-link')) {
      const row = el.closest('tr');
      row.scrollIntoView({block: 'center'});
      const box = row.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + 4, box.top + 4);
      if (hit === el || el.contains(hit)) r = box;
    }
    if (r.width < min || r.height < min) {
      small.push(`${el.tagName.toLowerCase()}.${el.className || ''} "${(el.innerText || el.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""


@dataclass
class Tap:
    """One tap of the journey: what, its size, whether the main frame navigated."""

    what: str
    width: float
    height: float
    navigations: int
    part: str = "journey"


@dataclass
class Journey:
    """What one walk counted and measured."""

    javascript: bool
    taps: list[Tap] = field(default_factory=list)
    small_targets: dict[str, list[str]] = field(default_factory=dict)
    csp_violations: list[str] = field(default_factory=list)
    page_load_ms: list[float] = field(default_factory=list)
    fragment_ms: list[float] = field(default_factory=list)
    steps: int = 0

    def count(self, part: str = "journey") -> int:
        return sum(1 for t in self.taps if t.part == part)


class Walker:
    """Taps like a thumb: measures the target, taps it, waits for the answer."""

    def __init__(self, page, javascript: bool) -> None:
        self.page = page
        self.journey = Journey(javascript)
        self.navigations = 0
        page.on("console", lambda msg: self.journey.csp_violations.append(msg.text)
                if "Content Security Policy" in msg.text else None)
        page.on("framenavigated",
                lambda frame: self._navigated() if frame == page.main_frame else None)

    def _navigated(self) -> None:
        self.navigations += 1

    def check_targets(self, name: str) -> None:
        self.journey.small_targets[name] = self.page.evaluate(SMALL_TARGETS_SCRIPT, TARGET_PX)

    def _record_load(self) -> None:
        self.page.wait_for_load_state("load")
        self.journey.page_load_ms.append(self.page.evaluate(
            "performance.getEntriesByType('navigation')[0].loadEventEnd"))

    def _wait_for_settle(self, settled: int, timeout_s: float = 15.0) -> None:
        """Until htmx has settled one more swap (polled from here: the page's CSP forbids
        the eval that ``wait_for_function`` would need)."""
        deadline = time.monotonic() + timeout_s
        while self.page.evaluate("window.__settled") <= settled:
            if time.monotonic() > deadline:
                raise TimeoutError("no htmx swap settled")
            self.page.wait_for_timeout(5)

    def tap(self, selector: str, what: str, *, submits: bool = True, navigates: bool = False,
            part: str = "journey") -> Tap:
        """Tap *selector*. *submits*: it sends something (else it only focuses a field);
        *navigates*: it opens another page even with JavaScript (a link)."""
        target = self.page.locator(selector).first
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        if target.evaluate("e => e.matches('a.row-link')"):  # the row is the target
            box = target.locator("xpath=ancestor::tr").bounding_box()
        before = self.navigations
        if submits and (navigates or not self.journey.javascript):
            with self.page.expect_navigation():
                target.click()
            self._record_load()
        elif submits:
            settled = self.page.evaluate("window.__settled")
            target.click()
            self._wait_for_settle(settled)
            self.journey.fragment_ms.append(self.page.evaluate("window.__fragmentMs.at(-1)"))
        else:
            target.click()
        tap = Tap(what, box["width"], box["height"], self.navigations - before, part)
        self.journey.taps.append(tap)
        return tap


def walk(browser, base: str, number: str, javascript: bool = True) -> Journey:
    """The student's journey on ticket *number*, from the queue to "resolved"."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                  is_mobile=True, java_script_enabled=javascript)
    context.add_init_script(TIMING_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(base + "/login")
    page.fill("input[name=login]", STUDENT)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button.primary")
    walker = Walker(page, javascript)
    page.goto(base + "/tickets/queue")
    walker._record_load()
    walker.check_targets("queue")
    walker.tap(f'tr[data-ticket="{number}"] a.row-link', "open the ticket", navigates=True)
    walker.check_targets("ticket")
    walker.tap("form.action-claim-start button", "claim and start")
    steps = page.locator("ol.steps button.tick").count()
    walker.journey.steps = steps
    for index in range(steps):
        walker.tap(f"#step-{index}", f"tick step {index + 1}")
    walker.check_targets("ticket, checklist done")
    walker.tap("textarea[name=body]", "comment field", submits=False, part="comment")
    page.fill("textarea[name=body]", "Đã lấy giấy kẹt ra, máy in lại bình thường")
    walker.tap("form.comment-form button[type=submit]", "add the comment", part="comment")
    walker.tap("textarea[name=resolve-reason]", "resolution note field", submits=False)
    page.fill("textarea[name=resolve-reason]", "Đã lấy giấy kẹt, in thử trang đạt")
    walker.tap("form.action-resolve button", "resolve")
    walker.check_targets("ticket, resolved")
    context.close()
    return walker.journey


# --- the app, its data and its server ------------------------------------------------

def make_app(folder: str):
    """The app on a fresh SQLite file in *folder*, CSRF on, as a browser meets it."""
    from webapp import create_app
    from webapp.extensions import db
    app = create_app({"TESTING": False, "DATABASE_URL": f"sqlite:///{folder}/phone.db",
                      "SECRET_KEY": "phone-bench", "RATELIMIT_ENABLED": False,
                      "UPLOAD_FOLDER": os.path.join(folder, "uploads")})
    with app.app_context():
        create_schema(db.engine)
    return app


def seed(app, tickets: int = 2) -> list[str]:
    """A ward, its staff and student, a printer with recent check results, three resolved
    paper jams (the "similar" list), and *tickets* new paper jams; their numbers."""
    from helpdesk_core.models import Asset, AssetCheck, CheckRecord, Role, Ward
    from helpdesk_core.services import tickets as service
    from helpdesk_core.services import users
    from webapp.extensions import db
    from webapp.web import now, today
    with app.app_context():
        s, moment, day = db.session, now(), today()
        registry = app.extensions["helpdesk"]
        ward = Ward(code="HCH", name="Phường Hải Châu", address="Đà Nẵng")
        s.add(ward)
        s.flush()
        staff = users.create_user(s, login=STAFF, name="Trần Văn Minh", password=PASSWORD,
                                  role=Role.STAFF, ward=ward, phone="0905 123 456")
        student = users.create_user(s, login=STUDENT, name="Võ Minh Tuấn", password=PASSWORD,
                                    role=Role.STUDENT)
        users.assign_student(s, student, ward, "Đại học Duy Tân", day - dt.timedelta(days=30),
                             day + dt.timedelta(days=90))
        printer = Asset(ward=ward, category="printer", kind="printer", name="Máy in quầy 1",
                        location="Quầy tiếp nhận số 1", vendor="Canon", model="LBP 2900")
        s.add(printer)
        s.flush()
        check = AssetCheck(asset=printer, check_type="ipp")
        s.add(check)
        s.flush()
        for i in range(12):
            s.add(CheckRecord(check_id=check.id, status="failure" if i < 3 else "ok",
                              message="media-jam" if i < 3 else "idle",
                              checked_at=moment - dt.timedelta(minutes=5 * i)))
        triage = {"symptom": "paper_jam", "connection": "usb"}
        for title in ("Máy in quầy 2 kẹt giấy", "Máy in kẹt giấy khay 2", "Kẹt giấy liên tục"):
            old = service.file_ticket(s, registry, ward=ward, category="printer", title=title,
                                      description="", triage=triage, impact="person",
                                      urgency="normal", reporter=staff, now=moment)
            service.perform(s, registry, old, student, "claim", moment)
            service.perform(s, registry, old, student, "resolve", moment,
                            reason="Lấy giấy kẹt, vệ sinh trục cuốn")
        numbers = []
        for _ in range(tickets):
            ticket = service.file_ticket(s, registry, ward=ward, category="printer",
                                         title="Máy in quầy 1 kẹt giấy",
                                         description="In ra bị kẹt ở khay sau", triage=triage,
                                         impact="person", urgency="citizen_waiting",
                                         reporter=staff, asset=printer, now=moment)
            numbers.append(ticket.number)
        service.commit(s)
        return numbers


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """*app* on 127.0.0.1 (an ephemeral port), threaded, until the block ends."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def launch(playwright: Any):
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return playwright.chromium.launch(executable_path=executable, headless=True,
                                      args=CHROMIUM_ARGS)


# --- the report --------------------------------------------------------------------

def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} (max {max(values):.0f})"


def report(journeys: list[Journey]) -> str:
    lines = ["| run | taps (claim → checklist → resolve) | + comment | main-frame loads "
             "after opening | page loads ms, median (max) | fragments ms, median (max) |",
             "|---|---|---|---|---|---|"]
    for j in journeys:
        loads = sum(t.navigations for t in j.taps[1:])
        lines.append(f"| {'JavaScript' if j.javascript else 'no JavaScript'} "
                     f"| {j.count()} ({j.steps} steps) | {j.count('comment')} | {loads} "
                     f"| {_ms(j.page_load_ms)} | {_ms(j.fragment_ms)} |")
    smallest = min((min(t.width, t.height), t.what) for j in journeys for t in j.taps)
    lines.append("")
    lines.append(f"Smallest tapped target: {smallest[0]:.0f} px ({smallest[1]}); "
                 f"visible targets under {TARGET_PX} px: "
                 f"{sum(len(v) for j in journeys for v in j.small_targets.values())}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench --phone", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="journeys per mode (default 3)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with tempfile.TemporaryDirectory(prefix="hd_phone_") as folder:
        app = make_app(folder)
        numbers = seed(app, tickets=2 * args.runs)
        journeys = []
        with serve(app) as base, sync_playwright() as p:
            browser = launch(p)
            for run in range(args.runs):
                journeys.append(walk(browser, base, numbers[2 * run], javascript=True))
                journeys.append(walk(browser, base, numbers[2 * run + 1], javascript=False))
            browser.close()
        with app.app_context():
            from webapp.extensions import db
            db.engine.dispose()
    merged = []
    for javascript in (True, False):
        runs = [j for j in journeys if j.javascript == javascript]
        first = runs[0]
        first.page_load_ms = [v for j in runs for v in j.page_load_ms]
        first.fragment_ms = [v for j in runs for v in j.fragment_ms]
        merged.append(first)
    print(f"Student's phone journey, {PHONE['width']}x{PHONE['height']}, "
          f"{args.runs} run(s) per mode, werkzeug on loopback, SQLite")
    print(report(merged))
    for journey in merged:
        for page, small in journey.small_targets.items():
            for item in small:
                print(f"  under {TARGET_PX} px ({page}, JavaScript {journey.javascript}): {item}")
    return 0
