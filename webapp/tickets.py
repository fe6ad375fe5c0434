"""Tickets: lists and the ticket page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from helpdesk_core.errors import NotFound
from helpdesk_core.services import queries, scope

from . import registry
from .extensions import db
from .web import now, today

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


@bp.route("/")
@login_required
def index():
    filters = queries.TicketFilter(status=request.args.get("status", "open") or None,
                                   category=request.args.get("category") or None,
                                   search=request.args.get("q", ""))
    page = request.args.get("page", 1, type=int)
    tickets, has_next = queries.list_tickets(db.session, current_user, today(), filters, page)
    return render_template("tickets/index.html", tickets=tickets, filters=filters, page=page,
                           has_next=has_next, now=now())


@bp.route("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    try:
        ticket = scope.get_ticket(db.session, current_user, ticket_id, today())
    except NotFound:
        abort(404)
    summary = registry().triage_summary(ticket.category, ticket.triage or {})
    return render_template("tickets/show.html", ticket=ticket, summary=summary)
