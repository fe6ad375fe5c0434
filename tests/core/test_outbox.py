"""The outbox: rows written with the event that causes them, drained to real channels."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from helpdesk_core import AddressGone, Channel, DeliveryError, hookimpl
from helpdesk_core.models import Notification, NotificationStatus as NS, Role
from helpdesk_core.plugins import PluginRegistry, make_plugin_manager
from helpdesk_core.services import (channel_settings, delivery, notify_rules as rules, outbox,
                                    tickets, webhooks)

from ..factories import make_ticket
from .conftest import quick_student, quick_user

SECRET = "test-secret"
BASE = "https://helpdesk.test"
# Saturday 14/03/2026 09:00 in Da Nang: the centre is closed.
SATURDAY = dt.datetime(2026, 3, 14, 2, 0, tzinfo=dt.timezone.utc)
MONDAY_OPENING = dt.datetime(2026, 3, 16, 0, 30, tzinfo=dt.timezone.utc)  # 07:30 local


class FakeChannel:
    """A channel plugin whose sends succeed, or fail as told."""

    def __init__(self) -> None:
        self.sent: list = []
        self.fail: DeliveryError | None = None
        self.forgotten: list[str] = []
        self.lock = threading.Lock()

    def send(self, message, settings) -> None:
        if self.fail is not None:
            raise self.fail
        with self.lock:
            self.sent.append(message)

    @hookimpl
    def helpdesk_register_channels(self):
        return [Channel("fake", "Fake", send=self.send,
                        addresses=lambda session, user: [f"fake:{user.id}"],
                        forget=lambda session, address: self.forgotten.append(address))]


@pytest.fixture
def fake():
    return FakeChannel()


@pytest.fixture
def fake_registry(fake):
    pm = make_plugin_manager()
    pm.register(fake, name="fake")
    return PluginRegistry(pm)


@pytest.fixture
def scope(db_session):
    @contextlib.contextmanager
    def session_scope():
        yield db_session
    return session_scope


def rows(session, **where) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(session.scalars(query))


def drain(scope, registry, now, **policy):
    return delivery.drain(scope, registry, secret_key=SECRET, base_url=BASE,
                          clock=lambda: now, policy=delivery.DeliveryPolicy(**policy))


def test_filing_writes_the_rows_in_its_own_transaction(db_session, fake_registry, cast, now):
    make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff)
    found = rows(db_session, channel="fake")
    assert {r.user_id for r in found} == {cast.student.id, cast.other_student.id}
    assert {r.kind for r in found} == {rules.TICKET_NEW}
    assert all(r.status == NS.QUEUED and r.ticket_id is not None for r in found)
    tickets.rollback(db_session)
    assert rows(db_session) == []  # the filing rolled back: nobody hears of it


def test_the_rows_commit_with_the_ticket(db_session, fake_registry, cast, now):
    ticket = make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff,
                         urgency="citizen_waiting")
    tickets.commit(db_session)
    found = rows(db_session, channel="fake")
    assert len(found) == 2 and all(r.urgent and r.kind == rules.TICKET_URGENT for r in found)
    assert all(r.url == f"/tickets/{ticket.id}" for r in found)


def test_no_citizen_personal_data_in_any_notification(db_session, fake_registry, fake, scope,
                                                      cast, now):
    cccd, phone, mail = "048095012345", "0905123456", "nguyenvana@gmail.com"
    make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff,
                title=f"Công dân CCCD {cccd} gọi {phone}",
                description=f"Bà Nguyễn Thị Hoa, {mail}, ở 12 Lê Duẩn")
    tickets.commit(db_session)
    drain(scope, fake_registry, now)
    assert len(fake.sent) == 2
    for message in fake.sent:
        everything = " ".join([message.subject, message.text, message.html or "",
                               repr(dict(message.data))])
        for secret in (cccd, phone, mail, "012345", "123456", "nguyenvana", "Nguyễn Thị Hoa",
                       "Lê Duẩn"):
            assert secret not in everything
        assert message.url.startswith(f"{BASE}/tickets/")
        assert message.url in message.text and message.url in message.html


def test_drained_rows_are_sent_once_with_their_key(db_session, fake_registry, fake, scope,
                                                   cast, now):
    make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff)
    tickets.commit(db_session)
    report = drain(scope, fake_registry, now)
    assert (report.claimed, report.sent) == (2, 2)
    keys = {row.key for row in rows(db_session, channel="fake")}
    assert {m.key for m in fake.sent} == keys
    assert all(r.status == NS.SENT and r.sent_at == now and r.attempts == 1
               for r in rows(db_session, channel="fake"))
    assert drain(scope, fake_registry, now).claimed == 0  # nothing twice


def test_a_failure_is_retried_with_growing_delays_then_dead(db_session, fake_registry, fake,
                                                            scope, cast, now):
    fake.fail = DeliveryError("451 later")
    outbox.notify_users(db_session, fake_registry, [cast.student], rules.REPORT,
                        outbox.render.Rendered("Báo cáo", "Nội dung"), now=now)
    tickets.commit(db_session)
    moment, delays = now, []
    for attempt in range(1, 4):
        drain(scope, fake_registry, moment, max_attempts=3, base_delay=10)
        row = rows(db_session, channel="fake")[0]
        assert row.attempts == attempt and row.last_error == "451 later"
        if attempt < 3:
            assert row.status == NS.QUEUED
            delays.append((row.next_attempt_at - moment).total_seconds())
            moment = row.next_attempt_at
    assert row.status == NS.DEAD
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20  # doubling, with jitter
    fake.fail = None
    outbox.retry(db_session, row.id, moment)
    tickets.commit(db_session)
    drain(scope, fake_registry, moment)
    assert rows(db_session, channel="fake")[0].status == NS.SENT


def test_a_permanent_error_is_dead_at_once(db_session, fake_registry, fake, scope, cast, now):
    fake.fail = DeliveryError("550 no such user", permanent=True)
    outbox.notify_users(db_session, fake_registry, [cast.student], rules.REPORT,
                        outbox.render.Rendered("Báo cáo", "Nội dung"), now=now)
    tickets.commit(db_session)
    drain(scope, fake_registry, now)
    row = rows(db_session, channel="fake")[0]
    assert (row.status, row.attempts) == (NS.DEAD, 1)


def test_retry_after_is_respected(db_session, fake_registry, fake, scope, cast, now):
    fake.fail = DeliveryError("429", retry_after=900)
    outbox.notify_users(db_session, fake_registry, [cast.student], rules.REPORT,
                        outbox.render.Rendered("Báo cáo", "Nội dung"), now=now)
    tickets.commit(db_session)
    drain(scope, fake_registry, now)
    assert rows(db_session, channel="fake")[0].next_attempt_at >= now + dt.timedelta(seconds=900)


def test_an_address_gone_is_forgotten(db_session, fake_registry, fake, scope, cast, now):
    fake.fail = AddressGone("410 subscription expired")
    outbox.notify_users(db_session, fake_registry, [cast.student], rules.REPORT,
                        outbox.render.Rendered("Báo cáo", "Nội dung"), now=now)
    tickets.commit(db_session)
    drain(scope, fake_registry, now)
    assert rows(db_session, channel="fake")[0].status == NS.DEAD
    assert fake.forgotten == [f"fake:{cast.student.id}"]


def test_an_expired_lease_is_claimed_again(db_session, fake_registry, fake, scope, cast, now):
    """A drainer that died after claiming: its rows go out once the lease runs out."""
    outbox.notify_users(db_session, fake_registry, [cast.student], rules.REPORT,
                        outbox.render.Rendered("Báo cáo", "Nội dung"), now=now)
    tickets.commit(db_session)
    claimed = delivery.claim(db_session, now, delivery.DeliveryPolicy(lease=60), BASE)
    assert len(claimed) == 1  # the fake channel (the student has no e-mail address)
    assert drain(scope, fake_registry, now + dt.timedelta(seconds=59)).claimed == 0
    later = now + dt.timedelta(seconds=61)
    assert drain(scope, fake_registry, later).sent == len(claimed)
    assert {m.key for m in fake.sent} == {c.message.key for c in claimed}


def test_two_drainers_never_claim_the_same_row(session_factory, fake_registry, now):
    setup = session_factory()
    from ..factories import make_ward
    ward = make_ward(setup)
    people = [quick_student(setup, ward, now.date()) for _ in range(30)]
    outbox.notify_users(setup, fake_registry, people, rules.REPORT,
                        outbox.render.Rendered("Báo cáo", "Nội dung"), now=now)
    setup.commit()
    total = setup.scalar(select(func.count()).select_from(Notification))
    setup.close()
    claimed: list[int] = []
    lock = threading.Lock()
    policy = delivery.DeliveryPolicy(batch=7)

    def drainer() -> None:
        session = session_factory()
        try:
            while batch := delivery.claim(session, now, policy, BASE):
                with lock:
                    claimed.extend(item.id for item in batch)
        finally:
            session.close()
    threads = [threading.Thread(target=drainer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == total


def test_outside_working_hours_one_digest_each_in_the_morning(db_session, fake_registry, fake,
                                                              scope, cast):
    for title in ("Máy in kẹt giấy", "Mất mạng quầy 3", "Máy quét lỗi"):
        make_ticket(db_session, fake_registry, cast.ward, SATURDAY, reporter=cast.staff,
                    title=title)
    tickets.commit(db_session)
    held = rows(db_session, channel="fake")
    assert len(held) == 6 and {r.status for r in held} == {NS.HELD}
    assert {r.next_attempt_at for r in held} == {MONDAY_OPENING}
    assert drain(scope, fake_registry, SATURDAY).claimed == 0
    assert delivery.release_digests(db_session, MONDAY_OPENING - dt.timedelta(minutes=1)) == 0
    assert delivery.release_digests(db_session, MONDAY_OPENING) == 2
    tickets.commit(db_session)
    drain(scope, fake_registry, MONDAY_OPENING)
    assert sorted(m.address for m in fake.sent) == sorted(
        [f"fake:{cast.student.id}", f"fake:{cast.other_student.id}"])
    for message in fake.sent:
        assert message.kind == rules.DIGEST
        assert message.text.count(f"{BASE}/tickets/") == 3
    assert {r.status for r in rows(db_session, kind=rules.TICKET_NEW)} == {NS.SENT}
    assert delivery.release_digests(db_session, MONDAY_OPENING) == 0


def test_p1_outside_working_hours_goes_at_once(db_session, fake_registry, cast):
    make_ticket(db_session, fake_registry, cast.ward, SATURDAY, reporter=cast.staff,
                impact="center", urgency="citizen_waiting")
    found = rows(db_session, channel="fake")
    assert found and {(r.status, r.urgent) for r in found} == {(NS.QUEUED, True)}


def test_a_switched_off_kind_is_not_sent(db_session, fake_registry, cast, now):
    outbox.save_preferences(db_session, fake_registry, cast.student,
                            [("fake", kind) for kind in rules.PREFERENCE_KINDS
                             if kind != rules.TICKET_NEW])
    assert ("fake", rules.TICKET_NEW) not in outbox.enabled_pairs(db_session, fake_registry,
                                                                  cast.student)
    make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff)
    assert {r.user_id for r in rows(db_session, channel="fake")} == {cast.other_student.id}


@pytest.mark.parametrize("moment", ["working", "night"])
def test_a_filing_read_ahead_reaches_the_same_people_on_the_same_channels(
        db_session, fake_registry, cast, now, moment):
    """The web files inside readahead.kept: who is on duty (with their preferences, in
    one query), the webhooks and the channels read ahead. Its rows are a plain filing's."""
    from helpdesk_core.services import readahead
    at = now if moment == "working" else now.replace(hour=14)  # 21:00: held, everyone placed
    outbox.save_preferences(db_session, fake_registry, cast.student,
                            [("fake", kind) for kind in rules.PREFERENCE_KINDS
                             if kind != rules.TICKET_NEW])

    def written(ticket):
        return sorted((r.user_id, r.channel, r.address, r.kind, r.status, r.next_attempt_at)
                      for r in rows(db_session, ticket_id=ticket.id))
    plain = written(make_ticket(db_session, fake_registry, cast.ward, at, reporter=cast.staff))
    with readahead.kept(db_session):
        tickets.read_ahead_filing(db_session, fake_registry, cast.ward, at)
        ahead = written(make_ticket(db_session, fake_registry, cast.ward, at,
                                    reporter=cast.staff))
    assert ahead == plain
    assert {user_id for user_id, *_ in plain} == {cast.other_student.id}  # student: switched off
    assert {status for *_, status, _ in plain} == {NS.QUEUED if moment == "working" else NS.HELD}


def test_breach_escalation_and_resolution_reach_their_people(db_session, fake_registry, cast,
                                                             now):
    ticket = make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff)
    tickets.perform(db_session, fake_registry, ticket, cast.student, "claim", now)
    before = {r.id for r in rows(db_session)}
    tickets.perform(db_session, fake_registry, ticket, cast.student, "escalate", now,
                    reason="Cần trung tâm 1022")
    escalated = [r for r in rows(db_session, channel="fake") if r.id not in before]
    assert {(r.user_id, r.kind) for r in escalated} == {(cast.coordinator.id, rules.ESCALATED)}
    tickets.perform(db_session, fake_registry, ticket, cast.coordinator, "resolve", now,
                    reason="Đã sửa")
    resolved = rows(db_session, channel="fake", kind=rules.RESOLVED)
    assert [r.user_id for r in resolved] == [cast.staff.id]
    late = now + dt.timedelta(days=30)
    ticket2 = make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff)
    tickets.perform(db_session, fake_registry, ticket2, cast.student, "claim", now)
    from helpdesk_core.services import sla_sweep
    sla_sweep.sweep(db_session, fake_registry, late)
    breach = rows(db_session, channel="fake", kind=rules.SLA_BREACH)
    assert {r.user_id for r in breach} == {cast.student.id, cast.coordinator.id}


def test_notify_users_with_a_key_sends_once(db_session, fake_registry, cast, now):
    words = lambda locale: outbox.render.Rendered(f"Báo cáo {locale}", "Nội dung")  # noqa: E731
    first = outbox.notify_users(db_session, fake_registry, [cast.coordinator], rules.REPORT,
                                words, now=now, key="report-2026-02", url="/dashboard/")
    tickets.commit(db_session)
    assert [r.subject for r in first if r.channel == "fake"] == ["Báo cáo vi"]
    again = outbox.notify_users(db_session, fake_registry, [cast.coordinator], rules.REPORT,
                                words, now=now, key="report-2026-02")
    assert again == []  # the job ran twice: nothing new
    other = outbox.notify_users(db_session, fake_registry, [cast.coordinator], rules.REPORT,
                                words, now=now, key="report-2026-03")
    assert [r.subject for r in other if r.channel == "fake"] == ["Báo cáo vi"]
    tickets.commit(db_session)


def test_webhook_endpoints_get_the_kinds_of_their_wards(db_session, fake_registry, cast, now):
    from ..factories import make_ward
    other = make_ward(db_session)
    mine = webhooks.save_endpoint(db_session, SECRET, name="1022", url="https://1022.test/hook",
                                  secret="s" * 20, kinds=[rules.TICKET_NEW],
                                  all_wards=False, ward_ids=[cast.ward.id])
    webhooks.save_endpoint(db_session, SECRET, name="Khác", url="https://other.test/hook",
                           secret="s" * 20, kinds=[rules.TICKET_NEW], all_wards=False,
                           ward_ids=[other.id])
    webhooks.save_endpoint(db_session, SECRET, name="Vi phạm", url="https://sla.test/hook",
                           secret="s" * 20, kinds=[rules.SLA_BREACH], all_wards=True,
                           ward_ids=[])
    make_ticket(db_session, fake_registry, cast.ward, now, reporter=cast.staff)
    hooks = rows(db_session, channel="webhook")
    assert [(r.endpoint_id, r.address) for r in hooks] == [(mine.id, "https://1022.test/hook")]
    assert hooks[0].data["ticket"].startswith(cast.ward.code)
    assert channel_settings.decrypt(SECRET, mine.secret) == "s" * 20
    assert "s" * 20 not in mine.secret


def test_channel_secrets_are_stored_encrypted(db_session, registry):
    channel_settings.save_settings(db_session, registry, "email",
                                   {"host": "smtp.test", "port": 587, "security": "starttls",
                                    "username": "hd", "password": "mật-khẩu-bí-mật",
                                    "from_address": "hd@danang.test"}, SECRET)
    from helpdesk_core.models import ChannelSetting
    stored = db_session.get(ChannelSetting, "email").settings
    assert "mật-khẩu" not in repr(stored) and stored["password"].startswith("enc:")
    assert channel_settings.settings_of(db_session, registry, "email",
                                        SECRET)["password"] == "mật-khẩu-bí-mật"
    shown, stored_secrets = channel_settings.shown_settings(db_session, registry, "email", SECRET)
    assert shown["password"] == "" and stored_secrets == {"password"}
    # An empty password keeps the stored one; another SECRET_KEY cannot read it.
    channel_settings.save_settings(db_session, registry, "email",
                                   {**shown, "password": ""}, SECRET)
    assert channel_settings.settings_of(db_session, registry, "email",
                                        SECRET)["password"] == "mật-khẩu-bí-mật"
    assert channel_settings.settings_of(db_session, registry, "email",
                                        "another")["password"] == ""


def test_on_duty_is_the_roster_else_everyone_placed(db_session, cast, now):
    from ..factories import make_student, make_ward
    assert outbox.on_duty_student_ids(db_session, cast.ward.id, now) == tuple(
        sorted([cast.student.id, cast.other_student.id]))  # both on this morning's roster
    off = quick_student(db_session, cast.ward, now.date(), on_duty=False)
    placed = make_student(db_session, cast.ward, now.date())  # placed, on no roster
    assert outbox.on_duty_student_ids(db_session, cast.ward.id, now) == tuple(
        sorted([cast.student.id, cast.other_student.id]))
    night = now.replace(hour=14)  # 21:00 in Da Nang: nobody on duty, everyone placed hears
    assert outbox.on_duty_student_ids(db_session, cast.ward.id, night) == tuple(
        sorted([cast.student.id, cast.other_student.id, placed.id]))
    assert off.id not in outbox.on_duty_student_ids(db_session, cast.ward.id, night)
    assert outbox.on_duty_student_ids(db_session, make_ward(db_session).id, now) == ()
    assert quick_user(db_session, Role.STAFF).id  # staff are never on duty
