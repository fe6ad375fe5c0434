"""Bearer-token authentication and per-token rate limits for the REST API.

Only the ``Authorization: Bearer`` header authenticates: no session cookie counts under
/api/, which is why the API blueprints can be exempt from CSRF.
"""

from __future__ import annotations

import hashlib

from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from helpdesk_core.db import reset_reads_only, set_reads_only
from helpdesk_core.models import ApiToken
from helpdesk_core.services import api_tokens, tickets

from ..extensions import db
from ..web import now


def bearer_secret() -> str:
    """The secret of the request's ``Authorization: Bearer`` header ("" if none)."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def rate_limit_key() -> str:
    """One counter per token (by its hash, known before the database is asked); callers
    without a token share their address's counter."""
    secret = bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")
                                             ).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "")


def rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def authenticate() -> None:
    """``before_request`` of the API: find the token or answer 401."""
    token = api_tokens.authenticate(db.session, bearer_secret())
    if token is None:
        raise Unauthorized()
    g.api_token = token
    moment = now()
    if api_tokens.needs_touch(token, moment):
        _note_use(token.id, moment)


def _note_use(token_id: int, moment) -> None:
    """Write the token's last use in a transaction of its own (reads stay lock-free)."""
    db.session.commit()
    reset = set_reads_only(False)
    try:
        token = db.session.get(ApiToken, token_id)
        api_tokens.touch(db.session, token, moment, request.remote_addr or "")
        tickets.commit(db.session)
        g.api_token = token
    finally:
        reset_reads_only(reset)


def current_token() -> ApiToken:
    """The token of this request (set by :func:`authenticate`)."""
    return g.api_token


def require_write() -> ApiToken:
    """The request's token, if it may write; else 403."""
    token = current_token()
    if not token.can_write:
        raise Forbidden()
    return token
