"""Request and response schemas of the REST API (marshmallow; flask-smorest documents
them in the OpenAPI document).

Text input refuses NUL characters and lone surrogates (no database stores them), and
ids stay within 32-bit integers (the database's): hostile input gets a 422, not a 500.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Status
from helpdesk_core.services.tickets import COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX

ID_MAX = 2**31 - 1
PAGE_MAX = 200
CURSOR_PATTERN = r"^[0-9]{1,12}$"  # an id: where the next page starts
ACTIONS = ("assign", "escalate", "resolve")  # what the system may do (services/workflow)


def _clean_text(value: str) -> None:
    if "\x00" in value:
        raise ValidationError(str(_l("Text must not contain NUL characters.")))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(str(_l("Text must be valid Unicode."))) from None


class Text(fields.String):
    """A string the database can store."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        _clean_text(text)
        return text


class QueryText(fields.String):
    """Text of a query string: NUL characters (which no database stores) are dropped."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).replace("\x00", "")
        return text.encode("utf-8", "replace").decode("utf-8")


def Id(strict: bool = True, **kwargs: Any) -> fields.Integer:  # noqa: N802 (reads as a type)
    """An id: a JSON integer in bodies; *strict* False for query strings (always text)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=ID_MAX), **kwargs)


class Strict(Schema):
    class Meta:
        ordered = True


# --- errors -------------------------------------------------------------------------

class ProblemSchema(Strict):
    """An error (RFC 9457 problem details)."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(required=True, metadata={"example": "Không tìm thấy"})
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages per field (validation errors)."})


# --- tickets ------------------------------------------------------------------------

STATUS_FILTERS = ("open",) + tuple(Status.ALL)


class TicketListArgs(Strict):
    status = fields.String(validate=validate.OneOf(STATUS_FILTERS),
                           metadata={"description": "A status, or `open` (the default)."})
    ward_id = Id(strict=False)
    category = QueryText(validate=validate.Length(max=40))
    q = QueryText(validate=validate.Length(max=200), metadata={"description": "Search words."})
    number = QueryText(validate=validate.Length(max=30), metadata={
        "description": "A ticket number (`KIT-2026-00042`): that ticket only."})
    updated_since = fields.AwareDateTime(metadata={
        "description": "Only tickets changed at or after this moment (polling)."})
    cursor = fields.String(validate=validate.Regexp(CURSOR_PATTERN), metadata={
        "description": "`next_cursor` of the previous page."})
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=PAGE_MAX))


class WardRef(Strict):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class TicketSchema(Strict):
    id = fields.Integer()
    number = fields.String()
    ward = fields.Nested(WardRef)
    category = fields.String()
    title = fields.String()
    description = fields.String()
    triage = fields.Dict()
    impact = fields.String()
    urgency = fields.String()
    citizen_waiting = fields.Boolean()
    priority = fields.Integer()
    priority_reason = fields.String()
    status = fields.String()
    status_label = fields.String()
    source = fields.String()
    assigned = fields.Boolean(metadata={"description": "A student has the ticket."})
    asset_id = fields.Integer(allow_none=True)
    escalation_level = fields.Integer()
    response_due_at = fields.DateTime(allow_none=True)
    resolution_due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class TicketPage(Strict):
    items = fields.List(fields.Nested(TicketSchema))
    next_cursor = fields.String(allow_none=True)


class EventSchema(Strict):
    id = fields.Integer()
    kind = fields.String()
    actor = fields.String(allow_none=True, metadata={
        "description": "The person's name; null for the system or an integration."})
    via = fields.String(allow_none=True, metadata={"description": "The integration, if any."})
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)
    body = fields.String()
    created_at = fields.DateTime()


class EventList(Strict):
    items = fields.List(fields.Nested(EventSchema))


class TriageValue(fields.Field):
    """A triage answer: text, a number, true/false, or a list of texts."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _clean_text(value)
            return value
        if isinstance(value, bool) or (isinstance(value, (int, float))
                                       and abs(value) < 2**53):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value) \
                and len(value) <= 50:
            for item in value:
                _clean_text(item)
            return value
        raise ValidationError(str(_l("An answer is text, a number, true/false or a list of texts.")))


class FileTicketSchema(Strict):
    ward_id = Id(required=True)
    category = Text(required=True, validate=validate.Length(max=40))
    title = Text(required=True, validate=validate.Length(max=TITLE_MAX))
    description = Text(validate=validate.Length(max=DESCRIPTION_MAX))
    impact = Text(validate=validate.Length(max=20))
    urgency = Text(validate=validate.Length(max=20))
    triage = fields.Dict(keys=Text(validate=validate.Length(max=60)), values=TriageValue(),
                         metadata={"description": "Answers to the category's triage form."})

    @validates_schema
    def _few_answers(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(data.get("triage") or {}) > 50:
            raise ValidationError(str(_l("Too many answers.")), "triage")


class CommentSchema(Strict):
    body = Text(required=True, validate=validate.Length(min=1, max=COMMENT_MAX))


class ActionSchema(Strict):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    reason = Text(validate=validate.Length(max=COMMENT_MAX))
    assignee_id = Id(metadata={"description": "The student, for `assign`."})


# --- assets, checks, the status board -----------------------------------------------

class AssetListArgs(Strict):
    ward_id = Id(strict=False)
    category = QueryText(validate=validate.Length(max=40))
    cursor = fields.String(validate=validate.Regexp(CURSOR_PATTERN))
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=PAGE_MAX))


class CheckSchema(Strict):
    id = fields.Integer()
    check_type = fields.String()
    enabled = fields.Boolean()
    interval_seconds = fields.Integer()
    last_status = fields.String(allow_none=True)
    colour = fields.String()
    last_message = fields.String()
    last_latency_ms = fields.Float(allow_none=True)
    last_checked_at = fields.DateTime(allow_none=True)
    open_ticket_id = fields.Integer(allow_none=True)


class AssetSchema(Strict):
    id = fields.Integer()
    ward_id = fields.Integer(allow_none=True)
    category = fields.String()
    kind = fields.String()
    name = fields.String()
    location = fields.String()
    vendor = fields.String()
    model = fields.String()
    criticality = fields.String()
    active = fields.Boolean()
    checks = fields.List(fields.Nested(CheckSchema))


class AssetPage(Strict):
    items = fields.List(fields.Nested(AssetSchema))
    next_cursor = fields.String(allow_none=True)


class CheckResultArgs(Strict):
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=PAGE_MAX))


class CheckResultSchema(Strict):
    id = fields.Integer()
    check_id = fields.Integer()
    status = fields.String()
    message = fields.String()
    latency_ms = fields.Float(allow_none=True)
    checked_at = fields.DateTime()


class CheckResultList(Strict):
    items = fields.List(fields.Nested(CheckResultSchema))


class BoardArgs(Strict):
    ward_id = Id(strict=False)


class BoardWardSchema(Strict):
    ward = fields.Nested(WardRef, allow_none=True)
    assets = fields.List(fields.Nested(AssetSchema))


class BoardSchema(Strict):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    wards = fields.List(fields.Nested(BoardWardSchema))
