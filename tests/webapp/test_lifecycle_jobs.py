"""The scheduler runs the SLA sweep every minute and auto-close every 30 minutes."""

from __future__ import annotations

import datetime as dt

from helpdesk_core.models import Status, Ticket, TicketEvent
from helpdesk_core.services import tickets

from webapp import scheduler as scheduler_module
from webapp.extensions import db

from ..factories import make_student, make_ticket, make_ward


def test_lifecycle_jobs_are_scheduled_and_run(app):
    assert app.config["AUTO_CLOSE_WORKING_DAYS"] == 3
    scheduler = scheduler_module.build(app)  # not started
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["sla_sweep"].trigger.interval == dt.timedelta(minutes=1)
    assert jobs["auto_close"].trigger.interval == dt.timedelta(minutes=30)

    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ward = make_ward(db.session)
        student = make_student(db.session, ward, long_ago.date())
        late = make_ticket(db.session, registry, ward, long_ago, impact="center",
                           urgency="citizen_waiting")
        done = make_ticket(db.session, registry, ward, long_ago)
        tickets.perform(db.session, registry, done, student, "claim", long_ago)
        tickets.perform(db.session, registry, done, student, "resolve", long_ago, reason="Xong")
        tickets.commit(db.session)
        late_id, done_id = late.id, done.id

    jobs["sla_sweep"].func()
    jobs["auto_close"].func()
    jobs["sla_sweep"].func()  # idempotent: nothing said twice

    with app.app_context():
        kinds = sorted((e.kind, e.data["target"]) for e in db.session.query(TicketEvent).filter(
            TicketEvent.ticket_id == late_id, TicketEvent.kind.like("sla_%")))
        assert kinds == [("sla_breached", "resolution"), ("sla_breached", "response")]
        assert db.session.get(Ticket, done_id).status == Status.CLOSED
