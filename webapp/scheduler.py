"""APScheduler: the one place that schedules background work.

``helpdesk run`` embeds it for a single machine; ``helpdesk scheduler`` runs it alone
for production (then web workers never schedule anything). Every job calls the same
service layer as the web pages.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from helpdesk_core.services import heartbeat

from .extensions import db

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def beat(app: Flask) -> None:
    """Tell /healthz the scheduler is alive."""
    with app.app_context():
        heartbeat.beat(db.session, heartbeat.SCHEDULER, _now(),
                       detail=f"{socket.gethostname()}:{os.getpid()}")
        db.session.commit()


def add_lifecycle_jobs(scheduler: BackgroundScheduler, app: Flask) -> None:
    """The ticket lifecycle's jobs: the SLA sweep every minute, auto-close every 30 minutes.

    Each run commits through ``tickets.commit`` (plugins then hear the events); a failure
    is logged and rolled back, and the next run tries again.
    """
    from helpdesk_core.services import sla, tickets

    def run(name: str, job) -> None:
        with app.app_context():
            try:
                result = job(db.session, app.extensions["helpdesk"], _now())
                tickets.commit(db.session)
                log.debug("%s: %s", name, result)
            except Exception:
                tickets.rollback(db.session)
                log.exception("%s failed", name)

    def sweep() -> None:
        run("SLA sweep", sla.sweep)

    def auto_close() -> None:
        days = int(app.config.get("AUTO_CLOSE_WORKING_DAYS", 3))
        run("auto-close", lambda session, registry, now: len(
            tickets.auto_close(session, registry, now, working_days=days)))

    scheduler.add_job(sweep, "interval", minutes=1, id="sla_sweep")
    scheduler.add_job(auto_close, "interval", minutes=30, id="auto_close")


def build(app: Flask) -> BackgroundScheduler:
    """A scheduler with every periodic job of the helpdesk, not yet started."""
    scheduler = BackgroundScheduler(
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 120})
    scheduler.add_job(beat, "interval", seconds=HEARTBEAT_SECONDS, args=[app], id="heartbeat",
                      next_run_time=_now())
    add_lifecycle_jobs(scheduler, app)
    return scheduler


def start(app: Flask) -> BackgroundScheduler:
    """Build and start the scheduler in this process (kept in ``app.extensions``)."""
    if "scheduler" in app.extensions:
        return app.extensions["scheduler"]
    scheduler = build(app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
    return scheduler
