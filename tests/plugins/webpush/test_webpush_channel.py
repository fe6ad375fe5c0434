"""The Web Push channel against the kit's loopback push service: VAPID checked, the
payload decrypted with the browser's own keys, and each failure mapped for the outbox.

The outbox is not here: these tests call the channel as it does, ``addresses(session,
user)``, ``send(message, settings)`` and ``forget(session, address)``.
"""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from helpdesk_core import AddressGone, DeliveryError, Message, web_push
from helpdesk_core.models import PushSubscription, Role, VapidKey
from helpdesk_core.plugins import load_registry
from tests.factories import make_user, make_ward

SETTINGS = {"contact": "mailto:helpdesk@danang.gov.vn", "ttl_hours": 24}
LOOPBACK = ("127.0.0.1",)


@pytest.fixture
def channel():
    return load_registry().channels["webpush"]


@pytest.fixture
def student(db_session):
    ward = make_ward(db_session)
    user = make_user(db_session, Role.STUDENT, None, login="sv.push")
    db_session.commit()
    return user


def subscribe(db_session, push_service, user):
    """What the profile page does when the browser subscribed."""
    keys = web_push.vapid_keys(db_session)
    browser = push_service.subscribe(keys.public_key)
    web_push.subscribe(db_session, user, browser.info, "Mozilla/5.0 (Android 14)",
                       allowed_hosts=LOOPBACK)
    db_session.commit()
    return browser


def addresses_of(channel, db_session, user) -> list[str]:
    """As the outbox does: read the addresses in its transaction, which ends before the
    scheduler sends (no transaction is held across a network call)."""
    found = channel.addresses(db_session, user)
    db_session.commit()
    return found


def message(address: str, **overrides) -> Message:
    values = dict(key="n1-webpush", kind="ticket_new", address=address,
                  subject="Phiếu mới HCH-2026-00012: máy in quầy 1 kẹt giấy",
                  text="Người dân gọi 0905 123 456 chờ tại quầy 1.",
                  url="https://helpdesk.danang.gov.vn/tickets/HCH-2026-00012",
                  data={"ticket": "HCH-2026-00012", "ward": "HCH"})
    values.update(overrides)
    return Message(**values)


def test_a_push_arrives_signed_and_decryptable_without_personal_data(
        db_session, plugin_sessions, push_service, channel, student):
    browser = subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    assert json.loads(address) == {"endpoint": browser.endpoint, "keys": browser.info["keys"]}

    channel.send(message(address), SETTINGS)

    [delivery] = push_service.deliveries
    assert push_service.rejected == []
    assert delivery.claims["sub"] == "mailto:helpdesk@danang.gov.vn"
    assert delivery.claims["aud"] == push_service.origin
    assert delivery.ttl == 24 * 3600 and delivery.urgency == "normal"
    data = delivery.data
    assert data == {"title": "Phiếu mới HCH-2026-00012: máy in quầy 1 kẹt giấy",
                    "body": data["body"], "url": "https://helpdesk.danang.gov.vn/tickets/HCH-2026-00012",
                    "urgent": False, "tag": "HCH-2026-00012", "kind": "ticket_new"}
    assert "0905" not in data["body"] and "quầy 1" in data["body"]  # masked again, to be sure
    db_session.expire_all()
    row = db_session.scalar(select(PushSubscription))
    assert row.last_success_at is not None and row.user_agent == "Mozilla/5.0 (Android 14)"


def test_urgent_messages_go_high_and_ask_for_sound(db_session, plugin_sessions, push_service,
                                                   channel, student):
    subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    channel.send(message(address, kind="ticket_urgent", urgent=True), SETTINGS)
    [delivery] = push_service.deliveries
    assert delivery.urgency == "high" and delivery.data["urgent"] is True


def test_every_browser_of_the_user_is_an_address(db_session, plugin_sessions, push_service,
                                                 channel, student):
    phone = subscribe(db_session, push_service, student)
    laptop = subscribe(db_session, push_service, student)
    addresses = addresses_of(channel, db_session, student)
    assert [json.loads(a)["endpoint"] for a in addresses] == [phone.endpoint, laptop.endpoint]
    for address in addresses:
        channel.send(message(address), SETTINGS)
    assert len(push_service.for_subscription(phone)) == 1
    assert len(push_service.for_subscription(laptop)) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_reported_and_forgotten(db_session, plugin_sessions,
                                                       push_service, channel, student, status):
    browser = subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    push_service.answer(status, browser)
    with pytest.raises(AddressGone) as caught:
        channel.send(message(address), SETTINGS)
    assert caught.value.permanent
    channel.forget(db_session, address)
    db_session.commit()
    assert channel.addresses(db_session, student) == []


def test_unsubscribed_in_the_browser_is_gone(db_session, plugin_sessions, push_service,
                                             channel, student):
    browser = subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    push_service.unsubscribe(browser)
    with pytest.raises(AddressGone):
        channel.send(message(address), SETTINGS)


def test_rate_limited_gives_retry_after(db_session, plugin_sessions, push_service, channel,
                                        student):
    browser = subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    push_service.answer(429, browser, headers={"Retry-After": "120"}, times=1)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(address), SETTINGS)
    assert not caught.value.permanent and caught.value.retry_after == 120
    assert not isinstance(caught.value, AddressGone)
    channel.send(message(address), SETTINGS)  # the retry goes through
    assert len(push_service.deliveries) == 1


def test_server_errors_and_timeouts_are_retried(db_session, plugin_sessions, push_service,
                                                channel, student, monkeypatch):
    browser = subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    push_service.answer(500, browser, times=1)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(address), SETTINGS)
    assert not caught.value.permanent and caught.value.retry_after is None

    from plugins.webpush import channel as module
    monkeypatch.setattr(module, "TIMEOUT", 0.2)
    push_service.hang(browser)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(address), SETTINGS)
    assert not caught.value.permanent


def test_a_push_signed_with_another_key_is_refused(db_session, plugin_sessions, push_service,
                                                   channel, student):
    """A subscription made for another application server key cannot be used: the
    service answers 403, a permanent failure (not a gone address)."""
    other = push_service.subscribe("BOgus" + "A" * 82)
    web_push.subscribe(db_session, student, other.info, allowed_hosts=LOOPBACK)
    db_session.commit()
    [address] = addresses_of(channel, db_session, student)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(address), SETTINGS)
    assert caught.value.permanent and not isinstance(caught.value, AddressGone)
    assert push_service.rejected[0].status == 403


def test_the_contact_defaults_to_the_site(db_session, plugin_sessions, push_service, channel,
                                          student):
    subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)
    channel.send(message(address, url="https://helpdesk.danang.gov.vn:8443/tickets/1"),
                 {"contact": "", "ttl_hours": 2})
    [delivery] = push_service.deliveries
    assert delivery.claims["sub"] == "https://helpdesk.danang.gov.vn" and delivery.ttl == 7200
    with pytest.raises(DeliveryError) as caught:  # no contact and no address to make one
        channel.send(message(address, url=""), {"contact": "", "ttl_hours": 2})
    assert caught.value.permanent


def test_the_vapid_key_is_made_once_even_by_racing_processes(session_factory):
    """Two sessions (as two processes) ask for the key at once: both get the same one."""
    barrier = threading.Barrier(4)
    found: list[str] = []

    def ask():
        with session_factory() as session:
            barrier.wait()
            found.append(web_push.vapid_keys(session).public_key)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1
    with session_factory() as session:
        assert len(session.scalars(select(VapidKey)).all()) == 1
        assert web_push.vapid_keys(session).public_key == found[0]


def test_settings_form_validates_the_contact():
    form_class = load_registry().channels["webpush"].settings_form
    assert form_class(data={"contact": "mailto:it@danang.gov.vn", "ttl_hours": 24}).validate()
    assert not form_class(data={"contact": "it@danang", "ttl_hours": 24}).validate()
    assert not form_class(data={"contact": "", "ttl_hours": 500}).validate()


def test_a_delivery_that_cannot_be_recorded_still_counts(db_session, plugin_sessions,
                                                          push_service, channel, student,
                                                          monkeypatch, caplog):
    """The push went out: failing to note it must not make the outbox send it again."""
    from sqlalchemy.exc import OperationalError
    subscribe(db_session, push_service, student)
    [address] = addresses_of(channel, db_session, student)

    def locked(*_args, **_kwargs):
        raise OperationalError("UPDATE push_subscription", {}, Exception("database is locked"))

    monkeypatch.setattr(web_push, "record_success", locked)
    channel.send(message(address), SETTINGS)
    assert len(push_service.deliveries) == 1
    assert "could not record the delivery of n1-webpush" in caplog.text


def test_the_catalog_translates_everything_as_the_others_do():
    from helpdesk_core.testing import assert_catalog
    assert_catalog("plugins.webpush")
