"""Notification channels: the contract between the outbox and whoever delivers.

A channel (e-mail, Web Push, Zalo, a webhook...) is added by a plugin through
``helpdesk_register_channels``. The outbox (``helpdesk_core.services.outbox``) writes one
row per message and address in the transaction of the event that causes it, and the
scheduler hands each row to its channel's ``send``. A channel never reads tickets or
users itself: everything it needs is in the :class:`Message`, already translated into the
recipient's language and masked (no citizen's personal data leaves through a channel).

Delivery is at least once: ``send`` may be called again for a message it already
delivered when the process died before the outbox recorded it. ``Message.key`` is stable
across those retries; a channel that can tell the receiving side (an e-mail's
Message-ID, a webhook's delivery id, Zalo's tracking id) passes it on so duplicates can be
recognised there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from wtforms import Form

from .contracts import Text, valid_key


@dataclass(frozen=True)
class Message:
    """One message to one address on one channel.

    :param key: idempotency key, stable across retries of this message (``"n42-email"``).
    :param kind: what happened: ``ticket_new``, ``ticket_urgent``, ``sla_risk``,
        ``sla_breach``, ``escalated``, ``resolved``, ``auto_ticket``, ``digest``, ``test``.
    :param address: where to, in the channel's own terms (an e-mail address, a push
        subscription as JSON, a Zalo user id, a webhook URL).
    :param subject: one line, already translated and masked.
    :param text: the plain-text body, already translated and masked.
    :param url: an absolute link to the ticket (or page) the message is about.
    :param html: the HTML body where the channel shows HTML (e-mail), or ``None``.
    :param urgent: a P1 ticket or a citizen waiting: a channel that can (Web Push) makes
        a sound and keeps the notification on screen.
    :param locale: the recipient's language, ``"vi"`` or ``"en"``.
    :param data: JSON-able facts for machine receivers (webhooks): ticket number, ward
        code, category, priority, status, event; never a citizen's personal data.
    """

    key: str
    kind: str
    address: str
    subject: str
    text: str
    url: str = ""
    html: str | None = None
    urgent: bool = False
    locale: str = "vi"
    data: Mapping[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """``send`` could not deliver. The outbox retries with backoff unless ``permanent``.

    :param reason: one sentence for the administrators' outbox page (no secrets).
    :param permanent: retrying cannot help (a refused address, bad credentials): the
        message goes to the dead letters at once.
    :param retry_after: seconds the receiving side asked us to wait (HTTP 429
        ``Retry-After``, a rate limit), used instead of the backoff when longer.
    """

    def __init__(self, reason: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class AddressGone(DeliveryError):
    """The address no longer exists (a push subscription answered 404/410, a Zalo user
    who unfollowed): the outbox calls the channel's ``forget`` and stops trying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


@dataclass(frozen=True)
class Channel:
    """A way to deliver notifications, as a plugin registers it.

    :param key: slug stored on outbox rows and preferences, e.g. ``"email"``.
    :param label: shown to users choosing their channels and to administrators.
    :param send: ``send(message, settings) -> None``; raise :class:`DeliveryError` (or
        :class:`AddressGone`) when it did not deliver. Blocking is fine: the outbox calls
        it from the scheduler's delivery job, with the channel's own timeout. ``settings``
        is the data of ``settings_form`` as the administrator saved it (decrypted).
    :param addresses: ``addresses(session, user) -> list[str]``: where this user is
        reached on this channel (none: the user is not reachable there). Called inside the
        transaction that writes the outbox rows. ``None`` for channels that do not
        deliver to users (webhooks deliver to endpoints the administrators configure).
    :param settings_form: WTForms form of the channel's settings (server, credentials),
        edited in /admin/; fields whose name ends in ``password``, ``secret``, ``token`` or
        ``key`` are stored encrypted with the application's secret and never shown back.
    :param addresses_many: ``addresses_many(session, users) -> {user id: [address]}``:
        :attr:`addresses` of several users in one read (a user left out has none). Optional
        (plugin API 1.4); the outbox prefers it, so that a ticket notifying five people
        costs the channel one query, not five.
    :param forget: ``forget(session, address)``: drop an address that
        :class:`AddressGone` reported (an expired push subscription).
    :param timeout: seconds one ``send`` may take; the outbox gives up and retries later.
    """

    key: str
    label: Text
    send: Callable[[Message, Mapping[str, Any]], None]
    addresses: Callable[[Any, Any], list[str]] | None = None
    settings_form: type[Form] | None = None
    forget: Callable[[Any, str], None] | None = None
    timeout: float = 10.0
    addresses_many: Callable[[Any, Sequence[Any]], Mapping[int, list[str]]] | None = None


def valid_channel(channel: Any) -> bool:
    return (isinstance(channel, Channel) and valid_key(channel.key)
            and callable(channel.send))
