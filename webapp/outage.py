"""When the database cannot be reached: one log line, a page that needs no database, and
the form that was being sent back with everything typed.

During an outage even reading who is logged in fails (the user loader, then the
language selector, then the error page's own header would each try again and each log
a traceback). So the response is built as for a visitor: the language comes from the
session, or is the default; the form comes back from the request alone.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import g, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc

from helpdesk_core import i18n

log = logging.getLogger(__name__)

# SQLite's messages when the file is gone, unreadable, full or held too long by a writer.
# Its other OperationalErrors ("no such table", a syntax error) are bugs, not outages.
_SQLITE_OUTAGES = ("unable to open database", "disk i/o error", "database is locked",
                   "readonly database", "database or disk is full", "file is not a database")
RETRY_AFTER_SECONDS = 30

# Endpoint -> function re-rendering its form from the request alone (no database).
_FORM_KEEPERS: dict[str, Callable[..., str | None]] = {}


def is_database_unavailable(error: BaseException) -> bool:
    """True when *error* means the database cannot be reached right now."""
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection busy
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        return any(text in str(error.orig).lower() for text in _SQLITE_OUTAGES)
    return True  # PostgreSQL: connection refused or lost, server shutting down, ...


def keeps_form(endpoint: str):
    """Register a function that re-renders *endpoint*'s form from the posted data.

    It gets the view's arguments and returns the page (HTML), or None for the plain
    "database unavailable" page. The status is always 503.
    """
    def decorator(func: Callable[..., str | None]):
        _FORM_KEEPERS[endpoint] = func
        return func
    return decorator


def message() -> str:
    return i18n.gettext("The database cannot be reached right now, so nothing was saved. "
                        "Please try again in a moment.")


def respond(error: BaseException) -> ResponseReturnValue:
    """The response to a request that failed because the database is unreachable."""
    from .errors import render_error
    log.warning("database unavailable: %s %s: %s", request.method, request.endpoint,
                _reason(error))
    _forget_the_session()
    _render_as_visitor()
    body = None
    keeper = _FORM_KEEPERS.get(request.endpoint or "")
    if request.method == "POST" and keeper is not None:
        body = keeper(**(request.view_args or {}))
    if body is None:
        body, _code = render_error(503, message())
    return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _reason(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first_line}"[:300]


def _forget_the_session() -> None:
    """Give back the broken connection; a failure to do so is part of the same outage."""
    from .extensions import db
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already gone
        pass
    try:
        db.session.remove()
    except Exception:  # noqa: BLE001
        pass


def _render_as_visitor() -> None:
    """Templates must not ask the database who is logged in (or the user's language)."""
    from .extensions import login_manager
    g._login_user = login_manager.anonymous_user()


def render_kept_form(form: Any, title: str, back_url: str | None = None,
                     back_label: str | None = None) -> str:
    """A page with *form* as posted, to send again to the same address."""
    return render_template("outage_form.html", form=form, title=title, text=message(),
                           back_url=back_url, back_label=back_label)
