"""What the servers log of a request: URLs with personal data masked, no server version.

``GET /tickets/?q=048095001234`` must not reach the access log with the citizen's ID
number. Search terms (``q``) are free text (names, numbers, addresses), so their value is
hidden entirely; every other part of the URL goes through
:func:`helpdesk_core.privacy.mask_personal_data`. Both servers use it: the development
server of ``helpdesk run`` (:class:`webapp.dev_server.MaskedRequestHandler`) and gunicorn
(:class:`MaskedGunicornLogger`, set in ``webapp/gunicorn_conf.py``).

gunicorn's master loads this module for its logger and never serves a page: it imports
neither Werkzeug's server nor the core (loaded when a worker masks its first line).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

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
    from helpdesk_core.privacy import mask_personal_data
    text = decode(raw)
    masked = mask_personal_data(text)
    return raw if masked == text else encode(masked)


def _gunicorn_logger_base() -> type:
    from gunicorn.glogging import Logger
    return Logger


# Environment and request-header atoms of gunicorn's access_log_format that hold URLs.
_URL_ATOMS = ("r", "U", "f", "{referer}i", "{raw_uri}e", "{path_info}e", "{http_referer}e",
              "{request_uri}e")


# The atoms a format names: ``%(r)s``, ``%({referer}i)s``.
_FORMAT_ATOM = re.compile(r"%\(([^)]+)\)")


@functools.lru_cache(maxsize=8)
def format_atoms(log_format: str) -> frozenset[str]:
    """The atoms *log_format* shows, as gunicorn looks them up ("{...}" ones lowercased)."""
    return frozenset(name.lower() if name.startswith("{") else name
                     for name in _FORMAT_ATOM.findall(log_format))


class MaskedGunicornLogger(_gunicorn_logger_base()):
    """gunicorn's logger with URLs (request line, path, query, referrer) masked.

    Only the atoms the access-log format shows are kept (each URL among them masked):
    the others never reach a log line, and masking the dozen URLs of every request's
    environment cost more than the rest of the line.
    """

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        every = super().atoms(resp, req, environ, request_time)
        atoms = {name: every[name] for name in format_atoms(self.cfg.access_log_format)
                 if name in every}
        for name in _URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = (mask_request_line(value) if name == "r"
                               else mask_target(value))
        for name in ("q", "{query_string}e"):
            if isinstance(atoms.get(name), str):
                atoms[name] = mask_query(atoms[name])
        return atoms
