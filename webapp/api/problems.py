"""Errors of the REST API as ``application/problem+json`` (RFC 9457), never HTML.

Titles and details follow the request's Accept-Language (Vietnamese by default): the
app's locale selector reads that header for paths under :data:`PREFIX`.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, ValidationFailed
from helpdesk_core.i18n import N_, gettext


PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    406: N_("Not acceptable"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
    503: N_("Temporarily unavailable"),
}

DETAILS = {
    400: N_("The request could not be read."),
    401: N_("Send a valid API token: Authorization: Bearer <token>."),
    403: N_("This API token cannot do this."),
    404: N_("This resource does not exist, or the token cannot see it."),
    405: N_("This resource cannot be used with this method."),
    413: N_("The request is larger than allowed."),
    415: N_("Send JSON (Content-Type: application/json)."),
    422: N_("Some fields are invalid: see errors."),
    429: N_("Too many requests with this token. Wait and try again."),
    500: N_("The error has been logged. Please try again in a moment."),
    503: N_("Please try again in a moment."),
}

# The validation library's messages people see most, in the caller's language.
FIELD_MESSAGES = {
    "Missing data for required field.": N_("This field is required."),
    "Unknown field.": N_("Unknown field."),
    "Not a valid integer.": N_("Not a valid integer."),
    "Not a valid string.": N_("Not a valid string."),
    "Not a valid boolean.": N_("Not a valid boolean."),
    "Not a valid datetime.": N_("Not a valid date and time (ISO 8601)."),
    "Field may not be null.": N_("This field may not be empty."),
    "Invalid input type.": N_("Invalid input type."),
    "Not a valid mapping type.": N_("Not a valid JSON object."),
    "Not a valid list.": N_("Not a valid list."),
}


def is_api_request() -> bool:
    """True for requests under /api/: their errors are problem documents."""
    return request.path.startswith(PREFIX)


def problem(status: int, *, detail: str | None = None,
            errors: Mapping[str, list[str]] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
    """A problem document for *status* in the request's language."""
    i18n.set_locale(_locale())  # errors raised before before_request hooks ran
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": gettext(TITLES.get(status, TITLES[500 if status >= 500 else 400])),
        "status": status,
        "detail": detail or gettext(DETAILS.get(status, DETAILS[500 if status >= 500 else 400])),
        "instance": request.path,
    }
    if errors:
        body["errors"] = {name: [str(m) for m in messages] for name, messages in errors.items()}
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=MEDIA_TYPE)
    response.headers["Content-Language"] = _locale()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """A werkzeug error (404, 405, 429, a validation abort) as a problem."""
    status = error.code or 500
    headers = {k: v for k, v in (error.get_headers() if status in (401, 405, 429) else [])
               if k.lower() in ("allow", "retry-after", "www-authenticate")}
    data = getattr(error, "data", None) or {}
    errors = flatten(data.get("messages")) if isinstance(data, dict) else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    detail = getattr(error, "problem_detail", None)
    return problem(status, detail=detail, errors=errors or None, headers=headers)


def from_domain_error(error: HelpdeskError) -> Response:
    """A service-layer rule violation: its own message, field errors for validation."""
    status = error.status_code if error.status_code < 500 else 500
    errors = error.field_errors if isinstance(error, ValidationFailed) else None
    if isinstance(error, ValidationFailed):
        status = 422
    return problem(status, detail=error.localized(), errors=errors)


LOCATIONS = frozenset({"json", "query", "path", "headers", "form", "files"})


def flatten(messages: Any) -> dict[str, list[str]]:
    """Validation messages by field (``triage.symptom``), whatever the request location."""
    if not isinstance(messages, dict):
        return {}
    if set(messages) <= LOCATIONS:
        merged: dict[str, list[str]] = {}
        for part in messages.values():
            if isinstance(part, dict):
                merged.update(_by_field(part, ""))
        return merged
    return _by_field(messages, "")


def _by_field(messages: dict, prefix: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            result.update(_by_field(value, name))
        elif isinstance(value, (list, tuple)):
            result[name] = [_translate(v) for v in value]
        else:
            result[name] = [_translate(value)]
    return result


def _translate(message: Any) -> str:
    text = str(message)
    known = FIELD_MESSAGES.get(text)
    return gettext(known) if known else text


def _locale() -> str:
    return request.accept_languages.best_match(i18n.SUPPORTED_LOCALES,
                                               default=i18n.DEFAULT_LOCALE)
