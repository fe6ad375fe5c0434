"""The Zalo OA channel against a loopback fake of Zalo's OAuth v4 and OA v3 APIs: the
token refreshed once and cached, its single-use refresh token kept, an invalid token
refreshed and the message retried once, and each error code mapped for the outbox.

The outbox is not here: the tests call ``addresses``, ``send`` and ``forget`` as it does.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from helpdesk_core import AddressGone, DeliveryError, Message
from helpdesk_core.plugins import load_registry
from plugins.zalo import channel as zalo_channel
from plugins.zalo import client
from plugins.zalo.tables import links, tokens

from .fake_zalo import FakeZalo

pytestmark = pytest.mark.usefixtures("plugin_sessions")


@pytest.fixture
def zalo():
    fake = FakeZalo().start()
    yield fake
    fake.stop()


@pytest.fixture
def channel():
    return load_registry().channels["zalo"]


def message(address: str, **overrides) -> Message:
    values = dict(key="n3-zalo", kind="ticket_new", address=address,
                  subject="Phiếu mới HCH-2026-00003: mất mạng quầy 2",
                  text="Người dân để lại số 0905 123 456.",
                  url="https://helpdesk.danang.gov.vn/tickets/3")
    values.update(overrides)
    return Message(**values)


def test_the_first_send_refreshes_the_token_and_later_ones_reuse_it(db_session, zalo, channel):
    uid = zalo.follower("5830000000000001")
    settings = zalo.settings()
    channel.send(message(uid), settings)
    channel.send(message(uid, key="n4-zalo"), settings)
    assert zalo.refreshes == 1 and len(zalo.sent) == 2
    text = zalo.sent[0]["text"]
    assert text.startswith("Phiếu mới HCH-2026-00003") and text.endswith("/tickets/3")
    assert "0905" not in text  # masked again, to be sure
    row = db_session.execute(select(tokens)).one()
    assert row.refresh_token == "RT-1" and row.access_token == "AT-1"


def test_the_single_use_refresh_token_is_kept_and_used_next(db_session, zalo, channel):
    uid = zalo.follower("5830000000000001")
    settings = zalo.settings()  # holds RT-0, which works once
    channel.send(message(uid), settings)
    zalo.revoke_access_tokens()  # a day later: the access token expired
    channel.send(message(uid), settings)
    assert len(zalo.sent) == 2 and zalo.refreshes == 2
    assert db_session.execute(select(tokens.c.refresh_token)).scalar() == "RT-2"


def test_an_invalid_token_is_refreshed_once_and_the_message_retried(zalo, channel):
    uid = zalo.follower("5830000000000001")
    settings = zalo.settings()
    channel.send(message(uid), settings)
    zalo.revoke_access_tokens()
    # The cached token still looks valid by its expiry: Zalo's -216 makes it refresh.
    channel.send(message(uid), settings)
    assert zalo.refreshes == 2 and zalo.message_calls == 3 and len(zalo.sent) == 2


def test_a_token_refused_even_after_refreshing_is_permanent(zalo, channel):
    uid = zalo.follower("5830000000000001")
    zalo.always_invalid = True
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), zalo.settings())
    assert caught.value.permanent and "-216" in caught.value.reason
    assert zalo.message_calls == 2 and zalo.refreshes == 2  # one retry, no loop


def test_an_unfollowed_user_is_gone_and_forgotten(db_session, zalo, channel):
    uid = zalo.follower("5830000000000002", error=-213)
    zalo_channel.link(db_session, 7, uid, 7)
    db_session.commit()

    class User:
        id = 7

    assert channel.addresses(db_session, User()) == [uid]
    db_session.commit()
    with pytest.raises(AddressGone):
        channel.send(message(uid), zalo.settings())
    channel.forget(db_session, uid)
    db_session.commit()
    assert channel.addresses(db_session, User()) == []


def test_outside_the_interaction_window_is_permanent_but_not_gone(zalo, channel):
    uid = zalo.follower("5830000000000003", error=-230)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), zalo.settings())
    assert caught.value.permanent and not isinstance(caught.value, AddressGone)
    assert "-230" in caught.value.reason


def test_rate_limits_ask_to_wait(zalo, channel):
    uid = zalo.follower("5830000000000001")
    settings = zalo.settings()
    zalo.script(200, {"error": -32, "message": "Your application reached limit call api"})
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), settings)
    assert not caught.value.permanent and caught.value.retry_after == 60
    zalo.script(429, {"error": -32}, {"Retry-After": "30"})
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), settings)
    assert caught.value.retry_after == 30
    channel.send(message(uid), settings)
    assert len(zalo.sent) == 1


def test_server_errors_and_timeouts_are_retried(zalo, channel, silent_port, monkeypatch):
    uid = zalo.follower("5830000000000001")
    zalo.script(502, b"<html>Bad gateway</html>")
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), zalo.settings())
    assert not caught.value.permanent
    monkeypatch.setattr(client, "TIMEOUT", 0.3)
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), zalo.settings(api_url=f"http://127.0.0.1:{silent_port}"))
    assert not caught.value.permanent and "kịp" in caught.value.reason


def test_a_refused_refresh_token_is_permanent(zalo, channel):
    uid = zalo.follower("5830000000000001")
    with pytest.raises(DeliveryError) as caught:
        channel.send(message(uid), zalo.settings(refresh_token="RT-stolen"))
    assert caught.value.permanent and "Invalid refresh token" in caught.value.reason
    assert zalo.message_calls == 0


def test_a_new_pasted_refresh_token_starts_a_new_chain(db_session, zalo, channel):
    uid = zalo.follower("5830000000000001")
    channel.send(message(uid), zalo.settings())
    zalo.refresh_tokens.add("RT-new")  # the OA authorised the app again
    channel.send(message(uid), zalo.settings(refresh_token="RT-new"))
    assert zalo.refreshes == 2 and len(zalo.sent) == 2


def test_missing_settings_are_permanent(zalo, channel):
    with pytest.raises(DeliveryError) as caught:
        channel.send(message("5830000000000001"), {"app_id": "", "secret_key": "",
                                                   "refresh_token": ""})
    assert caught.value.permanent and zalo.refreshes == 0
    with pytest.raises(DeliveryError) as caught:
        channel.send(message("not-an-id"), zalo.settings())
    assert caught.value.permanent


def test_threads_sending_at_once_refresh_once(zalo, channel):
    uid = zalo.follower("5830000000000001")
    settings = zalo.settings()
    errors: list[BaseException] = []

    def send():
        try:
            channel.send(message(uid), settings)
        except BaseException as exc:  # recorded for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and zalo.refreshes == 1 and len(zalo.sent) == 4


def test_settings_form_keeps_secrets_in_password_fields():
    form_class = load_registry().channels["zalo"].settings_form
    form = form_class(data={"app_id": "123", "secret_key": "s", "refresh_token": "r"})
    assert form.validate(), form.errors
    assert form.secret_key.type == form.refresh_token.type == "PasswordField"
    assert form.oauth_url.data == "https://oauth.zaloapp.com"
    assert form.api_url.data == "https://openapi.zalo.me"
    assert not form_class(data={"app_id": "abc"}).validate()
    assert not form_class(data={"app_id": "1", "api_url": "not an address"}).validate()


def test_links_table_stores_one_id_per_user(db_session):
    zalo_channel.link(db_session, 1, "111", 1)
    zalo_channel.link(db_session, 1, "222", 9)
    db_session.commit()
    assert db_session.execute(select(links.c.zalo_user_id, links.c.linked_by)).all() == [("222", 9)]
    assert zalo_channel.unlink(db_session, 1) and not zalo_channel.unlink(db_session, 1)
