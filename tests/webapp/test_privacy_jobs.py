"""The scheduler prunes the access log and, when configured, purges closed tickets'
citizen data, both every PRIVACY_JOB_MINUTES."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import AccessKind, AccessRecord, Ticket, TicketEvent
from helpdesk_core.services import access_log, tickets

from webapp import scheduler as scheduler_module
from webapp.extensions import db

from ..factories import make_ticket, make_user, make_ward


def test_privacy_jobs_are_scheduled_and_run(app, caplog):
    assert app.config["ACCESS_LOG_RETENTION_DAYS"] == 365
    assert app.config["PERSONAL_DATA_PURGE_DAYS"] == ""
    jobs = {job.id for job in scheduler_module.build(app).get_jobs()}
    assert "access_log_prune" in jobs and "personal_data_purge" not in jobs  # off by default

    app.config["PERSONAL_DATA_PURGE_DAYS"] = "network=30,*=365"
    scheduler = scheduler_module.build(app)  # not started
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["access_log_prune"].trigger.interval == dt.timedelta(minutes=60)
    assert jobs["personal_data_purge"].trigger.interval == dt.timedelta(minutes=60)

    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ward = make_ward(db.session)
        staff = make_user(db.session, ward=ward)
        old = make_ticket(db.session, registry, ward, now - dt.timedelta(days=40),
                          description="CCCD 048095012345")
        tickets.perform(db.session, registry, old, staff, "cancel",
                        now - dt.timedelta(days=40), reason="Trùng")
        young = make_ticket(db.session, registry, ward, now, description="0905123456")
        access_log.record_access(db.session, staff, AccessKind.TICKET,
                                 now - dt.timedelta(days=400), ticket=young)
        access_log.record_access(db.session, staff, AccessKind.TICKET, now, ticket=young)
        tickets.commit(db.session)
        old_id, young_id = old.id, young.id

    with caplog.at_level(logging.INFO):
        assert jobs["access_log_prune"].func() == 1
        result = jobs["personal_data_purge"].func()
        assert jobs["personal_data_purge"].func().tickets == 0  # once is enough
    assert result.tickets == 1
    assert "personal data purge: 1 tickets" in caplog.text

    with app.app_context():
        assert db.session.get(Ticket, old_id).description == ""
        assert db.session.get(Ticket, young_id).description
        assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == "purged", TicketEvent.ticket_id == old_id)) == 1
        kinds = sorted(db.session.scalars(select(AccessRecord.kind)))
        assert kinds == [AccessKind.PURGE, AccessKind.TICKET]


def test_a_bad_purge_setting_stops_the_scheduler_from_starting(app):
    app.config["PERSONAL_DATA_PURGE_DAYS"] = "printer=soon"
    with pytest.raises(ValueError, match="printer=soon"):
        scheduler_module.build(app)
