"""The kit's loopback push service refuses what a real one refuses, so a sender that
passes it signs and encrypts correctly (it is the judge of the Web Push tests)."""

from __future__ import annotations

import json
import time

import pytest
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from helpdesk_core.services.push import _new_keys


@pytest.fixture
def keys():
    return _new_keys()


def push(sub, keys, claims=None, **kwargs):
    claims = {"sub": "mailto:it@danang.gov.vn", **(claims or {})}
    return webpush(sub.info, json.dumps({"title": "Xin chào"}),
                   vapid_private_key=Vapid.from_pem(keys.private_pem.encode()),
                   vapid_claims=claims, ttl=kwargs.pop("ttl", 60), timeout=5, **kwargs)


def test_a_correct_push_is_decrypted_and_recorded(push_service, keys):
    sub = push_service.subscribe(keys.public_key)
    push(sub, keys, headers={"Urgency": "low", "Topic": "HCH-2026-00001"})
    [delivery] = push_service.deliveries
    assert delivery.data == {"title": "Xin chào"}
    assert (delivery.urgency, delivery.topic, delivery.ttl) == ("low", "HCH-2026-00001", 60)


@pytest.mark.parametrize("claims, reason", [
    ({"aud": "https://fcm.googleapis.com"}, "aud"),
    ({"exp": int(time.time()) + 25 * 3600}, "24 hours"),
])
def test_bad_vapid_claims_are_refused(push_service, keys, claims, reason):
    sub = push_service.subscribe(keys.public_key)
    with pytest.raises(WebPushException) as caught:
        push(sub, keys, claims)
    assert caught.value.response.status_code == 401
    assert reason in push_service.rejected[0].reason and push_service.deliveries == []


def test_another_servers_key_is_refused(push_service, keys):
    sub = push_service.subscribe(_new_keys().public_key)
    with pytest.raises(WebPushException) as caught:
        push(sub, keys)
    assert caught.value.response.status_code == 403


def test_the_old_aesgcm_encoding_is_refused(push_service, keys):
    sub = push_service.subscribe(keys.public_key)
    with pytest.raises(WebPushException) as caught:
        push(sub, keys, content_encoding="aesgcm")
    assert caught.value.response.status_code in (400, 401)
    assert push_service.deliveries == []


def test_a_payload_for_another_browser_does_not_decrypt(push_service, keys):
    sub, other = push_service.subscribe(keys.public_key), push_service.subscribe(keys.public_key)
    forged = dict(sub.info, keys=other.info["keys"])  # encrypted to the wrong browser
    with pytest.raises(WebPushException):
        webpush(forged, "x", vapid_private_key=Vapid.from_pem(keys.private_pem.encode()),
                vapid_claims={"sub": "mailto:it@danang.gov.vn"}, ttl=60, timeout=5)
    assert "does not decrypt" in push_service.rejected[0].reason


def test_scripted_answers(push_service, keys):
    sub = push_service.subscribe(keys.public_key)
    push_service.answer(429, sub, headers={"Retry-After": "7"}, times=1)
    with pytest.raises(WebPushException) as caught:
        push(sub, keys)
    assert caught.value.response.headers["Retry-After"] == "7"
    push(sub, keys)
    push_service.unsubscribe(sub)
    with pytest.raises(WebPushException) as caught:
        push(sub, keys)
    assert caught.value.response.status_code == 410
    assert len(push_service.deliveries) == 1
