"""The words of a notification: subject, text and HTML in the recipient's language.

Only what the ward's IT people need to act: the ticket's number, ward, category,
priority and title (masked again here, whatever the caller did), and a link to the
ticket. Never a description, triage answers, a phone number or a citizen's name.

The link is stored as :data:`LINK` and replaced at delivery time by the absolute URL
(:func:`with_link`), since only the running application knows where it is reached.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from typing import Any, Mapping

from .. import i18n
from ..i18n import N_
from ..models import Ticket
from ..privacy import mask_personal_data
from . import notify_rules as rules

LINK = "{{link}}"
BASE = "{{base}}"  # the application's address, in digests (several links)

HEADLINES: dict[str, str] = {
    rules.TICKET_NEW: N_("New ticket %(number)s in %(ward)s"),
    rules.TICKET_URGENT: N_("URGENT: ticket %(number)s in %(ward)s"),
    rules.SLA_RISK: N_("Ticket %(number)s is at risk of missing its deadline"),
    rules.SLA_BREACH: N_("Ticket %(number)s is past its deadline"),
    rules.ESCALATED: N_("Ticket %(number)s was escalated to the city (1022)"),
    rules.RESOLVED: N_("Your ticket %(number)s was resolved"),
    rules.AUTO_TICKET: N_("A health check filed ticket %(number)s in %(ward)s"),
}


@dataclass(frozen=True)
class Rendered:
    """A message's words, masked, with :data:`LINK` where the link goes."""

    subject: str
    text: str
    html: str | None = None


def masked(rendered: Rendered) -> Rendered:
    """*rendered* with personal data masked in every text."""
    return Rendered(mask_personal_data(rendered.subject), mask_personal_data(rendered.text),
                    None if rendered.html is None else mask_personal_data(rendered.html))


def ticket_message(kind: str, ticket: Ticket, locale: str, category_label: str) -> Rendered:
    """The message of *kind* about *ticket*, in *locale*."""
    with i18n.use_locale(locale):
        facts = {"number": ticket.number, "ward": ticket.ward.name}
        headline = i18n.gettext(HEADLINES[kind], **facts)
        lines = [
            (i18n.gettext("Ticket"), ticket.number),
            (i18n.gettext("Ward"), ticket.ward.name),
            (i18n.gettext("Category"), category_label),
            (i18n.gettext("Priority"), f"P{ticket.priority}"),
            (i18n.gettext("Title"), ticket.title),
        ]
        if ticket.citizen_waiting:
            lines.append((i18n.gettext("Note"), i18n.gettext("A citizen is waiting")))
        open_label = i18n.gettext("Open the ticket")
    return masked(Rendered(f"[{ticket.number}] {headline}",
                           _text(headline, lines, open_label),
                           _html(headline, lines, open_label)))


def _text(headline: str, lines: list[tuple[str, str]], open_label: str) -> str:
    body = "\n".join(f"{label}: {value}" for label, value in lines)
    return f"{headline}\n\n{body}\n\n{open_label}: {LINK}\n"


def _html(headline: str, lines: list[tuple[str, str]], open_label: str) -> str:
    esc = html_lib.escape
    rows = "".join(f"<tr><th align=\"left\">{esc(label)}</th><td>{esc(value)}</td></tr>"
                   for label, value in lines)
    return (f"<!doctype html><html><body><p><strong>{esc(headline)}</strong></p>"
            f"<table>{rows}</table><p><a href=\"{LINK}\">{esc(open_label)}</a></p>"
            "</body></html>")


def digest_message(items: list[Mapping[str, Any]], locale: str) -> Rendered:
    """One message listing held notifications (``subject`` and ``url`` of each)."""
    with i18n.use_locale(locale):
        subject = i18n.ngettext("%(num)d notification while the centre was closed",
                                "%(num)d notifications while the centre was closed",
                                len(items))
        intro = i18n.gettext("While the centre was closed:")
    esc = html_lib.escape
    text = intro + "\n\n" + "\n".join(f"- {item['subject']}\n  {item['url']}"
                                      for item in items) + "\n"
    rows = "".join(f"<li><a href=\"{esc(item['url'])}\">{esc(item['subject'])}</a></li>"
                   for item in items)
    html = f"<!doctype html><html><body><p>{esc(intro)}</p><ul>{rows}</ul></body></html>"
    return masked(Rendered(subject, text, html))


def test_message(locale: str) -> Rendered:
    """The administrators' "send a test" message."""
    with i18n.use_locale(locale):
        subject = i18n.gettext("Ward Helpdesk: test notification")
        text = i18n.gettext("This is a test from Ward Helpdesk. If you read it, the channel "
                            "works.")
    return Rendered(subject, f"{text}\n\n{LINK}\n",
                    f"<!doctype html><html><body><p>{html_lib.escape(text)}</p>"
                    f"<p><a href=\"{LINK}\">{LINK}</a></p></body></html>")


def with_link(value: str | None, url: str, *, html: bool = False) -> str | None:
    """*value* with :data:`LINK` replaced by *url* (HTML-escaped in HTML)."""
    if value is None:
        return None
    return value.replace(LINK, html_lib.escape(url, quote=True) if html else url)


def ticket_data(kind: str, ticket: Ticket) -> dict[str, Any]:
    """Facts for machine receivers (webhooks); no citizen's personal data."""
    return {"event": kind, "ticket": ticket.number, "ward": ticket.ward.code,
            "category": ticket.category, "priority": ticket.priority,
            "status": ticket.status, "citizen_waiting": bool(ticket.citizen_waiting),
            "source": ticket.source}
