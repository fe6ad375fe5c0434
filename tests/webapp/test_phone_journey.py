"""The student's journey on a phone (390 x 844) in a real Chromium: claim and start, every
step of the checklist, a comment, resolve; with htmx and without JavaScript.

The walk is bench/phone.py's (``python -m bench --phone`` times it); here only counts and
sizes are asserted: every target tapped and every visible target at least 44 x 44 CSS px,
no page load for an action with JavaScript, one per action without, and the taps.
"""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from bench import phone
from helpdesk_core.models import Status, Ticket, TicketEvent
from tests.conftest import missing

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STEPS = 6  # the printer plugin's paper-jam checklist


@pytest.fixture
def phone_app(tmp_path):
    from webapp.extensions import db
    app = phone.make_app(str(tmp_path))
    numbers = phone.seed(app, tickets=2)
    yield app, numbers
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def chromium():
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not shutil.which(executable) and not os.path.exists(executable):
        missing(f"Chromium not found at {executable}")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = phone.launch(p)
        yield browser
        browser.close()


def _history(app, number: str) -> tuple[str, list[tuple[str, str | None]]]:
    from webapp.extensions import db
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        kinds = [(e.kind, (e.data or {}).get("action")) for e in db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id))]
        return ticket.status, kinds


EXPECTED_HISTORY = ([("filed", None), ("assigned", "claim"), ("status", "claim"),
                     ("status", "start"), ("checklist", None)]
                    + [("checklist", None)] * STEPS + [("comment", None), ("status", "resolve")])


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_claim_checklist_resolve_on_a_phone(phone_app, chromium, javascript):
    app, numbers = phone_app
    number = numbers[0] if javascript else numbers[1]
    with phone.serve(app) as base:
        journey = phone.walk(chromium, base, number, javascript=javascript)

    # (a) every target tapped, and every target visible on the way, is at least 44 x 44.
    small = [(t.what, t.width, t.height) for t in journey.taps
             if t.width < phone.TARGET_PX or t.height < phone.TARGET_PX]
    assert small == []
    assert journey.small_targets == {"queue": [], "ticket": [], "ticket, checklist done": [],
                                     "ticket, resolved": []}
    # (c) the taps: open, claim and start, one per step, the note's field, resolve.
    assert journey.steps == STEPS
    assert journey.count() == 1 + 1 + STEPS + 2
    assert journey.count("comment") == 2
    # (b) with htmx nothing after opening the ticket loads a page; without JavaScript each
    # tap that sends something is one full page post.
    opening, *rest = journey.taps
    assert opening.navigations == 1
    sends = [t for t in rest if "field" not in t.what]
    assert len(sends) == 1 + STEPS + 2  # claim and start, the steps, comment, resolve
    if javascript:
        assert [t.navigations for t in rest] == [0] * len(rest)
        assert len(journey.fragment_ms) == len(sends)
    else:
        assert [t.navigations for t in sends] == [1] * len(sends)
        assert journey.fragment_ms == []
    assert journey.csp_violations == []
    # Every change is in the history, the same with or without JavaScript.
    status, history = _history(app, number)
    assert status == Status.RESOLVED
    assert history == EXPECTED_HISTORY


def test_text_being_typed_survives_an_action_sent_from_another_form(phone_app, chromium):
    """A tick swaps the whole ticket: the resolution note typed meanwhile stays; the
    comment that was sent empties its own field."""
    app, numbers = phone_app
    with phone.serve(app) as base:
        context = chromium.new_context(viewport=phone.PHONE, locale="vi-VN")
        context.add_init_script(phone.TIMING_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(base + "/login")
        page.fill("input[name=login]", phone.STUDENT)
        page.fill("input[name=password]", phone.PASSWORD)
        with page.expect_navigation():
            page.click("button.primary")
        walker = phone.Walker(page, javascript=True)
        page.goto(base + "/tickets/queue")
        walker.tap(f'tr[data-ticket="{numbers[0]}"] a.row-link', "open", navigates=True)
        walker.tap("form.action-claim-start button", "claim and start")
        page.fill("textarea[name=resolve-reason]", "Đã lấy giấy kẹt")
        page.fill("textarea[name=body]", "Đang chờ máy nguội")
        walker.tap("#step-0", "tick step 1")
        assert page.get_attribute("#step-0", "aria-checked") == "true"
        assert page.input_value("textarea[name=resolve-reason]") == "Đã lấy giấy kẹt"
        assert page.input_value("textarea[name=body]") == "Đang chờ máy nguội"
        walker.tap("form.comment-form button[type=submit]", "add the comment")
        assert page.input_value("textarea[name=body]") == ""
        assert "Đang chờ máy nguội" in page.inner_text("#comments")
        assert page.input_value("textarea[name=resolve-reason]") == "Đã lấy giấy kẹt"
        assert walker.navigations == 2  # the queue, then the ticket: nothing since
        assert walker.journey.csp_violations == []
        context.close()
