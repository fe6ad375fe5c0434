"""One-time links to set a password, for accounts made without one (bulk imports).

The token goes to the administrator once (to pass on to the person); only its SHA-256
is stored. A link works once, until it expires; a new link for an account replaces the
older ones. Setting the password applies the project's rule (users.password_errors).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import PasswordLink, User
from . import users

LIFETIME = dt.timedelta(days=7)
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue(session: Session, user: User, now: dt.datetime) -> str:
    """A new link token for *user* (older unused links of the account stop working)."""
    # synchronize_session=False: links are never loaded alongside (a bulk import holds
    # thousands of objects the default would scan on every call).
    session.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id)
                    .execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    session.add(PasswordLink(user_id=user.id, token_hash=_digest(token),
                             expires_at=now + LIFETIME, created_at=now))
    session.flush()
    return token


def find(session: Session, token: str | None, now: dt.datetime) -> PasswordLink:
    """The unused, unexpired link of *token*.

    :raises NotFound: malformed, unknown, used or expired (one answer for all).
    """
    if not TOKEN_SHAPE.fullmatch(token or ""):
        raise NotFound("This link is not valid any more. Ask an administrator for a new one.")
    link = session.scalar(select(PasswordLink).where(PasswordLink.token_hash == _digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= now \
            or not link.user.active:
        raise NotFound("This link is not valid any more. Ask an administrator for a new one.")
    return link


def redeem(session: Session, token: str | None, password: str, now: dt.datetime) -> User:
    """Set the password of the link's account and use the link up. The caller commits.

    :raises NotFound: see :func:`find`.
    :raises ValidationFailed: the password breaks the rule.
    """
    link = find(session, token, now)
    users.set_password(link.user, password)
    link.used_at = now
    session.flush()
    return link.user
