"""The API's documentation page works in a real browser, under the app's CSP, with no
file from outside the app."""

from __future__ import annotations

import pytest

from tests.webapp.test_browser import (CSP_LISTENER, DESKTOP, browser, live_app,  # noqa: F401
                                       live_server)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_swagger_ui_shows_every_operation(live_server, browser):  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(20000)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(live_server) and not r.url.startswith("data:") else None)
    page.goto(live_server + "/api/v1/docs/")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 12
    assert "Ward Helpdesk API" in page.locator(".title").first.inner_text()
    assert page.evaluate("window.__cspViolations") == []
    assert outside == []
    context.close()
