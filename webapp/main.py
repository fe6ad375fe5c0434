"""The start page of each role, and /healthz for load balancers and monitors."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
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
    Role.UNIVERSITY: "programme.results",
}


@bp.route("/")
@login_required
def home():
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "tickets.index")))


@bp.route("/healthz")
@bp.route("/healthz/web")
@csrf.exempt
def healthz():
    """Database reachable? Scheduler alive (a heartbeat in the last 3 minutes)?

    ``/healthz`` is for monitoring: 503 when the database is down, or when a scheduler is
    expected (``SCHEDULER_EXPECTED``) and none has beaten lately, since then no device
    is watched and no deadline or auto-close runs. ``/healthz/web`` is for the load
    balancer: 503 only when this web process cannot serve (the database is down), so a
    dead scheduler does not take the web workers out of rotation. The JSON is the same.
    """
    web_only = request.path.endswith("/web")
    expected = bool(current_app.config["SCHEDULER_EXPECTED"])
    body: dict = {"database": {"ok": False},
                  "scheduler": {"ok": False, "expected": expected, "last_beat": None}}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"]["ok"] = True
        beat = heartbeat.last_beat(db.session, heartbeat.SCHEDULER)
        if beat is not None:
            age = (now() - beat).total_seconds()
            body["scheduler"].update(ok=age < SCHEDULER_STALE_AFTER.total_seconds(),
                                     last_beat=beat.isoformat(), age_seconds=round(age, 1))
    except Exception as exc:  # the point of this page is to report, not to fail
        body["database"]["error"] = exc.__class__.__name__
        db.session.rollback()
    body["status"] = "ok" if body["database"]["ok"] and body["scheduler"]["ok"] else (
        "degraded" if body["database"]["ok"] else "down")
    healthy = body["database"]["ok"] and (
        web_only or body["scheduler"]["ok"] or not expected)
    return jsonify(body), 200 if healthy else 503
