"""Integration tokens: made (secret shown once), found by their secret, revoked.

An integration (the 1022 hotline's system, the Smart City app, the city's monitoring)
calls the REST API with a bearer token. The token acts as the system (``actor=None`` in
the other services) within its own wards; :func:`acting_as` stamps every ticket event it
records with the token's id and name, so the history says which integration did what.

Only the SHA-256 of a secret is stored: the secret is 256 random bits, so a fast hash is
as safe as a slow one and costs nothing per request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
from typing import Any, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationFailed
from ..i18n import gettext
from ..models import ApiScope, ApiToken, Ticket, User, Ward
from .tickets import VIA_KEY

SECRET_PREFIX = "whd_"
PREFIX_SHOWN = 12          # characters of the secret kept to tell tokens apart
NAME_MAX = 80
ADDRESS_MAX = 45
# Last use is written at most this often per token: a busy integration does not turn
# every read into a write.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, *, name: str, scope: str, ward_ids: Iterable[int],
                 all_wards: bool, created_by: User | None,
                 now: dt.datetime) -> tuple[ApiToken, str]:
    """Make a token; returns it and its secret (the only time the secret is known).

    :raises ValidationFailed: no name, an unknown scope, or no ward.
    """
    name = (name or "").strip()
    wards = sorted({int(w) for w in ward_ids})
    errors: dict[str, list[str]] = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = [gettext("Give the integration a name (at most %(max)d characters).",
                                  max=NAME_MAX)]
    if scope not in ApiScope.ALL:
        errors["scope"] = [gettext("Choose read or write.")]
    known = set(session.scalars(select(Ward.id).where(Ward.id.in_(wards or [-1]))))
    if not all_wards and (not wards or known != set(wards)):
        errors["wards"] = [gettext("Choose the wards the token may reach.")]
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=secret[:PREFIX_SHOWN], token_hash=hash_secret(secret),
                     scope=scope, all_wards=bool(all_wards),
                     ward_ids=[] if all_wards else wards, created_by=created_by,
                     created_at=now, last_used_address="")
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The active token with this secret, or None (unknown, malformed or revoked)."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = session.scalars(select(ApiToken).where(
        ApiToken.token_hash == hash_secret(secret))).first()
    return token if token is not None and token.active else None


def needs_touch(token: ApiToken, now: dt.datetime) -> bool:
    """True when the token's last use is worth writing down again."""
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL


def touch(session: Session, token: ApiToken, now: dt.datetime, address: str) -> None:
    """Note the token's use now, from *address* (the caller commits)."""
    token.last_used_at = now
    token.last_used_address = (address or "")[:ADDRESS_MAX]


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, active ones first, newest first."""
    return list(session.scalars(select(ApiToken).order_by(
        ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def revoke(session: Session, token_id: int, now: dt.datetime) -> ApiToken:
    """Revoke a token for good (the caller commits). Revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("Token not found.")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def ward_scope(token: ApiToken) -> frozenset[int] | None:
    """The wards the token reaches; None is every ward."""
    return None if token.all_wards else frozenset(int(w) for w in token.ward_ids or ())


def can_reach(token: ApiToken, ward_id: int | None) -> bool:
    wards = ward_scope(token)
    return wards is None or ward_id in wards


def get_ticket(session: Session, token: ApiToken, ticket_id: int) -> Ticket:
    """The ticket, if it exists in the token's wards; else :class:`NotFound` (no leak)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not can_reach(token, ticket.ward_id):
        raise NotFound("Ticket not found.")
    return ticket


def get_ticket_by_number(session: Session, token: ApiToken, number: str) -> Ticket:
    """The ticket numbered *number* (``HCH-2026-00042``) in the token's wards."""
    ticket = session.scalars(select(Ticket).where(Ticket.number == number.strip())).first()
    if ticket is None or not can_reach(token, ticket.ward_id):
        raise NotFound("Ticket not found.")
    return ticket


def via(token: ApiToken) -> dict[str, Any]:
    """What a ticket event done through *token* keeps of it."""
    return {"api_token": token.id, "integration": token.name}


@contextlib.contextmanager
def acting_as(session: Session, token: ApiToken) -> Iterator[None]:
    """Within the block, every ticket event recorded on *session* names *token*."""
    session.info[VIA_KEY] = via(token)
    try:
        yield
    finally:
        session.info.pop(VIA_KEY, None)
