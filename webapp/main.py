"""The start page of each role, and /healthz for load balancers and monitors."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from helpdesk_core.models import Role
from helpdesk_core.services import heartbeat

from .extensions import csrf, db
from .web import now

bp = Blueprint("main", __name__)

SCHEDULER_STALE_AFTER = dt.timedelta(seconds=180)

# Where each role starts; roles not listed start on the ticket list.
HOME_BY_ROLE: dict[str, str] = {
    Role.STAFF: "tickets.new",       # the front desk: file a request
    Role.STUDENT: "tickets.queue",   # the queue of their wards
    Role.COORDINATOR: "dashboard.index",
    Role.ADMIN: "dashboard.index",
}


@bp.route("/")
@login_required
def home():
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "tickets.index")))


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """Database reachable? Scheduler alive (a heartbeat in the last 3 minutes)?"""
    body: dict = {"database": {"ok": False}, "scheduler": {"ok": False, "last_beat": None}}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"]["ok"] = True
        beat = heartbeat.last_beat(db.session, heartbeat.SCHEDULER)
        if beat is not None:
            age = (now() - beat).total_seconds()
            body["scheduler"] = {"ok": age < SCHEDULER_STALE_AFTER.total_seconds(),
                                 "last_beat": beat.isoformat(), "age_seconds": round(age, 1)}
    except Exception as exc:  # the point of this page is to report, not to fail
        body["database"]["error"] = exc.__class__.__name__
        db.session.rollback()
    body["status"] = "ok" if body["database"]["ok"] and body["scheduler"]["ok"] else (
        "degraded" if body["database"]["ok"] else "down")
    return jsonify(body), 200 if body["database"]["ok"] else 503
