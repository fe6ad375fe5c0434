"""The REST API's tickets: list, get, file, comment, lifecycle actions, history.

The token acts as the system (``actor=None``) inside its wards; every event it records
names it (``data["via"]``, :func:`helpdesk_core.services.api_tokens.acting_as`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, TypeVar

from flask import abort, request, url_for
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, validate

from helpdesk_core import i18n
from helpdesk_core.errors import NotFound, ValidationFailed
from helpdesk_core.models import AccessKind, Source, Ticket, TicketEvent, User, Ward
from helpdesk_core.services import access_log, api_tokens, queries, tickets, workflow

from .. import registry
from ..extensions import db
from ..web import now, today
from . import auth
from .blueprint import api_blueprint
from .schemas import (ID_MAX, ActionSchema, CommentSchema, EventList, EventSchema,
                      FileTicketSchema, TicketListArgs, TicketPage, TicketSchema, Text)

bp = api_blueprint("tickets", __name__, url_prefix="/tickets",
                   description="Tickets of the token's wards.")

PAGE_SIZE = 50
T = TypeVar("T")


class IdempotencyHeaders(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = Text(data_key="Idempotency-Key", validate=validate.Length(min=1, max=200),
                           metadata={"description": "Send the same key again after a timeout: "
                                                    "the ticket is filed once."})


# --- helpers --------------------------------------------------------------------------

def bounded_id(value: int) -> int:
    """A path id the database can hold; larger ones cannot exist (404)."""
    if not 0 < value <= ID_MAX:
        abort(404)
    return value


def ticket_of_token(ticket_id: int) -> Ticket:
    try:
        return api_tokens.get_ticket(db.session, auth.current_token(), bounded_id(ticket_id))
    except NotFound:
        abort(404)


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """What the API shows of a ticket (its text is masked at filing, as on the web)."""
    return {
        "id": ticket.id, "number": ticket.number,
        "ward": {"id": ticket.ward.id, "code": ticket.ward.code, "name": ticket.ward.name},
        "category": ticket.category, "title": ticket.title,
        "description": ticket.description, "triage": ticket.triage or {},
        "impact": ticket.impact, "urgency": ticket.urgency,
        "citizen_waiting": ticket.citizen_waiting, "priority": ticket.priority,
        "priority_reason": ticket.priority_reason, "status": ticket.status,
        "status_label": i18n.gettext(workflow.STATUS_LABELS.get(ticket.status, ticket.status)),
        "source": ticket.source, "assigned": ticket.assignee_id is not None,
        "asset_id": ticket.asset_id, "escalation_level": ticket.escalation_level,
        "response_due_at": ticket.response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
        "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at,
    }


def event_json(event: TicketEvent) -> dict[str, Any]:
    via = (event.data or {}).get("via") if isinstance(event.data, dict) else None
    return {"id": event.id, "kind": event.kind,
            "actor": event.actor.name if event.actor is not None else None,
            "via": via.get("integration") if isinstance(via, dict) else None,
            "old_value": event.old_value, "new_value": event.new_value,
            "body": event.body, "created_at": event.created_at}


def write(change: Callable[[], T]) -> T:
    """Run a change as the token (its events name it) and commit; roll back on error."""
    token = auth.require_write()
    try:
        with api_tokens.acting_as(db.session, token):
            result = change()
        tickets.commit(db.session)
    except Exception:
        tickets.rollback(db.session)
        raise
    return result


def _cursor(value: str | None) -> int | None:
    """The id a page starts after (the schema allows only digits); beyond every id, the
    first page."""
    if value is None:
        return None
    if not value.isdigit():
        raise ValidationFailed("Invalid cursor.", field_errors={
            "cursor": [i18n.gettext("Invalid cursor.")]})
    return min(int(value), ID_MAX + 1)  # the database's integers end at ID_MAX


def _ward_for_filing(ward_id: int) -> Ward:
    ward = db.session.get(Ward, ward_id)
    if ward is None or not ward.active or not api_tokens.can_reach(auth.current_token(), ward.id):
        raise ValidationFailed("Please check the highlighted answers.", field_errors={
            "ward_id": [i18n.gettext("This token cannot file tickets for this ward.")]})
    return ward


# --- views ----------------------------------------------------------------------------

@bp.route("")
class Tickets(MethodView):

    @bp.arguments(TicketListArgs, location="query")
    @bp.response(200, TicketPage)
    def get(self, args: dict[str, Any]):
        """List tickets, newest first

        Open tickets by default. Follow `next_cursor` for the next page.
        """
        token = auth.current_token()
        filters = queries.TicketFilter(
            status=None if args.get("number") else args.get("status", "open"),
            ward_id=args.get("ward_id"), category=args.get("category"),
            search=args.get("q", ""), ward_ids=api_tokens.ward_scope(token),
            updated_since=args.get("updated_since"))
        if args.get("number"):
            try:
                found = api_tokens.get_ticket_by_number(db.session, token, args["number"])
            except NotFound:
                return {"items": [], "next_cursor": None}
            return {"items": [ticket_json(found)], "next_cursor": None}
        after = _cursor(args.get("cursor"))
        rows, more = queries.list_tickets_after(
            db.session, None, today(), filters,
            after_id=None if after is not None and after > ID_MAX else after,
            page_size=args.get("limit", PAGE_SIZE))
        return {"items": [ticket_json(t) for t in rows],
                "next_cursor": str(rows[-1].id) if more and rows else None}

    @bp.arguments(FileTicketSchema)
    @bp.arguments(IdempotencyHeaders, location="headers", as_kwargs=True)
    @bp.response(201, TicketSchema)
    def post(self, body: dict[str, Any], idempotency_key: str | None = None):
        """File a ticket

        The triage answers are checked by the category's triage form. Citizen ID
        numbers, phone numbers and e-mail addresses are masked, as on the web.
        Needs a token with write scope.
        """
        token = auth.require_write()
        form_key = None
        if idempotency_key:
            digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:48]
            form_key = f"api:{token.id}:{digest}"

        def file() -> Ticket:
            return tickets.file_ticket(
                db.session, registry(), ward=_ward_for_filing(body["ward_id"]),
                category=body["category"], title=body["title"],
                description=body.get("description", ""), triage=body.get("triage") or {},
                impact=body.get("impact", "person"), urgency=body.get("urgency", "normal"),
                source=Source.API, now=now(), form_key=form_key)

        ticket = write(file)
        return ticket_json(ticket), 201, {
            "Location": url_for("api-tickets.TicketDetail", ticket_id=ticket.id)}


@bp.route("/<int:ticket_id>")
class TicketDetail(MethodView):

    @bp.response(200, TicketSchema)
    def get(self, ticket_id: int):
        """Get a ticket

        Each read is recorded in the access log, as a ticket page is.
        """
        ticket = ticket_of_token(ticket_id)
        data = ticket_json(ticket)
        _record_access(ticket)
        return data


def _record_access(ticket: Ticket) -> None:
    """One access record, as for a ticket page: the system, through this token."""
    from helpdesk_core.db import reset_reads_only, set_reads_only
    token = auth.current_token()
    ticket_id = ticket.id
    db.session.commit()
    reset = set_reads_only(False)
    try:
        access_log.record_access(db.session, None, AccessKind.TICKET, now(),
                                 address=request.remote_addr or "", ticket_id=ticket_id,
                                 target=f"API: {token.name}", details=api_tokens.via(token))
        tickets.commit(db.session)
    finally:
        reset_reads_only(reset)


@bp.route("/<int:ticket_id>/events")
class TicketEvents(MethodView):

    @bp.response(200, EventList)
    def get(self, ticket_id: int):
        """A ticket's history

        What ward staff see: no internal notes.
        """
        ticket = ticket_of_token(ticket_id)
        events = queries.ticket_events(db.session, None, ticket)
        return {"items": [event_json(e) for e in events if not e.internal]}


@bp.route("/<int:ticket_id>/comments")
class TicketComments(MethodView):

    @bp.arguments(CommentSchema)
    @bp.response(201, EventSchema)
    def post(self, body: dict[str, Any], ticket_id: int):
        """Comment on a ticket

        Needs a token with write scope.
        """
        auth.require_write()
        ticket = ticket_of_token(ticket_id)
        event = write(lambda: tickets.comment(db.session, registry(), ticket, None,
                                              body["body"], now()))
        return event_json(event), 201


@bp.route("/<int:ticket_id>/actions")
class TicketActions(MethodView):

    @bp.arguments(ActionSchema)
    @bp.response(200, TicketSchema)
    def post(self, body: dict[str, Any], ticket_id: int):
        """Move a ticket through its lifecycle

        What the system may do (services/workflow.py): `assign` a new ticket to a
        student, `escalate`, `resolve` (both with a reason). Needs write scope.
        """
        auth.require_write()
        ticket = ticket_of_token(ticket_id)
        assignee = None
        if body.get("assignee_id"):
            assignee = db.session.get(User, body["assignee_id"])
        write(lambda: tickets.perform(db.session, registry(), ticket, None, body["action"],
                                      now(), reason=body.get("reason", ""),
                                      assignee=assignee))
        return ticket_json(ticket)
