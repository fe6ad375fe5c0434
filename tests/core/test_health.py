"""Health checks raise and resolve tickets by themselves, against real loopback peers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from helpdesk_core import (Category, CheckResult, CheckStatus, HealthCheckType, PluginRegistry,
                           hookimpl)
from helpdesk_core.db import make_session_factory
from helpdesk_core.models import (Asset, AssetCheck, CheckRecord, Criticality, Source, Status,
                                  Ticket, TicketEvent)
from helpdesk_core.services import health, tickets
from helpdesk_core.services.health import recording, rules
from helpdesk_core.testing import closed_port
from tests.factories import make_student, make_ward

MINUTE = dt.timedelta(minutes=1)


def make_check(session, ward, address, check_type="http", config=None, criticality="normal",
               **overrides):
    values = {"interval_seconds": 60, "timeout_seconds": 3, "failure_threshold": 3,
              "recovery_threshold": 2}
    values.update(overrides)
    check = AssetCheck(check_type=check_type, config=config or {}, **values)
    asset = Asset(ward=ward, category="network", kind="router", name="Modem tầng 1",
                  address=address, criticality=criticality, checks=[check])
    session.add(asset)
    session.commit()
    return check


def automatic_tickets(session, check):
    return list(session.scalars(select(Ticket).where(Ticket.check_id == check.id)))


def events(session, ticket, kind):
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.kind == kind)
                                .order_by(TicketEvent.id)))


def poll(session, registry, check, now, times=1, step=MINUTE):
    outcomes = []
    for i in range(times):
        outcomes.append(health.check_now(session, registry, check.id, now=now + i * step))
    return outcomes


def test_three_failures_file_exactly_one_ticket_with_the_failure_in_its_history(
        db_session, registry, now, http_server):
    ward = make_ward(db_session)
    http_server.set("/down", "fail")
    check = make_check(db_session, ward, http_server.url("/down"), criticality=Criticality.HIGH)

    first_two = poll(db_session, registry, check, now, times=2)
    assert [o.status for o in first_two] == ["failure", "failure"]
    assert automatic_tickets(db_session, check) == []

    third = health.check_now(db_session, registry, check.id, now=now + 2 * MINUTE)
    assert third.action == "filed"
    [ticket] = automatic_tickets(db_session, check)
    assert (ticket.source, ticket.category, ticket.priority) == (Source.HEALTH_CHECK, "network", 2)
    assert ticket.asset_id == check.asset_id and ticket.status == Status.NEW
    assert ticket.reporter_id is None and not ticket.flapping
    assert "Modem tầng 1" in ticket.title
    assert "500" in ticket.description
    [event] = events(db_session, ticket, "health")
    assert "500" in event.body and event.data["values"]["status_code"] == 500
    assert event.actor_id is None

    # Still failing: no second ticket, and no event per poll (same message, < 30 min).
    poll(db_session, registry, check, now + 3 * MINUTE, times=5)
    assert len(automatic_tickets(db_session, check)) == 1
    assert len(events(db_session, ticket, "health")) == 1
    # Half an hour later the still-failing check is noted once more.
    later = health.check_now(db_session, registry, check.id, now=now + 40 * MINUTE)
    assert later.action == "event"
    assert len(events(db_session, ticket, "health")) == 2
    db_session.refresh(check)
    assert check.consecutive_failures == 9 and check.last_status == "failure"
    assert db_session.scalar(select(func.count()).select_from(CheckRecord)) == 9


@pytest.mark.parametrize("criticality, priority", [("critical", 1), ("normal", 3), ("low", 4)])
def test_priority_follows_the_assets_criticality(db_session, registry, now, criticality,
                                                 priority):
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "127.0.0.1", "tcp", {"port": closed_port()},
                       criticality=criticality)
    poll(db_session, registry, check, now, times=3)
    [ticket] = automatic_tickets(db_session, check)
    assert ticket.priority == priority
    assert "127.0.0.1" in ticket.description


def test_recovery_resolves_the_ticket_by_itself(db_session, registry, now, http_server):
    ward = make_ward(db_session)
    http_server.set("/svc", "fail")
    check = make_check(db_session, ward, http_server.url("/svc"))
    poll(db_session, registry, check, now, times=3)
    [ticket] = automatic_tickets(db_session, check)

    http_server.set("/svc", "ok")
    first_ok = health.check_now(db_session, registry, check.id, now=now + 10 * MINUTE)
    assert first_ok.status == "ok" and first_ok.action is None
    assert ticket.status == Status.NEW
    second_ok = health.check_now(db_session, registry, check.id, now=now + 11 * MINUTE)
    assert second_ok.action == "resolved"
    db_session.refresh(ticket)
    assert ticket.status == Status.RESOLVED
    assert len(events(db_session, ticket, "recovery")) == 1
    [resolved] = [e for e in events(db_session, ticket, "status") if e.new_value == "resolved"]
    assert resolved.actor_id is None and resolved.body

    # A new outage after the fix is a new ticket.
    http_server.set("/svc", "fail")
    poll(db_session, registry, check, now + 20 * MINUTE, times=3)
    assert len(automatic_tickets(db_session, check)) == 2


def test_recovery_leaves_a_worked_ticket_to_the_student(db_session, registry, now, tcp_server):
    tcp_peer = tcp_server()  # accepts, then hangs up
    ward = make_ward(db_session)
    student = make_student(db_session, ward, now.date())
    port = closed_port()
    check = make_check(db_session, ward, "127.0.0.1", "tcp", {"port": port})
    poll(db_session, registry, check, now, times=3)
    [ticket] = automatic_tickets(db_session, check)
    tickets.perform(db_session, registry, ticket, student, "claim", now + 5 * MINUTE)
    tickets.commit(db_session)
    assert ticket.worked_by_person

    check.config = {"port": tcp_peer.port}
    db_session.commit()
    outcomes = poll(db_session, registry, check, now + 10 * MINUTE, times=4)
    assert [o.status for o in outcomes] == ["ok"] * 4
    assert [o.action for o in outcomes] == [None, "recovered", None, None]
    db_session.refresh(ticket)
    assert ticket.status == Status.ASSIGNED and ticket.assignee_id == student.id
    [recovery] = events(db_session, ticket, "recovery")
    assert recovery.actor_id is None and str(tcp_peer.port) in recovery.data["message"]
    assert tcp_peer.wait_accepted(4) == 4


def test_flapping_files_one_unstable_ticket_and_resolves_it_once_stable(
        db_session, registry, now, http_server):
    ward = make_ward(db_session)
    check = make_check(db_session, ward, http_server.url("/flaky"), failure_threshold=3)
    actions = []
    for i in range(16):  # up, down, up, down... never three failures in a row
        http_server.set("/flaky", "fail" if i % 2 else "ok")
        actions.append(health.check_now(db_session, registry, check.id,
                                        now=now + i * MINUTE).action)
    [ticket] = automatic_tickets(db_session, check)
    assert ticket.flapping and ticket.is_open
    assert actions.count("flapping") == 1 and "filed" not in actions
    # Six changes weigh 6 x ~1.15 of 20: 34 % > 30 %; five were 29 %.
    assert actions.index("flapping") == 6
    assert len(events(db_session, ticket, "recovery")) == 0  # not resolved while flapping
    # Stable again: resolved as soon as the weighted changes fall below 25 %.
    http_server.set("/flaky", "ok")
    stable = poll(db_session, registry, check, now + 16 * MINUTE, times=21)
    resolved_at = [o.action for o in stable].index("resolved")
    history = "".join("d" if i % 2 else "u" for i in range(16))
    expected = next(n for n in range(1, 22)
                    if rules.flap_percent(history + "u" * n) < 25.0)
    assert resolved_at == expected - 1
    db_session.refresh(ticket)
    assert ticket.status == Status.RESOLVED and not ticket.flapping
    # A real outage after the quiet period is an outage, filed after three failures.
    http_server.set("/flaky", "fail")
    outage = poll(db_session, registry, check, now + 40 * MINUTE, times=3)
    assert [o.action for o in outage] == [None, None, "filed"]
    assert not automatic_tickets(db_session, check)[-1].flapping


class TonerPlugin:
    """A temporary plugin: a printer-like device whose toner level the test sets."""

    def __init__(self) -> None:
        self.toner = 50

    @hookimpl
    def helpdesk_register_categories(self):
        return [Category("testprinter", "Test printer")]

    @hookimpl
    def helpdesk_register_health_checks(self):
        def run(target):
            if self.toner == -1:
                raise RuntimeError("SNMP agent crashed")
            status = CheckStatus.WARNING if self.toner < 10 else CheckStatus.OK
            return CheckResult(status, f"Toner {self.toner}%", {"toner_percent": self.toner})
        return [HealthCheckType("toner", "Toner level", "testprinter", run=run)]


@pytest.fixture
def toner(pm):
    plugin = TonerPlugin()
    pm.register(plugin, name="toner_test")
    yield plugin, PluginRegistry(pm)
    pm.unregister(name="toner_test")


def test_a_warning_files_one_low_priority_ticket(db_session, now, toner):
    plugin, registry = toner
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "printer-1.local", "toner",
                       criticality=Criticality.CRITICAL)
    plugin.toner = 4
    outcomes = poll(db_session, registry, check, now, times=6)
    assert [o.status for o in outcomes] == ["warning"] * 6
    assert [o.action for o in outcomes] == ["filed"] + [None] * 5
    [ticket] = automatic_tickets(db_session, check)
    # No plugin of this registry provides the device's category: the check type's.
    assert ticket.priority == 4 and ticket.category == "testprinter"
    [event] = events(db_session, ticket, "health")
    assert event.data["values"] == {"toner_percent": 4}
    plugin.toner = 3  # a new message is worth a note
    assert poll(db_session, registry, check, now + 7 * MINUTE)[0].action == "event"
    plugin.toner = 100
    assert [o.action for o in poll(db_session, registry, check, now + 8 * MINUTE, times=2)] \
        == [None, "resolved"]


def test_a_warning_ticket_takes_the_devices_priority_when_it_fails(db_session, now, toner):
    plugin, registry = toner
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "printer-3.local", "toner",
                       criticality=Criticality.HIGH)
    plugin.toner = 5
    poll(db_session, registry, check, now)
    [ticket] = automatic_tickets(db_session, check)
    assert ticket.priority == 4
    plugin.toner = -1  # now the device fails outright
    poll(db_session, registry, check, now + MINUTE, times=3)
    db_session.refresh(ticket)
    assert ticket.priority == 2 and len(automatic_tickets(db_session, check)) == 1
    [change] = events(db_session, ticket, "priority")
    assert (change.old_value, change.new_value, change.actor_id) == ("4", "2", None)


def test_a_check_that_raises_is_an_error_result_and_counts_as_failing(db_session, now, toner):
    plugin, registry = toner
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "printer-2.local", "toner")
    plugin.toner = -1
    outcomes = poll(db_session, registry, check, now, times=3)
    assert [o.status for o in outcomes] == ["error"] * 3
    assert "SNMP agent crashed" in outcomes[0].message
    assert outcomes[-1].action == "filed"
    assert any(f.stage == "check:toner" for f in registry.failures)


def test_a_ticket_filed_meanwhile_by_another_process_is_reused(db_session, registry, now,
                                                               monkeypatch):
    ward = make_ward(db_session)
    check = make_check(db_session, ward, "127.0.0.1", "tcp", {"port": closed_port()},
                       failure_threshold=1)
    # Another scheduler filed the ticket just now; this one has not seen it yet.
    theirs = tickets.file_ticket(db_session, registry, ward=ward, category="network",
                                 title="Modem tầng 1", now=now, source=Source.HEALTH_CHECK,
                                 triage={"scope": "one_room", "connection": "wired",
                                         "what_fails": "internet"},
                                 asset=check.asset, check=check)
    tickets.commit(db_session)
    real = recording.open_tickets_for
    calls = []

    def stale_then_real(session, asset_ids):
        calls.append(asset_ids)
        return {} if len(calls) == 1 else real(session, asset_ids)

    # The batch's read of open tickets misses theirs; the unique index refuses a second.
    monkeypatch.setattr(recording, "open_tickets_for", stale_then_real)
    outcome = health.check_now(db_session, registry, check.id, now=now + MINUTE)
    assert outcome.action == "event" and outcome.ticket_id == theirs.id
    assert [t.id for t in automatic_tickets(db_session, check)] == [theirs.id]
    assert len(events(db_session, theirs, "health")) == 1
    assert db_session.scalar(select(func.count()).select_from(CheckRecord)) == 1


def test_city_wide_asset_is_recorded_without_a_ticket(db_session, registry, now):
    check = make_check(db_session, None, "127.0.0.1", "tcp", {"port": closed_port()})
    poll(db_session, registry, check, now, times=4)
    assert automatic_tickets(db_session, check) == []
    db_session.refresh(check)
    assert check.last_status == "failure" and check.consecutive_failures == 4


def test_disabled_check_is_not_run_and_no_record_leaves_no_trace(db_session, registry, now,
                                                                 http_server):
    ward = make_ward(db_session)
    check = make_check(db_session, ward, http_server.url("/x"))
    dry = health.check_now(db_session, registry, check.id, now=now, record=False)
    assert dry.status == "ok" and not dry.recorded
    assert db_session.scalar(select(func.count()).select_from(CheckRecord)) == 0
    check.enabled = False
    db_session.commit()
    assert health.check_now(db_session, registry, check.id, now=now) is None
    assert http_server.hits == {"/x": 1}


def test_prune_keeps_recent_records_and_the_latest_of_each_check(db_session, now):
    ward = make_ward(db_session)
    old_only = make_check(db_session, ward, "a.local", "tcp", {"port": 1})
    mixed = make_check(db_session, ward, "b.local", "tcp", {"port": 1})
    for days in (30, 20, 16):
        db_session.add(CheckRecord(check_id=old_only.id, status="ok",
                                   checked_at=now - dt.timedelta(days=days)))
    for days in (40, 30, 20, 15, 3, 1):
        db_session.add(CheckRecord(check_id=mixed.id, status="ok",
                                   checked_at=now - dt.timedelta(days=days)))
    db_session.commit()
    deleted = health.prune_records(db_session, now, keep_days=14, batch_size=2)
    assert deleted == 2 + 4
    left = sorted((r.check_id, (now - r.checked_at).days)
                  for r in db_session.scalars(select(CheckRecord)))
    assert left == sorted([(old_only.id, 16), (mixed.id, 3), (mixed.id, 1)])
    assert health.prune_records(db_session, now, keep_days=14) == 0



# --- the recorder: many runs, few transactions -----------------------------------------

def _scope(session_factory):
    """What the scheduler gives its recorder, reader and locks: a session per batch."""
    @contextlib.contextmanager
    def scope():
        session = session_factory()
        try:
            yield session
        finally:
            session.close()
    return scope


def _recorder(session_factory, registry, **options):
    return health.Recorder(_scope(session_factory), registry, **options)


def test_the_recorder_records_concurrent_runs_in_few_transactions(
        db_session, session_factory, registry, now):
    ward = make_ward(db_session)
    checks = [make_check(db_session, ward, f"http://127.0.0.1:{9000 + i}/", failure_threshold=1)
              for i in range(40)]
    recorder = _recorder(session_factory, registry, linger=0.2)
    down = CheckResult(CheckStatus.FAILURE, "không trả lời")
    up = CheckResult(CheckStatus.OK, "ok")
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(lambda c: recorder.record(health.PendingResult(
            c.id, down if c.id % 2 else up, 12.0, now)), checks))
    recorder.close()
    assert recorder.batches < 10  # 40 results, not 40 commits
    assert [o.check_id for o in outcomes] == [c.id for c in checks]
    assert {o.action for o in outcomes if o.status == "failure"} == {"filed"}
    db_session.expire_all()
    for check in checks:
        db_session.refresh(check)
        assert check.last_status == ("failure" if check.id % 2 else "ok")
        assert len(automatic_tickets(db_session, check)) == check.id % 2
    assert db_session.scalar(select(func.count()).select_from(CheckRecord)) == 40
    db_session.rollback()  # SQLite: let the cleanup take the write lock


def test_one_bad_result_costs_no_other_result_its_record(
        db_session, session_factory, registry, now):
    ward = make_ward(db_session)
    good, other = (make_check(db_session, ward, "127.0.0.1", "tcp", {"port": 1})
                   for _ in range(2))
    gone = other.id + 1000
    recorder = _recorder(session_factory, registry, linger=0.2)
    futures = [recorder.submit(health.PendingResult(good.id, CheckResult(CheckStatus.OK, "ok"),
                                                    1.0, now)),
               recorder.submit(health.PendingResult(other.id, CheckResult("bogus", "?"), 1.0, now)),
               recorder.submit(health.PendingResult(gone, CheckResult(CheckStatus.OK, "ok"),
                                                    1.0, now))]
    assert futures[0].result(10).status == "ok"
    with pytest.raises(ValueError):
        futures[1].result(10)
    assert futures[2].result(10) is None  # the check no longer exists
    recorder.close()
    db_session.expire_all()
    assert db_session.get(AssetCheck, good.id).last_status == "ok"
    assert db_session.get(AssetCheck, other.id).last_status is None
    db_session.rollback()


# --- the runner: the scheduler's runs on an event loop ---------------------------------

@contextlib.contextmanager
def running_loop():
    """An asyncio event loop in a thread, as the scheduler's ``checks`` executor has."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _runner(session_factory, registry, **options):
    recorder = _recorder(session_factory, registry)
    return (health.CheckRunner(_scope(session_factory), registry, recorder, **options),
            recorder)


def _guarded_runs():
    """Threads of blocking checks running now (the registry's guard threads)."""
    return [t.name for t in threading.enumerate() if t.name.startswith("check-")]


def test_the_runner_waits_on_hung_devices_without_a_thread_each(
        db_session, session_factory, registry, http_server):
    http_server.set("/hang", "hang")
    ward = make_ward(db_session)
    hung = [make_check(db_session, ward, http_server.url("/hang"), timeout_seconds=30)
            for _ in range(20)]
    fast = [make_check(db_session, ward, http_server.url(f"/ok{n}")) for n in range(5)]
    tcp = make_check(db_session, ward, "127.0.0.1", "tcp", {"port": http_server.server.server_address[1]})
    runner, recorder = _runner(session_factory, registry)
    with running_loop() as loop:
        runs = {check.id: asyncio.run_coroutine_threadsafe(runner.run(check.id), loop)
                for check in hung + fast + [tcp]}
        deadline = time.monotonic() + 20
        while http_server.pending("/hang") < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert http_server.pending("/hang") == 20
        assert all(runs[check.id].result(10).status == "ok" for check in fast + [tcp])
        # 20 devices hang: no thread waits on any of them (http is a coroutine check).
        assert _guarded_runs() == []
        assert not any(runs[check.id].done() for check in hung)
        http_server.release.set()
        outcomes = [runs[check.id].result(10) for check in hung]
    runner.close()
    recorder.close()
    assert {outcome.status for outcome in outcomes} == {"ok"}
    assert recorder.batches < 26  # recorded together, not one transaction per run
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(CheckRecord)) == 26
    db_session.rollback()


def test_waiting_runs_start_longest_expected_first_and_lock_only_with_a_place(
        db_session, session_factory, registry, http_server):
    """Three places, eight hung devices due at once: the three that took longest last time
    start (a scheduler starting again asks the devices that hung first); on PostgreSQL
    only the runs holding a place hold their check's advisory lock."""
    from sqlalchemy import text

    from helpdesk_core.services.health.running import ADVISORY_LOCK_CLASS

    ward = make_ward(db_session)
    checks = []
    for n in (3, 7, 0, 5, 1, 6, 2, 4):  # last run's duration: n x 100 ms
        http_server.set(f"/hang{n}", "hang")
        checks.append(make_check(db_session, ward, http_server.url(f"/hang{n}"),
                                 timeout_seconds=30, last_latency_ms=n * 100.0))
    runner, recorder = _runner(session_factory, registry, max_concurrent=3)
    with running_loop() as loop:
        runs = [asyncio.run_coroutine_threadsafe(runner.run(check.id), loop) for check in checks]
        deadline = time.monotonic() + 20
        while (sum(http_server.pending(f"/hang{n}") for n in range(8)) < 3
               and time.monotonic() < deadline):
            time.sleep(0.02)
        time.sleep(0.2)  # a fourth would have started by now
        started = sorted(n for n in range(8) if http_server.pending(f"/hang{n}"))
        locks = None
        if db_session.get_bind().dialect.name == "postgresql":
            # This test's checks only: other tests' schedulers may run beside it.
            locks = db_session.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = :cls AND granted AND objid = ANY(CAST(:ids AS oid[])) "
                "AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"),
                {"cls": ADVISORY_LOCK_CLASS, "ids": [check.id for check in checks]})
            db_session.rollback()
        http_server.release.set()
        outcomes = [run.result(20) for run in runs]
    runner.close()
    recorder.close()
    assert started == [5, 6, 7]
    assert locks in (None, 3)
    assert {outcome.status for outcome in outcomes} == {"ok"}


def test_the_runner_skips_what_it_need_not_run(db_session, session_factory, registry, now):
    ward = make_ward(db_session)
    recent = make_check(db_session, ward, "127.0.0.1", "tcp", {"port": closed_port()},
                        last_checked_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5))
    disabled = make_check(db_session, ward, "127.0.0.1", "tcp", {"port": 1}, enabled=False)
    runner, recorder = _runner(session_factory, registry)
    with running_loop() as loop:
        def run(check_id, **options):
            return asyncio.run_coroutine_threadsafe(runner.run(check_id, **options),
                                                    loop).result(10)
        assert run(recent.id) is None  # ran 5 s ago, interval 60 s
        assert run(disabled.id) is None
        assert run(disabled.id + 1000) is None  # gone
        forced = run(recent.id, force=True)
    runner.close()
    recorder.close()
    assert forced.status == "failure"
    db_session.rollback()


def test_the_runner_leaves_a_check_another_process_is_running(
        postgres_database, registry, caplog):
    # Several scheduler processes are a PostgreSQL deployment (SQLite: one process).
    factory = make_session_factory(postgres_database.engine)
    with factory() as session:
        check = make_check(session, make_ward(session), "127.0.0.1", "tcp",
                           {"port": closed_port()})
        check_id = check.id
    runner, recorder = _runner(factory, registry)
    with running_loop() as loop, factory() as other:
        def run():
            return asyncio.run_coroutine_threadsafe(runner.run(check_id), loop).result(10)
        with health.run_lock(other, check_id) as got:  # "another process": its own connection
            assert got
            with caplog.at_level(logging.INFO, logger="helpdesk_core.services.health"):
                assert run() is None
        assert "is being run by another process right now; skipped" in caplog.text
        assert run().status == "failure"  # released: the next run goes ahead
        assert run() is None  # and its own lock was released too; now it ran recently
        with health.run_lock(other, check_id) as got:
            assert got
    runner.close()
    recorder.close()
