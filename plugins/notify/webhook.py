"""Signed webhooks for city systems (the receiving side: docs/notifications.md).

The body is JSON; ``X-Helpdesk-Signature: t=<unix time>,v1=<hex>`` carries the
HMAC-SHA256, keyed with the endpoint's secret, of ``"<t>.<body>"`` (as Stripe signs);
``X-Helpdesk-Delivery`` is ``Message.key``, the same on every retry of one message, so a
receiver keeps the ids it has seen and ignores repeats. Receivers should refuse a
timestamp more than five minutes from their clock (a replayed old request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any, Mapping

from helpdesk_core import DeliveryError, Message, translator

if TYPE_CHECKING:
    import requests  # imported where a request is sent: web workers never send one

_ = translator(__name__).gettext

SIGNATURE_HEADER = "X-Helpdesk-Signature"
DELIVERY_HEADER = "X-Helpdesk-Delivery"
EVENT_HEADER = "X-Helpdesk-Event"
TIMEOUT = (5.0, 10.0)  # connect, read


def body_of(message: Message) -> bytes:
    """The JSON body of a delivery (UTF-8, Vietnamese kept as is)."""
    return json.dumps({"id": message.key, "kind": message.kind, "subject": message.subject,
                       "text": message.text, "url": message.url, "urgent": message.urgent,
                       "locale": message.locale, "data": dict(message.data)},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Helpdesk-Signature`` header value for *body* sent at *timestamp*."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def send_webhook(message: Message, settings: Mapping[str, Any]) -> None:
    """POST *message* to the endpoint in *settings* (``url``, ``secret``).

    2xx is delivered; 429 and 5xx are retried (after ``Retry-After`` when given), other
    answers are permanent; a timeout or a refused connection is retried.
    """
    url, secret = settings.get("url") or message.address, settings.get("secret") or ""
    if not secret:
        raise DeliveryError(_("The endpoint has no secret."), permanent=True)
    body = body_of(message)
    headers = {"Content-Type": "application/json; charset=utf-8",
               SIGNATURE_HEADER: sign(secret, int(time.time()), body),
               DELIVERY_HEADER: message.key, EVENT_HEADER: message.kind,
               "User-Agent": "WardHelpdesk-Webhook/1"}
    import requests
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(_("The endpoint could not be reached: %(error)s",
                              error=type(exc).__name__)) from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = _("The endpoint answered HTTP %(status)d.", status=status)
    if status == 429 or status >= 500:
        raise DeliveryError(reason, retry_after=_retry_after(response))
    raise DeliveryError(reason, permanent=True)
