"""The REST API's reference data: the token's wards, categories and their triage fields;
assets, their checks and results; the status board."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk_core.models import Asset, Ticket, Ward
from helpdesk_core.services import api_tokens, health, queries

from .. import registry
from ..extensions import db
from ..web import today
from . import auth
from .blueprint import api_blueprint
from .schemas import (AssetListArgs, AssetPage, AssetSchema, BoardArgs, BoardSchema,
                      CheckResultArgs, CheckResultList, Strict, WardRef)
from .schemas import ID_MAX
from .tickets import PAGE_SIZE, _cursor, bounded_id

bp = api_blueprint("catalog", __name__, description="Wards, categories, assets and checks.")


class WardList(Strict):
    items = fields.List(fields.Nested(WardRef))


class TriageField(Strict):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.List(fields.String()), allow_none=True)


class CategorySchema(Strict):
    slug = fields.String()
    label = fields.String()
    triage = fields.List(fields.Nested(TriageField))


class CategoryList(Strict):
    items = fields.List(fields.Nested(CategorySchema))


@bp.route("/wards")
class Wards(MethodView):

    @bp.response(200, WardList)
    def get(self):
        """The active wards this token reaches"""
        query = select(Ward).where(Ward.active.is_(True)).order_by(Ward.name, Ward.id)
        wards = api_tokens.ward_scope(auth.current_token())
        if wards is not None:
            query = query.where(Ward.id.in_(wards or [-1]))
        return {"items": [{"id": w.id, "code": w.code, "name": w.name}
                          for w in db.session.scalars(query)]}


@bp.route("/categories")
class Categories(MethodView):

    @bp.response(200, CategoryList)
    def get(self):
        """Ticket categories and the questions of their triage forms"""
        return {"items": [_category_json(slug, category)
                          for slug, category in registry().categories.items()]}


def _category_json(slug: str, category: Any) -> dict[str, Any]:
    form_class = registry().triage_form(slug)
    questions = []
    if form_class is not None:
        form = form_class(meta={"csrf": False})
        for field in form:
            choices = getattr(field, "choices", None)
            questions.append({
                "name": field.name, "label": str(field.label.text), "type": field.type,
                "required": bool(field.flags.required),
                "choices": [_choice(c) for c in choices]
                if isinstance(choices, (list, tuple)) else None})
    return {"slug": slug, "label": str(getattr(category, "label", slug)), "triage": questions}


def _choice(choice: Any) -> list[str]:
    """``[value, label]`` of a select's choice (a tuple or WTForms' ``SelectChoice``)."""
    if hasattr(choice, "value"):
        return [str(choice.value), str(choice.label)]
    if isinstance(choice, (list, tuple)) and len(choice) >= 2:
        return [str(choice[0]), str(choice[1])]
    return [str(choice), str(choice)]


def asset_json(asset: Asset, open_tickets: dict[int, Ticket] | None = None) -> dict[str, Any]:
    """*open_tickets*: asset id -> the device's open health ticket (one per device)."""
    open_tickets = open_tickets or {}
    ticket = open_tickets.get(asset.id)
    return {"id": asset.id, "ward_id": asset.ward_id, "category": asset.category,
            "kind": asset.kind, "name": asset.name, "location": asset.location,
            "vendor": asset.vendor, "model": asset.model, "criticality": asset.criticality,
            "active": asset.active,
            "checks": [{"id": c.id, "check_type": c.check_type, "enabled": c.enabled,
                        "interval_seconds": c.interval_seconds, "last_status": c.last_status,
                        "colour": health.colour_of(c.last_status),
                        "last_message": c.last_message, "last_latency_ms": c.last_latency_ms,
                        "last_checked_at": c.last_checked_at,
                        "open_ticket_id": ticket.id if ticket is not None else None}
                       for c in asset.checks]}


def _asset_of_token(asset_id: int) -> Asset:
    asset = db.session.get(Asset, bounded_id(asset_id))
    token = auth.current_token()
    if asset is None or not (token.all_wards or api_tokens.can_reach(token, asset.ward_id)):
        abort(404)
    return asset


@bp.route("/assets")
class Assets(MethodView):

    @bp.arguments(AssetListArgs, location="query")
    @bp.response(200, AssetPage)
    def get(self, args: dict[str, Any]):
        """Assets (devices and services) with their checks, by id"""
        query = select(Asset).options(selectinload(Asset.checks)).order_by(Asset.id)
        wards = api_tokens.ward_scope(auth.current_token())
        if wards is not None:
            query = query.where(Asset.ward_id.in_(wards or [-1]))
        if args.get("ward_id"):
            query = query.where(Asset.ward_id == args["ward_id"])
        if args.get("category"):
            query = query.where(Asset.category == args["category"])
        after = _cursor(args.get("cursor"))
        if after is not None:
            query = query.where(Asset.id > min(after, ID_MAX))
        size = args.get("limit", PAGE_SIZE)
        rows = list(db.session.scalars(query.limit(size + 1)))
        more = len(rows) > size
        rows = rows[:size]
        return {"items": [asset_json(a) for a in rows],
                "next_cursor": str(rows[-1].id) if more and rows else None}


@bp.route("/assets/<int:asset_id>")
class AssetDetail(MethodView):

    @bp.response(200, AssetSchema)
    def get(self, asset_id: int):
        """An asset and its checks"""
        return asset_json(_asset_of_token(asset_id))


@bp.route("/assets/<int:asset_id>/results")
class AssetResults(MethodView):

    @bp.arguments(CheckResultArgs, location="query")
    @bp.response(200, CheckResultList)
    def get(self, args: dict[str, Any], asset_id: int):
        """An asset's latest check results, newest first"""
        asset = _asset_of_token(asset_id)
        records = queries.recent_check_records(db.session, asset, limit=args.get("limit", 20))
        return {"items": [{"id": r.id, "check_id": r.check_id, "status": r.status,
                           "message": r.message, "latency_ms": r.latency_ms,
                           "checked_at": r.checked_at} for r in records]}


@bp.route("/status-board")
class StatusBoard(MethodView):

    @bp.arguments(BoardArgs, location="query")
    @bp.response(200, BoardSchema)
    def get(self, args: dict[str, Any]):
        """The health status board: every checked asset of the token's wards"""
        board = health.status_board(db.session, None, today(), ward_id=args.get("ward_id"),
                                    only_wards=api_tokens.ward_scope(auth.current_token()))
        counts = {"green": 0, "amber": 0, "red": 0, "grey": 0}
        blocks = []
        for block in board.wards:
            for asset in block.assets:
                for check in asset.checks:
                    counts[health.colour_of(check.last_status)] += 1
            ward = block.ward
            blocks.append({"ward": {"id": ward.id, "code": ward.code, "name": ward.name}
                           if ward is not None else None,
                           "assets": [asset_json(a, board.open_tickets) for a in block.assets]})
        return {"counts": counts, "wards": blocks}
