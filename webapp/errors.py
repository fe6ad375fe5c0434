"""Error pages in the user's language, never with a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from helpdesk_core import i18n
from helpdesk_core.i18n import N_, gettext

from . import outage
from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (N_("Bad request"), N_("The form could not be read. Please try again.")),
    403: (N_("Not allowed"), N_("Your account cannot open this page.")),
    404: (N_("Not found"), N_("This page does not exist, or you cannot see it.")),
    405: (N_("Not allowed"), N_("This page cannot be used this way.")),
    413: (N_("File too large"), N_("The file is larger than allowed. Please choose a smaller one.")),
    429: (N_("Too many attempts"), N_("Please wait a minute and try again.")),
    503: (N_("Temporarily unavailable"), N_("Please try again in a moment.")),
    500: (N_("Something went wrong"), N_("The error has been logged. Please try again in a moment.")),
}


def render_error(code: int, detail: str | None = None):
    # Errors raised before the app's own before_request hooks (CSRF, rate limits) would
    # otherwise be translated into whatever locale the previous request left behind.
    i18n.set_locale(str(get_locale()))
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("error.html", code=code, title=gettext(title),
                           text=detail or gettext(text)), code


def register(app: Flask) -> None:
    from .api import problems

    @app.after_request
    def _htmx_errors_take_the_page(response):
        """An error page (CSRF expired, 403, 404, an outage's kept form, 500) answering
        htmx replaces the page's body, as it would without JavaScript, instead of landing
        inside the fragment htmx meant to swap. Fragments that carry their own errors
        (a form sent back with messages) mark themselves with ``g.htmx_fragment``."""
        if (response.status_code >= 400 and request.headers.get("HX-Request") == "true"
                and not g.get("htmx_fragment")):
            response.headers["HX-Retarget"] = "body"
            response.headers["HX-Reswap"] = "innerHTML show:window:top"
        return response

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        if problems.is_api_request():
            return problems.problem(400)
        i18n.set_locale(str(get_locale()))
        return render_error(400, gettext("The form expired. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if problems.is_api_request():
            return problems.from_http_exception(error)
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if outage.is_database_unavailable(error):
            if problems.is_api_request():
                log.warning("database unavailable: %s", error.__class__.__name__)
                db.session.rollback()
                return problems.problem(503, headers={"Retry-After": "30"})
            return outage.respond(error)  # one log line, no traceback per request
        log.exception("unhandled error")
        db.session.rollback()
        if problems.is_api_request():
            return problems.problem(500)
        return render_error(500)
