"""Webhook endpoints of city systems: which ones exist, and what each subscribes to.

Administrators register an endpoint (a URL, a shared secret, the notification kinds and
the wards it wants). For every ticket event of a subscribed kind in one of its wards the
outbox writes one row on the ``webhook`` channel (the built-in ``notify`` plugin signs
and posts it); at delivery the outbox hands the channel the endpoint's URL and decrypted
secret as its settings (:func:`delivery_settings`). Secrets are stored encrypted
(:mod:`.channel_settings`) and never shown back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import NotFound, ValidationFailed
from ..models import Notification, Ticket, WebhookEndpoint
from ..plugins import PluginRegistry
from . import channel_settings, readahead
from . import notify_render as render
from . import notify_rules as rules

CHANNEL = "webhook"  # the key the built-in notify plugin registers its channel under
SUBSCRIBABLE = (rules.TICKET_NEW, rules.TICKET_URGENT, rules.SLA_RISK, rules.SLA_BREACH,
                rules.ESCALATED, rules.RESOLVED, rules.AUTO_TICKET)
SECRET_MIN = 16


def endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, in the order they were added."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint. :raises NotFound: no such endpoint."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def _errors(name: str, url: str, secret: str, kinds: list[str], new: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 80:
        errors["name"] = [i18n.gettext("Give a name of at most 80 characters.")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        errors["url"] = [i18n.gettext("Give an http:// or https:// address.")]
    if (new or secret) and len(secret) < SECRET_MIN:
        errors["secret"] = [i18n.gettext("At least %(min)d characters.", min=SECRET_MIN)]
    if not kinds or any(kind not in SUBSCRIBABLE for kind in kinds):
        errors["kinds"] = [i18n.gettext("Choose at least one kind of notification.")]
    return errors


def save_endpoint(session: Session, secret_key: str, *, name: str, url: str, secret: str,
                  kinds: Iterable[str], all_wards: bool, ward_ids: Iterable[int],
                  active: bool = True, endpoint: WebhookEndpoint | None = None) -> WebhookEndpoint:
    """Add an endpoint, or change *endpoint* (an empty *secret* keeps the stored one).

    :raises ValidationFailed: with field errors; nothing stored.
    """
    name, url, secret = name.strip(), url.strip(), secret.strip()
    kinds = list(dict.fromkeys(kinds))
    errors = _errors(name, url, secret, kinds, endpoint is None)
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    if endpoint is None:
        endpoint = WebhookEndpoint(secret="")
        session.add(endpoint)
    endpoint.name, endpoint.url, endpoint.kinds = name, url, kinds
    endpoint.all_wards, endpoint.active = bool(all_wards), bool(active)
    endpoint.ward_ids = sorted({int(w) for w in ward_ids}) if not all_wards else []
    if secret:
        endpoint.secret = channel_settings.encrypt(secret_key, secret)
    session.flush()
    return endpoint


def delete_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint (its outbox rows go with it)."""
    session.delete(endpoint)
    session.flush()


def matching(session: Session, kind: str, ward_id: int | None) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to *kind* in *ward_id*'s ward."""
    found = []
    endpoints = readahead.remembered(session, ("webhooks",),
                                     lambda: list(session.scalars(_ACTIVE)))
    for endpoint in endpoints:
        if kind not in (endpoint.kinds or []):
            continue
        if endpoint.all_wards or (ward_id is not None and ward_id in (endpoint.ward_ids or [])):
            found.append(endpoint)
    return found


# Read for every ticket filed: built once (its cache key too).
_ACTIVE = select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(
    WebhookEndpoint.id)


def enqueue_for(session: Session, registry: PluginRegistry, ticket: Ticket, kind: str,
                url: str, now: dt.datetime) -> list[Notification]:
    """Outbox rows for the endpoints that want *kind* events of *ticket*'s ward."""
    from .outbox import enqueue  # outbox imports this module

    if CHANNEL not in registry.channels:
        return []
    targets = matching(session, kind, ticket.ward_id)
    if not targets:
        return []
    label = str(registry.categories[ticket.category].label) \
        if ticket.category in registry.categories else ticket.category
    words = render.ticket_message(kind, ticket, "vi", label)
    data = render.ticket_data(kind, ticket)
    return [enqueue(session, channel=CHANNEL, address=endpoint.url, kind=kind, words=words,
                    now=now, url=url, ticket=ticket, endpoint_id=endpoint.id,
                    urgent=rules.is_urgent(rules.EventFacts(event="", priority=ticket.priority),
                                           kind),
                    data=data) for endpoint in targets]


def delivery_settings(session: Session, endpoint_id: int, secret_key: str) -> dict[str, Any]:
    """What the webhook channel's ``send`` needs for one endpoint: URL and secret."""
    endpoint = get_endpoint(session, endpoint_id)
    return {"url": endpoint.url, "secret": channel_settings.decrypt(secret_key, endpoint.secret)}
