"""A device's message can echo personal data (an SMS gateway's last recipient, a signing
token's owner): health results go through the same masking as ticket text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from helpdesk_core import (Category, CheckResult, CheckStatus, HealthCheckType, PluginRegistry,
                           hookimpl)
from helpdesk_core.models import CheckRecord, Ticket, TicketEvent
from helpdesk_core.services import health
from tests.core.test_health import make_check
from tests.factories import make_ward

LEAK = ("Gateway lỗi khi gửi tới (0236) 3821 234 / +84 (0) 905 123 456, "
        "chủ thẻ ０４８０９５００１２３４, nguyen.van.an@gmail.com")
RAW = ["3821 234", "905 123", "０４８０９５", "nguyen.van.an", "3821234", "905123"]


class ChattyDevice:
    """A temporary plugin whose device echoes what it last sent, personal data included."""

    @hookimpl
    def helpdesk_register_categories(self):
        return [Category("testgateway", "Test gateway")]

    @hookimpl
    def helpdesk_register_health_checks(self):
        def run(target):
            return CheckResult(CheckStatus.FAILURE, LEAK, {"last_recipient": "0905_123_456",
                                                           "queue": 3})
        return [HealthCheckType("chatty", "Chatty", "testgateway", run=run)]


@pytest.fixture
def chatty(pm):
    pm.register(ChattyDevice(), name="chatty_test")
    yield PluginRegistry(pm)
    pm.unregister(name="chatty_test")


def _assert_masked(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)
    assert "••••@gmail.com" in text


def test_health_results_and_their_ticket_are_masked(db_session, now, chatty):
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "gateway.local", "chatty", failure_threshold=2)
    outcome = None
    for minute in range(2):
        outcome = health.check_now(db_session, chatty, check.id,
                                   now=now + minute * dt.timedelta(minutes=1))
    assert outcome.action == "filed"
    _assert_masked(outcome.message)
    db_session.expire_all()
    records = list(db_session.scalars(select(CheckRecord).where(
        CheckRecord.check_id == check.id)))
    assert len(records) == 2
    for record in records:
        _assert_masked(record.message)
        assert record.values == {"last_recipient": "••••_•••_456", "queue": 3}
    _assert_masked(db_session.get(type(check), check.id).last_message)
    [ticket] = db_session.scalars(select(Ticket).where(Ticket.check_id == check.id))
    _assert_masked(ticket.description)
    history = list(db_session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "health")))
    assert history
    for event in history:
        _assert_masked(event.body + repr(event.data))
        assert "0905_123_456" not in repr(event.data)


def test_a_check_run_without_recording_is_masked_too(db_session, now, chatty):
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "gateway.local", "chatty")
    outcome = health.check_now(db_session, chatty, check.id, now=now, record=False)
    _assert_masked(outcome.message)
    assert outcome.values["last_recipient"] == "••••_•••_456"
    assert re.findall(r"\d+", outcome.message) == ["234", "456", "１２３４"]
