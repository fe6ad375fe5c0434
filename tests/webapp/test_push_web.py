"""The installable web app's files and the profile's push subscription endpoints.

A real browser's subscription needs its push service (FCM for Chromium), which a test
cannot reach; the subscription here is made by the kit's loopback push service exactly
as a browser makes one (its own P-256 key pair and auth secret, bound to the page's
VAPID key), posted to the endpoint as the page's script posts it, then delivered to
through the Web Push channel and decrypted.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from helpdesk_core import Message
from helpdesk_core.models import PushSubscription

LOOPBACK_HOSTS = "127.0.0.1"


def vapid_key_on(page: str) -> str:
    return re.search(r'data-vapid-key="([A-Za-z0-9_-]+)"', page).group(1)


def test_manifest_is_public_and_complete(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["name"] == "Hỗ trợ CNTT phường/xã" and manifest["lang"] == "vi"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        png = response.data
        response.close()  # a static file: its handle is closed with the response
        assert response.status_code == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-store" in response.headers["Cache-Control"]
    assert 'self.addEventListener("push"' in body
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_offline_page_is_public_and_in_vietnamese(client):
    response = client.get("/offline")
    assert response.status_code == 200
    assert "Mất kết nối mạng" in response.get_data(as_text=True)


def test_every_page_links_the_manifest_and_the_worker_script(logged_in):
    page = logged_in("student").get("/tickets/queue").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'data-service-worker="/sw.js"' in page
    assert '<meta name="offline-banner" content="Mất kết nối mạng' in page
    assert "<script>" not in page  # no inline script: the CSP forbids it


@pytest.fixture
def push_app(app):
    app.config["PUSH_SERVICE_HOSTS"] = LOOPBACK_HOSTS
    return app


def test_subscribe_from_the_profile_and_get_a_push(push_app, logged_in, accounts,
                                                   push_service, plugin_sessions):
    student = logged_in("student")
    page = student.get("/profile/").get_data(as_text=True)
    assert "Nhận thông báo trên điện thoại này" in page
    browser = push_service.subscribe(vapid_key_on(page))  # as PushManager.subscribe()

    response = student.post("/profile/push/subscribe", json=browser.info,
                            headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14)"})
    assert response.status_code == 201 and response.get_json() == {"ok": True}
    page = student.get("/profile/").get_data(as_text=True)
    assert "Android 14" in page and 'id="push-devices"' in page

    from webapp.extensions import db
    channel = push_app.extensions["helpdesk"].channels["webpush"]
    with push_app.app_context():
        user = db.session.get(type(db.session.scalar(select(PushSubscription)).user),
                              accounts.ids["student"])
        [address] = channel.addresses(db.session, user)
        db.session.commit()
    channel.send(Message(key="n7-webpush", kind="ticket_urgent", address=address,
                         subject="Phiếu khẩn HCH-2026-00007", text="Mất mạng toàn bộ quầy",
                         url="http://localhost/tickets/7", urgent=True,
                         data={"ticket": "HCH-2026-00007"}),
                 {"contact": "mailto:it@danang.gov.vn", "ttl_hours": 24})
    [delivery] = push_service.for_subscription(browser)
    assert delivery.urgency == "high"
    assert delivery.data["title"] == "Phiếu khẩn HCH-2026-00007" and delivery.data["urgent"]

    response = student.post("/profile/push/unsubscribe", json={"endpoint": browser.endpoint})
    assert response.get_json() == {"ok": True, "removed": True}
    with push_app.app_context():
        assert db.session.scalar(select(PushSubscription)) is None


@pytest.mark.parametrize("body, message", [
    ({"endpoint": "https://evil.internal/push/1", "keys": {"p256dh": "x", "auth": "y"}},
     "không nằm trong danh sách"),
    ({"endpoint": "http://127.0.0.1:9/push/1", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
     "Khóa của đăng ký"),
    ({"nothing": True}, "không gửi thông tin đăng ký"),
    ([1, 2, 3], "không gửi thông tin đăng ký"),
])
def test_bad_subscriptions_are_refused_in_vietnamese(push_app, logged_in, body, message):
    response = logged_in("staff").post("/profile/push/subscribe", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_a_form_post_or_a_huge_body_is_not_a_subscription(push_app, logged_in):
    staff = logged_in("staff")
    assert staff.post("/profile/push/subscribe", data={"endpoint": "x"}).status_code == 400
    huge = {"endpoint": "http://127.0.0.1/" + "a" * 5000, "keys": {}}
    assert staff.post("/profile/push/subscribe", json=huge).status_code == 400


def test_the_subscription_endpoints_need_a_login_and_csrf(push_app, client, logged_in,
                                                         push_service):
    response = client.post("/profile/push/subscribe", json={})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    staff = logged_in("staff")
    push_app.config["WTF_CSRF_ENABLED"] = True  # after logging in (the test posts no token)
    browser = push_service.subscribe()
    assert staff.post("/profile/push/subscribe", json=browser.info).status_code == 400
    page = staff.get("/profile/").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    response = staff.post("/profile/push/subscribe", json=browser.info,
                          headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_a_device_is_removed_from_the_list_without_javascript(push_app, logged_in,
                                                            push_service):
    student = logged_in("student")
    staff = logged_in("staff")
    mine = push_service.subscribe()
    theirs = push_service.subscribe()
    assert student.post("/profile/push/subscribe", json=mine.info).status_code == 201
    assert staff.post("/profile/push/subscribe", json=theirs.info).status_code == 201
    from webapp.extensions import db
    with push_app.app_context():
        rows = {r.endpoint: r.id for r in db.session.scalars(select(PushSubscription))}
    # Someone else's device: not in your list, nothing removed.
    response = student.post("/profile/push/remove", data={"subscription": rows[theirs.endpoint]},
                            follow_redirects=True)
    assert "không có trong danh sách" in response.get_data(as_text=True)
    response = student.post("/profile/push/remove", data={"subscription": rows[mine.endpoint]},
                            follow_redirects=True)
    assert "không nhận thông báo nữa" in response.get_data(as_text=True)
    with push_app.app_context():
        assert [r.endpoint for r in db.session.scalars(select(PushSubscription))] == [theirs.endpoint]


def test_the_same_browser_moves_to_whoever_subscribed_it_last(push_app, logged_in,
                                                             push_service, accounts):
    browser = push_service.subscribe()
    assert logged_in("student").post("/profile/push/subscribe", json=browser.info).status_code == 201
    assert logged_in("staff").post("/profile/push/subscribe", json=browser.info).status_code == 201
    from webapp.extensions import db
    with push_app.app_context():
        [row] = db.session.scalars(select(PushSubscription)).all()
        assert row.user_id == accounts.ids["staff"]
    assert json.loads(json.dumps(browser.info))["keys"]["auth"] == row.auth
