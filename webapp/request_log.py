"""What the servers log of a request: URLs with personal data masked, no server version.

``GET /tickets/?q=048095001234`` must not reach the access log with the citizen's ID
number. Search terms (``q``) are free text (names, numbers, addresses), so their value is
hidden entirely; every other part of the URL goes through
:func:`helpdesk_core.privacy.mask_personal_data`. Both servers use it: the development
server of ``helpdesk run`` (:class:`MaskedRequestHandler`) and gunicorn
(:class:`MaskedGunicornLogger`, set in ``webapp/gunicorn_conf.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from werkzeug.serving import WSGIRequestHandler

from helpdesk_core.privacy import mask_personal_data

# Query parameters whose value is free text typed by a person: never logged.
FREE_TEXT_PARAMETERS = frozenset({"q"})
# Parameters holding another URL of the app (the login's ``next``): masked like a URL.
URL_PARAMETERS = frozenset({"next"})
HIDDEN = "***"


def mask_target(target: str) -> str:
    """The request target (``/path?query``, or a whole URL) with personal data masked.

    ``/tickets/?q=048095001234&status=open`` becomes ``/tickets/?q=***&status=open``.
    Parts with nothing to mask are left exactly as they came.
    """
    if not target or target == "-":
        return target
    path, question, query = target.partition("?")
    path = _mask_part(path, unquote, lambda text: quote(text, safe="/:@"))
    if not question:
        return path
    return path + "?" + mask_query(query)


def mask_query(query: str) -> str:
    """A query string with free-text values hidden and personal data masked."""
    if not query:
        return query
    masked = []
    for pair in query.split("&"):
        raw_key, equals, raw_value = pair.partition("=")
        key = unquote_plus(raw_key)
        if key in FREE_TEXT_PARAMETERS and raw_value:
            value = HIDDEN
        elif key in URL_PARAMETERS:
            value = quote(mask_target(unquote_plus(raw_value)), safe="/?=&*")
        else:
            value = _mask_part(raw_value, unquote_plus, quote_plus)
        masked.append(_mask_part(raw_key, unquote_plus, quote_plus) + equals + value)
    return "&".join(masked)


def mask_request_line(line: str) -> str:
    """``GET /path?query HTTP/1.1`` with the target masked."""
    parts = line.split(" ")
    if len(parts) == 3:
        parts[1] = mask_target(parts[1])
        return " ".join(parts)
    return mask_target(line)


def _mask_part(raw: str, decode, encode) -> str:
    text = decode(raw)
    masked = mask_personal_data(text)
    return raw if masked == text else encode(masked)


class MaskedRequestHandler(WSGIRequestHandler):
    """The development server's request handler: masked log lines, no ``Server`` header."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        raw = getattr(self, "path", None)
        if raw is None:  # a request line too broken to parse
            self.requestline = mask_request_line(self.requestline)
            return super().log_request(code, size)
        self.path = mask_target(raw)
        try:
            super().log_request(code, size)
        finally:
            self.path = raw

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "server":  # "Werkzeug/3.x Python/3.x" tells too much
            return
        super().send_header(keyword, value)


def _gunicorn_logger_base() -> type:
    from gunicorn.glogging import Logger
    return Logger


# Environment and request-header atoms of gunicorn's access_log_format that hold URLs.
_URL_ATOMS = ("r", "U", "f", "{referer}i", "{raw_uri}e", "{path_info}e", "{http_referer}e",
              "{request_uri}e")


class MaskedGunicornLogger(_gunicorn_logger_base()):
    """gunicorn's logger with URLs (request line, path, query, referrer) masked."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = (mask_request_line(value) if name == "r"
                               else mask_target(value))
        for name in ("q", "{query_string}e"):
            if isinstance(atoms.get(name), str):
                atoms[name] = mask_query(atoms[name])
        return atoms
