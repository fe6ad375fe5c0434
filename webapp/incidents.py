"""City-wide incidents: the coordinators' pages, the suggestions' buttons and the banner.

Views parse input, call :mod:`helpdesk_core.services.incidents` and render. Only
coordinators and administrators see these pages; everyone else sees the banner
(``city_incidents()`` in every template: the front desk, the queue, the status board).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, literal_column, select
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, NotFound
from helpdesk_core.i18n import N_
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Incident, IncidentStatus, Role, Ticket
from helpdesk_core.services import incidents, scope, tickets
from helpdesk_core.services.incident_rules import SERVICES, IncidentPolicy

from . import registry
from .admin_forms import TranslatedForm
from .extensions import db
from .ticket_forms import IncidentLinkForm
from .ticket_page import is_htmx, render_ticket
from .web import flash_error, now, roles_required, today

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
coordinators = roles_required(Role.COORDINATOR, Role.ADMIN)
STATUS_LABELS = {IncidentStatus.OPEN: N_("Ongoing"), IncidentStatus.RESOLVED: N_("Recovered"),
                 IncidentStatus.CLOSED: N_("Closed by hand")}


def service_choices(blank: Any) -> list[SelectChoice]:
    """The shared services as select choices, *blank* first (the admin's asset form too)."""
    return [SelectChoice("", blank)] + [SelectChoice(key, _l(name))
                                        for key, name in SERVICES.items()]


class SuggestionForm(TranslatedForm):
    """Confirm or dismiss one suggestion: its key, and (confirming) the service it is."""

    key = HiddenField(validators=[DataRequired(), Length(max=260)])
    service = SelectField(_l("Which service?"), validators=[Optional()],
                          choices=lambda: service_choices(_l("None of these")))


class CloseForm(TranslatedForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


def _incident_or_404(incident_id: int) -> Incident:
    try:
        return incidents.get_incident(db.session, current_user, incident_id)
    except NotFound:
        abort(404)


@bp.route("/")
@coordinators
def index():
    """Open and recent incidents, and the suggestions from staff tickets."""
    moment = now()
    return render_template("incidents/index.html",
                           incidents=incidents.recent_incidents(db.session),
                           suggestions=incidents.suggestions(db.session, moment),
                           suggestion_form=SuggestionForm(), now=moment)


@bp.route("/suggestions")
@coordinators
def suggestion_rows():
    """The suggestions alone, for the dashboard (htmx loads and refreshes them)."""
    return render_template("incidents/_suggestion_rows.html",
                           suggestions=incidents.suggestions(db.session, now()),
                           suggestion_form=SuggestionForm())


@bp.route("/<int:incident_id>")
@coordinators
def show(incident_id: int):
    """One incident: wards affected, linked tickets, timeline; close it by hand."""
    incident = _incident_or_404(incident_id)
    links = incidents.linked(db.session, incident)
    wards = sorted({link.ticket.ward for link in links}, key=lambda w: w.name)
    return render_template("incidents/show.html", incident=incident, links=links,
                           wards=wards, form=CloseForm(), now=now())


@bp.route("/<int:incident_id>/close", methods=["POST"])
@coordinators
def close(incident_id: int):
    incident = _incident_or_404(incident_id)
    form = CloseForm()
    if not form.validate_on_submit():
        flash(i18n.gettext("Please check the highlighted answers."), "error")
        return render_template("incidents/show.html", incident=incident,
                               links=incidents.linked(db.session, incident),
                               wards=[], form=form, now=now()), 400
    try:
        incidents.close(db.session, registry(), incident, current_user, now(),
                        note=form.note.data or "")
        tickets.commit(db.session)
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash_error(exc)
        return redirect(url_for("incidents.show", incident_id=incident_id))
    flash(i18n.gettext("The incident is closed; its tickets' SLA clocks run again."), "success")
    return redirect(url_for("incidents.show", incident_id=incident_id))


@bp.route("/suggestions/confirm", methods=["POST"])
@coordinators
def confirm():
    """One click: the suggested tickets become one incident."""
    form = SuggestionForm()
    if not form.validate_on_submit():
        flash(i18n.gettext("This suggestion is no longer current. Please look at the list "
                           "again."), "error")
        return redirect(url_for("incidents.index"))
    try:
        incident = incidents.confirm(db.session, registry(), current_user, form.key.data,
                                     now(), service_key=form.service.data or "")
        tickets.commit(db.session)
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash_error(exc)
        return redirect(url_for("incidents.index"))
    flash(i18n.gettext("Confirmed as a city-wide incident: its tickets wait on it."), "success")
    return redirect(url_for("incidents.show", incident_id=incident.id))


@bp.route("/suggestions/dismiss", methods=["POST"])
@coordinators
def dismiss():
    """Not an incident: the suggestion goes away."""
    form = SuggestionForm()
    if not form.validate_on_submit():
        flash(i18n.gettext("This suggestion is no longer current. Please look at the list "
                           "again."), "error")
        return redirect(url_for("incidents.index"))
    try:
        incidents.dismiss(db.session, current_user, form.key.data, now())
        tickets.commit(db.session)
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash_error(exc)
        return redirect(url_for("incidents.index"))
    flash(i18n.gettext("The suggestion is dismissed."), "success")
    return redirect(url_for("incidents.index"))


# --- linking a ticket by hand (from the ticket page) -------------------------------------

@bp.route("/tickets/<int:ticket_id>/link", methods=["POST"])
@coordinators
def link_ticket(ticket_id: int):
    """Link the ticket to an open incident: its SLA clock waits on it."""
    return _change_link(ticket_id, incidents.link_by_hand,
                        N_("Linked: the ticket's SLA clock waits on the incident."))


@bp.route("/tickets/<int:ticket_id>/unlink", methods=["POST"])
@coordinators
def unlink_ticket(ticket_id: int):
    """Take the ticket out of an incident (linked by mistake): its clock runs again."""
    return _change_link(ticket_id, incidents.unlink,
                        N_("Taken out of the incident: the ticket's SLA clock runs again "
                           "unless something else holds it."))


def _change_link(ticket_id: int, change: Any, success: str):
    try:
        ticket = scope.get_ticket(db.session, current_user, ticket_id, today())
    except NotFound:
        abort(404)
    form = IncidentLinkForm()
    found = {i.id: i for i in incidents.open_incidents(db.session)}
    form.incident.choices = [SelectChoice(key, item.title) for key, item in found.items()]
    if not form.validate():
        flash(i18n.gettext("Choose an open city-wide incident."), "error")
        return _back_to(ticket)
    try:
        change(db.session, registry(), current_user, found[form.incident.data], ticket, now())
        tickets.commit(db.session)
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash_error(exc)
        return _back_to(ticket)
    flash(i18n.gettext(success), "success")
    return _back_to(ticket)


def _back_to(ticket: Ticket):
    """The fresh ticket fragment for htmx, else the ticket page (POST/redirect/GET)."""
    if is_htmx():
        return render_ticket(ticket, top=True)
    return redirect(url_for("tickets.show", ticket_id=ticket.id, _anchor="incident"))


def policy_from(config: Any) -> IncidentPolicy:
    """The rules' numbers from the app's ``INCIDENT_*`` settings."""
    import datetime as dt
    return IncidentPolicy(
        min_wards=int(config["INCIDENT_MIN_WARDS"]),
        check_window=dt.timedelta(minutes=float(config["INCIDENT_CHECK_WINDOW_MINUTES"])),
        suggest_tickets=int(config["INCIDENT_SUGGEST_TICKETS"]),
        suggest_wards=int(config["INCIDENT_SUGGEST_WARDS"]),
        suggest_window=dt.timedelta(minutes=float(config["INCIDENT_SUGGEST_WINDOW_MINUTES"])))


# Whether any incident is open: read with the session's user, in the same query
# (factory.load_user puts it in ``g.any_open_incident``). Mostly none is.
# The status is written in the SQL, not bound: SQLite then reads the one index entry it
# needs (about 2 us), where a bound value cost 20 us more on every request.
ANY_OPEN = (select(func.min(Incident.id).label("first_open"))
            .where(Incident.status == literal_column(f"'{IncidentStatus.OPEN}'"))
            .subquery("open_incident"))


def open_now() -> list[Incident]:
    """The open incidents, read once a request: the banner and the queue's rows both ask.

    No query when the session user's query found none open (a page only reads; a form
    may open one before it answers, so it asks again).
    """
    if "open_incidents" not in g:
        none_open = (g.get("any_open_incident") is False
                     and request.method in ("GET", "HEAD"))
        g.open_incidents = [] if none_open else incidents.open_incidents(db.session)
    return g.open_incidents


def register(app: Flask) -> None:
    """The blueprint, the rules' numbers, and ``city_incidents()`` for the banners."""
    app.register_blueprint(bp)
    incidents.install_policy(policy_from(app.config))

    @app.context_processor
    def _banner() -> dict[str, Any]:
        # A function: only pages that show the banner run its query.
        def city_incidents() -> list[tuple[Incident, str]]:
            if not current_user.is_authenticated:
                return []
            return [(item, incidents.banner_text(item)) for item in open_now()]
        return {"city_incidents": city_incidents, "banner_text": incidents.banner_text,
                "incident_status": lambda s: i18n.gettext(STATUS_LABELS.get(s, s))}


__all__ = ["bp", "register", "policy_from", "service_choices"]
