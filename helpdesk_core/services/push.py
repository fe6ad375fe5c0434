"""Web Push subscriptions and the VAPID key: what a phone's browser registers, and the
key pair the application server signs its pushes with (RFC 8292).

The web layer stores a subscription when a user taps "notify me on this phone"
(``subscribe``); the Web Push channel (``plugins/webpush``) reads them as addresses,
delivers to them and forgets the ones the push service says are gone. Plugins reach
these functions as ``helpdesk_core.web_push``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..models import PushSubscription, VapidKey, utcnow

# The push services of the browsers students use (Chrome/Android, Firefox, Safari/iOS,
# Edge). A subscription's endpoint is a URL the server will POST to: only these hosts
# (and their subdomains) are accepted, so an account cannot point the server at an
# internal address. Deployments change the list with HELPDESK_PUSH_SERVICE_HOSTS.
DEFAULT_PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com", "android.googleapis.com", "push.services.mozilla.com",
    "push.apple.com", "notify.windows.com",
)
ENDPOINT_MAX = 1024
USER_AGENT_MAX = 300
MAX_PER_USER = 10  # phones and browsers of one person; the oldest goes first
_VAPID_ROW = 1


@dataclass(frozen=True)
class VapidKeys:
    """The application server's key pair: PEM private key, base64url public key (the
    ``applicationServerKey`` a page subscribes with)."""

    private_pem: str
    public_key: str


def b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding (browsers send it without)."""
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _new_keys() -> VapidKeys:
    # cryptography (OpenSSL bindings): loaded here and when a subscription is checked,
    # not by every web worker at import.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    return VapidKeys(pem, b64url(point))


def _read_keys(session: Session) -> VapidKeys | None:
    row = session.get(VapidKey, _VAPID_ROW)
    return VapidKeys(row.private_key, row.public_key) if row is not None else None


def vapid_keys(session: Session) -> VapidKeys:
    """The VAPID key pair, made and stored the first time anyone asks.

    Making it commits *session* (a page that only reads must still keep the key: the
    browsers subscribe with it). Two processes asking at once end up with the same key:
    the row's primary key lets one insert win, the other reads the winner's.
    """
    found = _read_keys(session)
    if found is not None:
        return found
    keys = _new_keys()
    try:
        with session.begin_nested():
            session.add(VapidKey(id=_VAPID_ROW, private_key=keys.private_pem,
                                 public_key=keys.public_key, created_at=utcnow()))
        session.commit()
        return keys
    except (IntegrityError, OperationalError):  # another process made it first
        session.rollback()
        winner = _read_keys(session)
        if winner is None:
            raise
        return winner


# --- subscriptions ---------------------------------------------------------------------

def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in
               (a.strip().lower().rstrip(".") for a in allowed) if h)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_subscription(data: Any, allowed_hosts: Iterable[str] = DEFAULT_PUSH_SERVICE_HOSTS,
                       ) -> tuple[str, str, str]:
    """Check what a browser's ``PushSubscription.toJSON()`` gave; return ``(endpoint,
    p256dh, auth)``.

    The endpoint must be https on a push service in *allowed_hosts* (plain http only
    for a loopback service named there, as in tests); ``p256dh`` must be a point on
    P-256 and ``auth`` 16 bytes.

    :raises ValidationFailed: with a message saying what is wrong.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed("The browser sent no subscription.")
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, Mapping):
        raise ValidationFailed("The browser sent no subscription.")
    endpoint = endpoint.strip()
    if len(endpoint) > ENDPOINT_MAX:
        raise ValidationFailed("The push address is too long.")
    parts = urllib.parse.urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))
    if not secure or not host or not _host_allowed(host, allowed_hosts):
        raise ValidationFailed("This browser's push service is not one the helpdesk uses.")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise ValidationFailed("The browser sent no subscription.")
    from cryptography.hazmat.primitives.asymmetric import ec
    try:
        point = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        secret = b64url_decode(auth)
    except (ValueError, binascii.Error):
        raise ValidationFailed("The subscription's keys are not valid.") from None
    if len(point) != 65 or len(secret) != 16:
        raise ValidationFailed("The subscription's keys are not valid.")
    return endpoint, b64url(point), b64url(secret)


def subscribe(session: Session, user: Any, data: Any, user_agent: str = "", *,
              allowed_hosts: Iterable[str] = DEFAULT_PUSH_SERVICE_HOSTS,
              now: dt.datetime | None = None) -> PushSubscription:
    """Store the subscription *data* (a browser's ``toJSON()``) for *user*.

    The same endpoint again updates its keys; from another account on the same
    browser it moves to *user* (a browser delivers to whoever subscribed it last).
    A user keeps at most :data:`MAX_PER_USER` subscriptions, the oldest are dropped.
    The caller commits.

    :raises ValidationFailed: *data* is not a usable subscription.
    """
    endpoint, p256dh, auth = parse_subscription(data, allowed_hosts)
    now = now or utcnow()
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=now)
        session.add(row)
    row.user_id = user.id
    row.p256dh, row.auth = p256dh, auth
    row.user_agent = (user_agent or "")[:USER_AGENT_MAX]
    session.flush()
    ids = session.scalars(select(PushSubscription.id).where(
        PushSubscription.user_id == user.id).order_by(
        PushSubscription.created_at.desc(), PushSubscription.id.desc())).all()
    if len(ids) > MAX_PER_USER:
        session.execute(delete(PushSubscription).where(
            PushSubscription.id.in_(ids[MAX_PER_USER:])))
    return row


def unsubscribe(session: Session, user: Any, endpoint: str) -> bool:
    """Remove *user*'s subscription at *endpoint*; False when they have none there.
    The caller commits."""
    result = session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint))
    return bool(result.rowcount)


def subscriptions_of(session: Session, user: Any) -> list[PushSubscription]:
    """*user*'s subscriptions, oldest first."""
    return list(session.scalars(select(PushSubscription).where(
        PushSubscription.user_id == user.id).order_by(PushSubscription.id)))


def address_of(row: PushSubscription) -> str:
    """The subscription as the channel's address: the JSON a browser's ``toJSON()``
    gives (endpoint and keys), which pywebpush takes as ``subscription_info``."""
    return json.dumps({"endpoint": row.endpoint,
                       "keys": {"p256dh": row.p256dh, "auth": row.auth}},
                      separators=(",", ":"), sort_keys=True)


def addresses(session: Session, user: Any) -> list[str]:
    """Where *user* is reached by Web Push: one address per subscribed browser."""
    return [address_of(row) for row in subscriptions_of(session, user)]


def addresses_many(session: Session, users: Sequence[Any]) -> dict[int, list[str]]:
    """:func:`addresses` of several users, in one query."""
    found: dict[int, list[str]] = {}
    rows = session.scalars(select(PushSubscription).where(
        PushSubscription.user_id.in_([user.id for user in users]))
        .order_by(PushSubscription.id)) if users else []
    for row in rows:
        found.setdefault(row.user_id, []).append(address_of(row))
    return found


def endpoint_of(address: str) -> str:
    """The endpoint in an address (the JSON of :func:`address_of`, or a bare URL)."""
    try:
        data = json.loads(address)
    except ValueError:
        return address
    return data.get("endpoint", "") if isinstance(data, dict) else ""


def forget(session: Session, address: str) -> None:
    """Delete the subscription at *address* (its push service answered 404/410).
    The caller commits."""
    session.execute(delete(PushSubscription).where(
        PushSubscription.endpoint == endpoint_of(address)))


def record_success(session: Session, address: str, now: dt.datetime | None = None) -> None:
    """Note that a push to *address* was accepted. The caller commits."""
    row = session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint_of(address)))
    if row is not None:
        row.last_success_at = now or utcnow()
