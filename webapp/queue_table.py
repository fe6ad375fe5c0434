"""The students' queue's rows as HTML, its busiest table (issue 18).

A row's markup lives in ``tickets/_queue_row.html``, rendered once per language with
``{field}`` where each value goes; each row is then one ``%`` of escaped values.
Jinja rendering the 50 rows itself escaped some 800 values a page, most of them the
same label, badge or URL part again: that was half the page's CPU.

Every value that comes from users (number, title, ward and assignee names, a category's
icon) is escaped here; the rest are integers, dates as digits, or badges built from a
closed set of states (kept per language).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Collection, Mapping, NamedTuple, Sequence

from flask import current_app
from flask_wtf.csrf import generate_csrf
from jinja2 import Template
from markupsafe import Markup, escape

from helpdesk_core import i18n
from helpdesk_core.services.queries import QueueRow

from .rendering import (Memo, citizen_waiting_badge, format_datetime_digits, id_url,
                        id_url_parts, sla_badge, status_badge)

TEMPLATE = "tickets/_queue_row.html"
# Every placeholder the pieces may hold; anything else in braces is plain text.
FIELDS = ("sla_class", "number", "due", "sla_badge", "show_url", "priority", "waiting",
          "upstream", "icon", "title", "ward_name", "status", "assignee", "claim",
          "assignee_name", "claim_url", "csrf")
_FIELD = re.compile(r"\{(%s)\}" % "|".join(FIELDS))


def to_format(html: str) -> str:
    """*html* with its ``{field}`` placeholders as ``%(field)s`` (other ``%`` doubled,
    other braces left: a translation holding one comes out as it is). ``%`` with a dict
    fills a row in half the time ``str.format`` takes."""
    parts = _FIELD.split(html)
    return "".join(f"%({part})s" if i % 2 else _percent(part) for i, part in enumerate(parts))


class _Pieces(NamedTuple):
    row: str
    icon: str
    upstream: str
    assignee: str
    claim: str


def _pieces() -> _Pieces:
    """The row and its optional parts in the request's language, as format strings."""
    return _pieces_of(current_app.jinja_env.get_template(TEMPLATE), i18n.get_locale())


@functools.lru_cache(maxsize=16)
def _pieces_of(template: Template, locale: str) -> _Pieces:
    # Keyed by the template too: a reloaded file (debug) is a new Template.
    module: Any = template.module
    return _Pieces(to_format(str(module.row())), to_format(str(module.icon())),
                   str(module.upstream()), to_format(str(module.assignee())),
                   to_format(str(module.claim())))


def _with_url(piece: str, field: str, endpoint: str,
              **values: Any) -> tuple[str, Callable[[int], str] | None]:
    """*piece* with the URL of *endpoint* for a ticket put in as *field*, its ``%(id)d``
    left; or *piece* as it is and what gives the URL of an id, where only ``url_for``
    knows it (:func:`rendering.id_url_parts`)."""
    parts = id_url_parts(endpoint, "ticket_id", **values)
    if parts is None:
        url = id_url(endpoint, "ticket_id", **values)
        return piece, lambda value: str(escape(url(value)))
    head, tail = (_percent(escape(part)) for part in parts)
    return piece.replace("%%(%s)s" % field, f"{head}%(id)d{tail}"), None


def rows_html(rows: Sequence[QueueRow], upstream: Collection[int],
              categories: Mapping[str, Any]) -> Markup:
    """The ``<tr>`` of each of *rows*, as ``_queue_rows.html`` showed them.

    :param upstream: the ids of the tickets waiting on a city-wide incident.
    :param categories: the registry's categories by slug (their icon leads the title).
    """
    pieces = _pieces()
    # The request's parts: its URLs (the id left to put in) and its form token.
    row_format, show_url = _with_url(pieces.row, "show_url", "tickets.show")
    claim, claim_url = _with_url(pieces.claim, "claim_url", "tickets.act", action="claim")
    claim = claim.replace("%(csrf)s", _percent(escape(generate_csrf())))
    tz = current_app.config["TIMEZONE"]
    sla_badges, status_badges = _badges(i18n.get_locale())
    icons = Memo(lambda slug: _icon(pieces.icon, categories.get(slug)))
    waiting = str(citizen_waiting_badge())
    # A page's rows share a ward or two and a few assignees: each name escaped once.
    ward_names = Memo(escape)
    assignees = Memo(lambda name: pieces.assignee % {"assignee_name": escape(name)}
                     if name else "")
    html = []
    for row in rows:
        number = escape(row.number)
        html.append(row_format % {
            "id": int(row.id), "sla_class": f"row-{row.sla}" if row.sla else "",
            "number": number, "due": format_datetime_digits(row.resolution_due_at, tz),
            "sla_badge": sla_badges[row.sla],
            "show_url": show_url(row.id) if show_url else "",
            "priority": int(row.priority), "waiting": waiting if row.citizen_waiting else "",
            "upstream": pieces.upstream if row.id in upstream else "",
            "icon": icons[row.category], "title": escape(row.title),
            "ward_name": ward_names[row.ward_name], "status": status_badges[row.status],
            "assignee": assignees[row.assignee_name],
            "claim": (claim % {"id": int(row.id), "number": number,
                               "claim_url": claim_url(row.id) if claim_url else ""}
                      if row.claimable else "")})
    return Markup("".join(html))


@functools.lru_cache(maxsize=16)
def _badges(locale: str) -> tuple[Memo, Memo]:
    """The SLA and status badges of *locale*, kept: the same few on every page."""
    return Memo(sla_badge), Memo(status_badge)


def _icon(piece: str, category: Any) -> str:
    return piece % {"icon": escape(category.icon)} if category else ""


def _percent(text: str) -> str:
    return text.replace("%", "%%")
