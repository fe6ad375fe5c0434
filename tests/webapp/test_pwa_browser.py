"""The installable web app in a real headless Chromium: the manifest is linked and valid,
the service worker registers and controls the page, and with the network gone the
queue still shows, from the phone's cache, under the offline banner.

Push subscription itself is not driven here: Chromium subscribes through Google's push
service (FCM), which a test cannot reach. tests/webapp/test_push_web.py posts a
subscription made as a browser makes one to the same endpoint and decrypts the push.
One engine (SQLite) is enough: the routes are tested on both in test_push_web.py.
"""

from __future__ import annotations

import pytest

from tests.webapp.test_browser import (PHONE, browser, live_app, live_server,  # noqa: F401
                                       log_in, shot)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAVED_QUEUE = """async () => {
  const cache = await caches.open("helpdesk-pages-v1");
  return !!(await cache.match("/tickets/queue"));
}"""


def test_installable_and_the_queue_works_offline(live_server, browser):  # noqa: F811
    base = live_server
    page = log_in(browser, base, "sv.haichau1", PHONE)
    assert page.url.endswith("/tickets/queue")

    # The manifest: linked from the page, valid JSON, icons that load as PNGs.
    href = page.get_attribute("link[rel=manifest]", "href")
    manifest = page.request.get(base + href)
    assert manifest.ok and manifest.headers["content-type"].startswith("application/manifest+json")
    data = manifest.json()
    assert data["name"] == "Hỗ trợ CNTT phường/xã" and data["display"] == "standalone"
    assert {icon["purpose"] for icon in data["icons"]} == {"any", "maskable"}
    for icon in data["icons"]:
        png = page.request.get(base + icon["src"])
        assert png.ok and png.body()[:4] == b"\x89PNG"

    # The service worker registers for the whole site and takes control.
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == base + "/"
    page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")
    page.wait_for_function(SAVED_QUEUE)
    assert page.locator("#offline-banner").count() == 0  # online: no banner

    # Offline: the queue comes from the cache, styled, with the banner in Vietnamese.
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#offline-banner")
    assert "Mất kết nối mạng" in page.inner_text("#offline-banner")
    assert "Hàng chờ" in page.inner_text("h1")
    topbar = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert topbar == "rgb(11, 61, 110)"  # app.css came from the cache too
    shot(page, "pwa-01-queue-offline-phone")

    # Another page offline: the saved queue, still marked offline.
    page.goto(base + "/tickets/")
    page.wait_for_selector("#offline-banner")

    # Back online, logging out forgets the saved queue (it belongs to the student).
    page.context.set_offline(False)
    page.goto(base + "/tickets/queue")
    page.wait_for_function(SAVED_QUEUE)
    page.click("form[action$='/logout'] button")
    page.wait_for_url("**/login**")
    page.wait_for_function("async () => !(await (%s)())" % SAVED_QUEUE)


def test_the_offline_page_when_nothing_was_saved(live_server, browser):  # noqa: F811
    base = live_server
    page = log_in(browser, base, "canbo.haichau", PHONE)  # staff: no queue page
    page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")
    page.context.set_offline(True)
    page.goto(base + "/tickets/new")
    page.wait_for_selector("h1")
    assert "Mất kết nối mạng" in page.inner_text("h1")
    # Precached without the account: no name of anyone in it.
    assert "Trần Văn Minh" not in page.content()


def test_the_profile_offers_push_with_the_vapid_key(live_server, browser):  # noqa: F811
    base = live_server
    page = log_in(browser, base, "sv.haichau1", PHONE)
    page.goto(base + "/profile/")
    page.wait_for_selector("#push-subscribe:not([hidden])")
    assert page.inner_text("#push-subscribe") == "Nhận thông báo trên điện thoại này"
    assert page.inner_text("#push-status") == "Điện thoại này chưa nhận thông báo."
    key = page.get_attribute("#push", "data-vapid-key")
    assert len(key) == 87  # an uncompressed P-256 point, base64url
    shot(page, "pwa-02-profile-push-phone")
