"""Signed webhooks: real deliveries to a loopback HTTP server, checked by the receiver
snippet of docs/notifications.md (taken from the page, so the docs stay true)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import pathlib
import re
import time

import pytest

from helpdesk_core import DeliveryError, Message
from helpdesk_core.services import delivery, notify_rules as rules, tickets, webhooks

from plugins.notify import webhook

from ...factories import make_ticket, make_user, make_ward

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
SECRET = "whsec-0123456789abcdef"


@pytest.fixture(scope="module")
def receiver():
    """The documented receiver's ``verify`` function."""
    page = DOCS.read_text(encoding="utf-8")
    code = re.search(r"<!-- receiver -->\s*```python\n(.*?)```\s*<!-- /receiver -->", page,
                     re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace["verify"]


def message(**overrides) -> Message:
    values = dict(key="n7-webhook", kind="sla_breach", address="", subject="[HCH-2026-00007] Quá hạn",
                  text="Phiếu quá hạn", url="https://hd.test/tickets/7",
                  data={"ticket": "HCH-2026-00007", "ward": "HCH", "priority": 2})
    values.update(overrides)
    return Message(**values)


def test_a_delivery_verifies_with_the_documented_snippet(http_server, receiver):
    http_server.answer("/hook", 204, b"")
    webhook.send_webhook(message(), {"url": http_server.url("/hook"), "secret": SECRET})
    [request] = http_server.requests
    assert request.headers["X-Helpdesk-Delivery"] == "n7-webhook"
    assert request.headers["X-Helpdesk-Event"] == "sla_breach"
    signature = request.headers["X-Helpdesk-Signature"]
    assert receiver(SECRET, signature, request.body)
    body = json.loads(request.body)
    assert body["id"] == "n7-webhook" and body["data"]["ticket"] == "HCH-2026-00007"
    assert body["subject"] == "[HCH-2026-00007] Quá hạn"  # UTF-8 as is
    # Tampered body, wrong secret, replayed later: refused.
    assert not receiver(SECRET, signature, request.body.replace(b"Qu", b"Xu"))
    assert not receiver("another-secret-value", signature, request.body)
    assert not receiver(SECRET, signature, request.body, now=time.time() + 301)
    assert not receiver(SECRET, "garbage", request.body)


@pytest.mark.parametrize("status, permanent", [(500, False), (503, False), (429, False),
                                               (400, True), (404, True), (410, True)])
def test_answers_decide_retry_or_dead_letter(http_server, status, permanent):
    http_server.answer("/hook", status, b"no", headers={"Retry-After": "120"})
    with pytest.raises(DeliveryError) as caught:
        webhook.send_webhook(message(), {"url": http_server.url("/hook"), "secret": SECRET})
    assert caught.value.permanent is permanent
    if status == 429:
        assert caught.value.retry_after == 120


def test_a_refused_connection_is_retried(closed_port):
    with pytest.raises(DeliveryError) as caught:
        webhook.send_webhook(message(), {"url": f"http://127.0.0.1:{closed_port}/hook",
                                         "secret": SECRET})
    assert not caught.value.permanent


def test_the_outbox_delivers_signed_webhooks_end_to_end(db_session, registry, http_server,
                                                        receiver, now):
    """A ticket filed in a subscribed ward reaches the endpoint, signed with its secret;
    a retry after a 503 carries the same delivery id."""
    ward = make_ward(db_session)
    staff = make_user(db_session, ward=ward)
    webhooks.save_endpoint(db_session, "app-secret", name="Tổng đài 1022",
                           url=http_server.url("/hook"), secret=SECRET,
                           kinds=[rules.TICKET_NEW], all_wards=False, ward_ids=[ward.id])
    ticket = make_ticket(db_session, registry, ward, now, reporter=staff)
    tickets.commit(db_session)

    @contextlib.contextmanager
    def scope():
        yield db_session

    def drain(moment):
        return delivery.drain(scope, registry, secret_key="app-secret",
                              base_url="https://hd.test", clock=lambda: moment)

    http_server.answer("/hook", 503, b"busy")
    assert drain(now).retried == 1
    http_server.answer("/hook", 200, b"ok")
    assert drain(now + dt.timedelta(hours=1)).sent == 1
    first, second = http_server.requests
    assert first.headers["X-Helpdesk-Delivery"] == second.headers["X-Helpdesk-Delivery"]
    for request in (first, second):
        assert receiver(SECRET, request.headers["X-Helpdesk-Signature"], request.body)
    body = json.loads(second.body)
    assert body["data"]["ticket"] == ticket.number
    assert body["url"] == f"https://hd.test/tickets/{ticket.id}"
