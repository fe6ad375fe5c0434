"""The health status board: every device and check in the user's scope, at a glance."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk_core.i18n import N_
from helpdesk_core.models import Ward
from helpdesk_core.services import health, scope

from . import registry
from .extensions import db
from .input_guard import int_arg
from .web import now, today

bp = Blueprint("health", __name__, url_prefix="/health")

# colour -> (symbol, label): the state is said in words, not only in colour.
STATES = {
    "green": ("✓", N_("OK")),
    "amber": ("!", N_("Warning")),
    "red": ("✕", N_("Failing")),
    "grey": ("–", N_("Never checked")),
}
STATUS_LABELS = {"ok": N_("OK"), "warning": N_("Warning"), "failure": N_("Failure"),
                 "error": N_("Check error")}


@bp.route("/")
@login_required
def board():
    ward_id = int_arg("ward")
    data = health.status_board(db.session, current_user, today(), ward_id=ward_id)
    # Coordinators and administrators see the whole city, so they may narrow it to a ward.
    wards = []
    if scope.ward_ids_for(db.session, current_user, today()) is None:
        wards = list(db.session.scalars(select(Ward).where(Ward.active.is_(True))
                                        .order_by(Ward.name)))
    counts = {colour: 0 for colour in STATES}
    for block in data.wards:
        for asset in block.assets:
            for check in asset.checks:
                counts[health.colour_of(check.last_status)] += 1
    check_labels = {key: str(check_type.label)
                    for key, check_type in registry().check_types.items()}
    return render_template("health/board.html", board=data, counts=counts, states=STATES,
                           status_labels=STATUS_LABELS, colour_of=health.colour_of,
                           check_labels=check_labels, ward_id=ward_id, wards=wards, now=now(),
                           refresh=2 * int(current_app.config.get("QUEUE_REFRESH_SECONDS") or 0))
