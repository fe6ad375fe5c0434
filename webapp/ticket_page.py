"""The ticket page: what it shows, for whom, as a page or as htmx's fragment.

``render_ticket`` renders ``tickets/show.html`` (the page) or, when htmx asks
(``HX-Request``), ``tickets/_ticket.html`` alone: the fragment every action on the page
swaps in instead of reloading it (webapp/tickets.py has the routes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Row
from wtforms import SelectChoice

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.models import AccessKind, Incident, Role, Status, Ticket, User
from helpdesk_core.services import incidents, queries, ratings, tickets, workflow

from . import access_log, registry
from .extensions import db
from .ticket_fields import (NEEDS_REASON, action_fields, comment_fields, photo_field, picker,
                            search_field)
from .ticket_forms import IncidentLinkForm, RatingForm
from .web import now, today

WORKERS = (Role.STUDENT, Role.COORDINATOR, Role.ADMIN)
CHECK_LABELS = {"ok": i18n.N_("Working"), "warning": i18n.N_("Warning"),
                "failure": i18n.N_("Failing"), "error": i18n.N_("Check error")}
SIMILAR_LIMIT = 5
CHECK_RECORDS_LIMIT = 10


def describe(event: Row, names: dict[int, str], category: str) -> str:
    """One history entry (a row of :func:`queries.ticket_history`) of a ticket of
    *category* as a sentence in the user's language; *names*: people's names by id."""
    label = lambda s: i18n.gettext(workflow.STATUS_LABELS.get(s or "", s or ""))  # noqa: E731
    kind = event.kind
    if kind == "filed":
        return i18n.gettext("Filed (priority P%(priority)s).",
                            priority=(event.data or {}).get("priority", "?"))
    if kind == "status":
        return i18n.gettext("Status changed from %(old)s to %(new)s.",
                            old=label(event.old_value), new=label(event.new_value))
    if kind == "assigned":
        person = names.get(int(event.new_value)) if (event.new_value or "").isdigit() else None
        return i18n.gettext("Assigned to %(name)s.",
                            name=person if person is not None else i18n.gettext("someone"))
    if kind == "comment":
        return (i18n.gettext("Internal note.") if event.internal
                else i18n.gettext("Comment."))
    if kind == "escalated":
        if event.new_value == str(workflow.LEVEL_CITY):
            return i18n.gettext("Escalated to the city hotline 1022.")
        return i18n.gettext("Escalated to the vendor.")
    if kind == "priority":
        return i18n.gettext("Priority changed from P%(old)s to P%(new)s.",
                            old=event.old_value, new=event.new_value)
    if kind == "sla_at_risk":
        return i18n.gettext("The deadline is near.")
    if kind == "sla_breached":
        return i18n.gettext("The deadline has passed.")
    if kind == "checklist":
        data = event.data or {}
        if "step" in data:
            return (i18n.gettext("Step %(n)s done.", n=data["step"] + 1) if data.get("done")
                    else i18n.gettext("Step %(n)s marked not done.", n=data["step"] + 1))
        template = registry().templates.get((category, data.get("template")))
        return i18n.gettext("Checklist chosen: %(title)s.",
                            title=str(template.title) if template else data.get("template", ""))
    if kind == "health":
        return i18n.gettext("Health check reported a problem.")
    if kind == "recovery":
        return i18n.gettext("The device is working again.")
    if kind == "attachment":
        return i18n.gettext("File attached.")
    if kind == "triage":
        return i18n.gettext("Triage answers changed.")
    if kind == "incident":
        if event.new_value == "linked":
            return i18n.gettext("Waiting on a city-wide incident: the SLA clock is paused.")
        if event.new_value == "unlinked":
            return i18n.gettext("No longer waiting on the city-wide incident.")
        return i18n.gettext("The city-wide incident is over.")
    if kind == ratings.RATING_EVENT:
        return i18n.gettext("Resolution rated %(num)s of 5.", num=event.new_value or "?")
    if kind == "purged":
        data = event.data or {}
        return i18n.gettext("Citizens' personal data erased after the retention period "
                            "(%(texts)d texts, %(files)d files).",
                            texts=data.get("texts", 0), files=data.get("attachments", 0))
    return kind


# Where an action's name goes in its URL: names are plain words, kept as they are in URLs.
_ACTION_SLOT = "action0slot"


def action_urls(ticket: Ticket) -> dict[str, str]:
    """The URL of each lifecycle action on *ticket*, what ``url_for`` gives: the route is
    built once and each name put in its place (the page showed one per action)."""
    built = url_for("tickets.act", ticket_id=ticket.id, action=_ACTION_SLOT)
    return {name: built.replace(_ACTION_SLOT, name) for name in workflow.ACTIONS}


@dataclass(frozen=True)
class Resolution:
    """What was done, shown next to the confirm button of a resolved ticket."""

    note: str
    by: str | None  # their name; None: the system
    at: Any
    steps: list[str]


def _resolution(ticket: Ticket, events: list[Row], chosen: Any) -> Resolution | None:
    """The latest move to "resolved" with its note, and the checklist steps ticked."""
    if ticket.status != Status.RESOLVED:
        return None
    moves = [e for e in events if e.kind == "status" and e.new_value == Status.RESOLVED]
    if not moves:
        return None
    done = set((ticket.checklist or {}).get("done", []))
    steps = [str(step) for i, step in enumerate(chosen.steps) if i in done] if chosen else []
    move = moves[-1]
    return Resolution(move.body or "", move.actor_name if move.actor_id is not None else None,
                      move.created_at, steps)


@dataclass(frozen=True)
class IncidentPanel:
    """Coordinators on the ticket page: the open incidents it waits on (each with a
    button that takes it out), and a form linking it to another open one (None if none)."""

    waiting: list[Incident]
    form: IncidentLinkForm | None


def incident_panel(ticket: Ticket, user: User) -> IncidentPanel | None:
    """The panel for coordinators and administrators while some incident is open."""
    if user.role not in (Role.COORDINATOR, Role.ADMIN):
        return None
    waiting, others = incidents.ticket_incidents(db.session, ticket)
    others = others if ticket.is_open else []
    if not waiting and not others:
        return None
    form = None
    if others:
        form = IncidentLinkForm(formdata=None)
        form.incident.choices = [SelectChoice(i.id, i.title) for i in others]
    return IncidentPanel(waiting, form)


def _assignees(ticket: Ticket, events: list[Row]) -> dict[int, str]:
    """The names of the people the "assigned" entries name, by id: those the page has
    already (the assignee, the entries' authors: most often all of them), the others in
    one query."""
    wanted = {int(e.new_value) for e in events
              if e.kind == "assigned" and (e.new_value or "").isdigit()}
    if not wanted:
        return {}
    known = [(e.actor_id, e.actor_name) for e in events]
    if ticket.assignee is not None:
        known.append((ticket.assignee.id, ticket.assignee.name))
    names = {i: name for i, name in known if i in wanted}
    if len(names) < len(wanted):
        names.update((i, u.name) for i, u in
                     queries.users_by_id(db.session, wanted - names.keys()).items())
    return names


def is_htmx() -> bool:
    """The request comes from htmx on the ticket page: answer with the fragment only."""
    return request.headers.get("HX-Request") == "true"


def render_ticket(ticket: Ticket, status: int = 200, top: bool = False, **posted: Any):
    """The ticket page, or for htmx the ticket's fragment (``tickets/_ticket.html``).

    *top*: the news is at the top (a message, a new status): htmx scrolls up to it.
    """
    reg = registry()
    user = current_user._get_current_object()
    day = today()
    actions = tickets.allowed_actions(db.session, ticket, user, day)
    events = queries.ticket_history(db.session, user, ticket)
    names = _assignees(ticket, events)
    history = [(e, describe(e, names, ticket.category)) for e in events]
    comments = [e for e in events if e.kind == "comment"]
    works = user.role in WORKERS
    try:  # the core decides who may pick and tick checklists
        tickets.check_action_scope(db.session, ticket, user, day)
        can_work = True
    except HelpdeskError:
        can_work = False
    templates = reg.templates_for(ticket.category)
    chosen_key = (ticket.checklist or {}).get("template")
    chosen = reg.templates.get((ticket.category, chosen_key)) if chosen_key else None
    # Only those who may pick one see the picker and a suggestion (one plugin call).
    suggested = (None if chosen or not can_work
                 else reg.suggest_template(ticket.category, ticket.triage or {}))
    template_picker = (picker(ticket.category, templates,
                              chosen_key or (suggested.key if suggested else None),
                              posted.get("template_form")) if can_work else None)
    search, words = search_field(request.args) if works else (None, "")
    similar = (queries.similar_resolved(db.session, user, ticket, day, SIMILAR_LIMIT, words)
               if works else [])
    asset = ticket.asset
    records = (queries.recent_check_records(db.session, asset, CHECK_RECORDS_LIMIT)
               if asset is not None and works else [])
    fragment = is_htmx()
    page = render_template(
        "tickets/_ticket.html" if fragment else "tickets/show.html", fragment=fragment,
        ticket=ticket, now=now(), sla_state=queries.sla_state,
        summary=reg.triage_summary(ticket.category, ticket.triage or {}),
        actions=actions, action_urls=action_urls(ticket),
        action_fields=action_fields(ticket, actions, posted.get("action_forms")),
        action_labels={name: i18n.gettext(workflow.ACTIONS[name].label) for name in actions},
        needs_reason=NEEDS_REASON,
        history=history, comments=comments,
        comment_fields=comment_fields(posted.get("comment_form")),
        photo_field=photo_field(posted.get("attachment_form")),
        rating_form=posted.get("rating_form") or (
            RatingForm(formdata=None) if "confirm" in actions else None),
        rating_values=ratings.RATINGS,
        resolution=_resolution(ticket, events, chosen),
        templates=templates, chosen=chosen, suggested=suggested,
        done=set((ticket.checklist or {}).get("done", [])),
        picker=template_picker, can_work=can_work, works=works,
        similar=similar, search_field=search, asset=asset, records=records,
        incident_panel=incident_panel(ticket, user),
        check_label=lambda s: i18n.gettext(CHECK_LABELS.get(s, s)))
    # Every showing of the page, a re-shown form or a fragment included, is an access to
    # citizens' data.
    access_log.record(AccessKind.TICKET, ticket=ticket)
    headers = {}
    g.htmx_fragment = fragment  # its errors are inside it (webapp/errors.py)
    if fragment and top:  # the news is at the top (a new status, an error): show it
        headers["HX-Reswap"] = "outerHTML show:window:top"
    return page, status, headers
