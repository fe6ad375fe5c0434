"""The Web Push channel: a notification on the phone (or computer) of each browser the
user subscribed from /profile/, encrypted to that browser (RFC 8291, aes128gcm) and
signed with the application's VAPID key (RFC 8292).

The subscriptions and the VAPID key are the core's (``helpdesk_core.web_push``): the
web app stores them when a user subscribes, this channel only delivers to them.
"""

from __future__ import annotations

import email.utils
import logging
import json
import re
import time
import urllib.parse
from typing import Any, Mapping, Sequence

from sqlalchemy.exc import SQLAlchemyError
from wtforms import Form, IntegerField, StringField
from wtforms.validators import Length, NumberRange, ValidationError

from helpdesk_core import (AddressGone, DeliveryError, Message, mask_personal_data,
                           plugin_session, translator, web_push)

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext

log = logging.getLogger(__name__)

KEY = "webpush"
TIMEOUT = 10.0
BODY_MAX = 300  # characters: a lock screen shows two or three lines
# RFC 8030 Urgency: a P1 ticket wakes the phone; a digest may wait for a good moment.
URGENCY = {"digest": "low"}


_CONTACT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+\.[^@\s]+|https://\S+)$")


def _contact_check(form: Form, field: Any) -> None:
    """Empty, or a mailto:/https: contact (also when validating ``data=``, which
    ``Optional()`` would wave through)."""
    if (field.data or "").strip() and not _CONTACT.match(field.data.strip()):
        raise ValidationError(_l("Write mailto:name@domain or an https:// address."))


class WebPushSettingsForm(Form):
    """The channel's settings, edited by administrators."""

    contact = StringField(
        _l("Contact for the push services (mailto: or https: address)"),
        validators=[Length(max=200), _contact_check],
        description=_l("Sent with every push so the browsers' push services can reach "
                       "whoever runs the helpdesk. Empty: the helpdesk's own web address."))
    ttl_hours = IntegerField(
        _l("Keep undelivered notifications for (hours)"), default=24,
        validators=[NumberRange(1, 72)],
        description=_l("A phone that is off longer gets nothing for that time."))


def payload(message: Message) -> dict[str, Any]:
    """What the service worker gets: no personal data, only what the notification shows
    and where a tap leads. ``tag`` (the ticket number) makes a newer notification about
    the same ticket replace the older one."""
    data = message.data or {}
    tag = data.get("ticket") or data.get("number") or data.get("ticket_number") or message.kind
    body = mask_personal_data(message.text or "")
    if len(body) > BODY_MAX:
        body = body[:BODY_MAX - 1].rstrip() + "…"
    return {"title": mask_personal_data(message.subject), "body": body, "url": message.url,
            "urgent": bool(message.urgent), "tag": str(tag), "kind": message.kind}


def _contact(settings: Mapping[str, Any], message: Message) -> str:
    contact = (settings.get("contact") or "").strip()
    if contact:
        return contact
    site = urllib.parse.urlsplit(message.url or "")
    if site.scheme in ("http", "https") and site.hostname:
        return f"https://{site.hostname}"  # no port: push services want a plain origin
    raise DeliveryError(_("Set the contact address of the Web Push channel."), permanent=True)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds, or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def send(message: Message, settings: Mapping[str, Any]) -> None:
    """Deliver *message* to the subscription in ``message.address``.

    :raises AddressGone: the push service no longer knows the subscription (404, 410).
    :raises DeliveryError: rate limited (429, with ``retry_after``), the push service
        failed or did not answer (5xx, timeout: retried), or refused the push (other 4xx:
        permanent).
    """
    try:
        subscription = json.loads(message.address)
        subscription["endpoint"], subscription["keys"]["p256dh"], subscription["keys"]["auth"]
    except (ValueError, TypeError, KeyError):
        raise DeliveryError(_("This is not a push subscription."), permanent=True) from None
    with plugin_session() as session:
        keys = web_push.vapid_keys(session)
        session.commit()  # end the transaction: no lock is held across the network
    headers = {"Urgency": "high" if message.urgent else URGENCY.get(message.kind, "normal")}
    # Imported here: only the process that delivers (the scheduler) needs them, and
    # pywebpush brings aiohttp; web workers only read and store subscriptions.
    import requests
    from py_vapid import Vapid, VapidException
    from pywebpush import WebPushException, webpush
    try:
        webpush(subscription, json.dumps(payload(message), ensure_ascii=False),
                vapid_private_key=Vapid.from_pem(keys.private_pem.encode("ascii")),
                vapid_claims={"sub": _contact(settings, message)},
                ttl=int(settings.get("ttl_hours") or 24) * 3600, headers=headers,
                timeout=TIMEOUT, content_encoding="aes128gcm")
    except WebPushException as exc:
        _raise_for(exc.response)
    except VapidException:
        raise DeliveryError(_("Set the contact address of the Web Push channel."),
                            permanent=True) from None
    except requests.Timeout:
        raise DeliveryError(_("The push service did not answer in time.")) from None
    except requests.RequestException:
        raise DeliveryError(_("The push service could not be reached.")) from None
    try:
        with plugin_session() as session:
            web_push.record_success(session, message.address)
            session.commit()
    except SQLAlchemyError:  # delivered all the same: a retry would notify twice
        log.warning("webpush: could not record the delivery of %s", message.key,
                    exc_info=True)


def _raise_for(response: Any) -> None:
    status = getattr(response, "status_code", None)
    if status in (404, 410):
        raise AddressGone(_("The browser no longer has this subscription (%(status)s).",
                            status=status))
    if status == 429:
        raise DeliveryError(_("The push service asks us to slow down."),
                            retry_after=_retry_after(response.headers.get("Retry-After")))
    if status is None or status >= 500:
        raise DeliveryError(_("The push service failed (%(status)s).", status=status or "?"))
    raise DeliveryError(_("The push service refused the notification (%(status)s).",
                          status=status), permanent=True)


def addresses(session: Any, user: Any) -> list[str]:
    """The user's subscribed browsers, one JSON subscription each."""
    return web_push.addresses(session, user)


def addresses_many(session: Any, users: Sequence[Any]) -> Mapping[int, list[str]]:
    """:func:`addresses` of several users, in one query."""
    return web_push.addresses_many(session, users)


def forget(session: Any, address: str) -> None:
    """Drop a subscription the push service said is gone."""
    web_push.forget(session, address)
