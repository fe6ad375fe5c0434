"""The scheduler's notification jobs: delivery every NOTIFY_INTERVAL_SECONDS, digests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from helpdesk_core.models import Notification, NotificationStatus as NS
from helpdesk_core.services import notify_render, outbox
from webapp import notify, scheduler as scheduler_module


def test_build_adds_the_delivery_and_digest_jobs(app):
    sched = scheduler_module.build(app)
    jobs = {job.id: job for job in sched.get_jobs()}
    assert jobs["notify_deliver"].trigger.interval == dt.timedelta(seconds=1)
    assert jobs["notify_digest"].trigger.interval == dt.timedelta(minutes=1)


def test_the_digest_job_gathers_what_is_due(app, accounts, clock):
    from webapp.extensions import db
    with app.app_context():
        row = outbox.enqueue(db.session, channel="email", address="sv@danang.test",
                             kind="ticket_new", words=notify_render.Rendered("A", "B"),
                             now=clock(), url="/tickets/1", user_id=accounts.ids["student"],
                             hold_until=clock() - dt.timedelta(minutes=1))
        db.session.commit()
        held_id = row.id
    notify.digest_job(app)
    with app.app_context():
        rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [(r.id == held_id, r.status, r.kind) for r in rows] == [
            (True, NS.SENT, "ticket_new"), (False, NS.QUEUED, "digest")]
        assert rows[0].digest_id == rows[1].id
