"""The web layer's side of notifications: settings, the delivery and digest jobs.

The outbox itself is :mod:`helpdesk_core.services.outbox` (rows written with the events
that cause them) and :mod:`helpdesk_core.services.delivery` (claims, sends, records).
This module only reads the app's configuration and gives the scheduler and the
``helpdesk outbox`` command their sessions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any, Iterator

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from helpdesk_core.services import delivery, tickets

from .extensions import db

log = logging.getLogger(__name__)

FALLBACK_BASE_URL = "http://127.0.0.1:5000"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def policy(app: Flask) -> delivery.DeliveryPolicy:
    """The delivery rules from the app's ``NOTIFY_*`` settings."""
    config = app.config
    return delivery.DeliveryPolicy(
        max_attempts=int(config["NOTIFY_MAX_ATTEMPTS"]),
        base_delay=float(config["NOTIFY_BASE_DELAY_SECONDS"]),
        max_delay=float(config["NOTIFY_MAX_DELAY_SECONDS"]),
        lease=float(config["NOTIFY_LEASE_SECONDS"]),
        batch=int(config["NOTIFY_BATCH"]), workers=int(config["NOTIFY_WORKERS"]))


def base_url(app: Flask) -> str:
    """Where links in notifications point: the app's public address."""
    from .stickers import PublicUrlMissing, public_base_url
    try:
        return public_base_url(app)
    except PublicUrlMissing:
        return FALLBACK_BASE_URL


def _session_scope(app: Flask) -> Any:
    @contextlib.contextmanager
    def session_scope() -> Iterator[Any]:
        with app.app_context():
            try:
                yield db.session
            finally:
                db.session.rollback()
    return session_scope


def drain(app: Flask) -> delivery.DrainReport:
    """Deliver what is due now (the scheduler's job, every ``NOTIFY_INTERVAL_SECONDS``)."""
    return delivery.drain(_session_scope(app), app.extensions["helpdesk"],
                          secret_key=app.config["SECRET_KEY"], base_url=base_url(app),
                          clock=_now, policy=policy(app))


def drain_job(app: Flask) -> None:
    try:
        report = drain(app)
    except Exception:
        log.exception("notification delivery failed")
        return
    if report.claimed:
        log.info("notifications: %d sent, %d to retry, %d dead", report.sent, report.retried,
                 report.dead)


def digest_job(app: Flask) -> None:
    """Queue the morning digests whose moment has come."""
    from helpdesk_core.services import delivery as deliver
    with app.app_context():
        try:
            made = deliver.release_digests(db.session, _now())
            tickets.commit(db.session)
            if made:
                log.info("notifications: %d digests queued", made)
        except Exception:
            tickets.rollback(db.session)
            log.exception("notification digests failed")


def add_jobs(scheduler: Any, app: Flask) -> None:
    """The delivery job (every second by default) and the digest job (every minute)."""
    scheduler.add_job(drain_job, "interval", seconds=float(app.config["NOTIFY_INTERVAL_SECONDS"]),
                      args=[app], id="notify_deliver", max_instances=1, coalesce=True)
    scheduler.add_job(digest_job, "interval", minutes=1, args=[app], id="notify_digest")


outbox_group = AppGroup("outbox", help="The notification outbox.")


@outbox_group.command("drain")
@click.option("--forever", is_flag=True, help="Keep draining every NOTIFY_INTERVAL_SECONDS.")
def drain_command(forever: bool) -> None:
    """Deliver the due notifications now (what the scheduler's job does)."""
    import time
    app = current_app._get_current_object()
    while True:
        report = drain(app)
        click.echo(f"claimed {report.claimed}, sent {report.sent}, retry {report.retried}, "
                   f"dead {report.dead}", err=True)
        if not forever:
            return
        time.sleep(float(app.config["NOTIFY_INTERVAL_SECONDS"]))
