"""The scheduler runs each check as its own job; a hung device stalls nothing; ``helpdesk
check`` runs once. (Several scheduler processes on one database: test_election.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import threading
import time

from sqlalchemy import func, select

from helpdesk_core import HealthCheckType, PluginRegistry, hookimpl
from helpdesk_core.models import Asset, AssetCheck, CheckRecord, Ticket, Ward
from webapp import scheduler as scheduler_module
from webapp.extensions import db


def add_asset(session, ward, name, address, *checks, criticality="normal"):
    asset = Asset(ward=ward, category="network", kind="service_endpoint", name=name,
                  address=address, criticality=criticality, checks=list(checks))
    session.add(asset)
    return asset


def wait_for(predicate, timeout=60.0, step=0.05):
    """Poll until *predicate()* is true; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def test_build_keeps_the_heartbeat_and_adds_health_jobs(app):
    sched = scheduler_module.build(app)
    ids = {job.id for job in sched.get_jobs()}
    assert {"heartbeat", "health_reconcile", "health_prune"} <= ids
    assert sched._job_defaults["coalesce"] is True and sched._job_defaults["max_instances"] == 1


def test_reconcile_follows_the_checks_in_the_database(app):
    sched = scheduler_module.build(app)
    with app.app_context():
        ward = Ward(code="RCN", name="Phường Thử")
        a = AssetCheck(check_type="tcp", config={"port": 1}, interval_seconds=60)
        b = AssetCheck(check_type="tcp", config={"port": 2}, interval_seconds=300)
        off = AssetCheck(check_type="tcp", config={"port": 3}, enabled=False)
        add_asset(db.session, ward, "Máy A", "127.0.0.1", a, b, off)
        db.session.commit()
        ids = (a.id, b.id, off.id)
    assert scheduler_module.reconcile(sched, app) == (2, 0, 0)
    jobs = {job.id: job for job in sched.get_jobs() if job.id.startswith("check:")}
    assert set(jobs) == {f"check:{ids[0]}", f"check:{ids[1]}"}
    assert jobs[f"check:{ids[0]}"].trigger.interval.total_seconds() == 60
    assert jobs[f"check:{ids[0]}"].executor == "checks"
    assert scheduler_module.reconcile(sched, app) == (0, 0, 0)
    with app.app_context():
        db.session.get(AssetCheck, ids[0]).interval_seconds = 120
        db.session.get(AssetCheck, ids[1]).enabled = False
        db.session.get(AssetCheck, ids[2]).enabled = True
        db.session.commit()
    assert scheduler_module.reconcile(sched, app) == (1, 1, 1)
    jobs = {job.id: job for job in sched.get_jobs() if job.id.startswith("check:")}
    assert set(jobs) == {f"check:{ids[0]}", f"check:{ids[2]}"}
    assert jobs[f"check:{ids[0]}"].trigger.interval.total_seconds() == 120


class BoomPlugin:
    @hookimpl
    def helpdesk_register_health_checks(self):
        def run(target):
            raise RuntimeError("driver exploded")
        return [HealthCheckType("boom", "Always raises", "network", run=run)]


def test_a_hung_device_does_not_stall_the_other_checks(app, http_server):
    app.config.update(HEALTH_MAX_WORKERS=3, HEALTH_JITTER_SECONDS=0,
                      HEALTH_RECONCILE_SECONDS=3600)
    registry = app.extensions["helpdesk"]
    registry.pm.register(BoomPlugin(), name="boom_test")
    app.extensions["helpdesk"] = PluginRegistry(registry.pm)
    http_server.set("/hang", "hang")
    with app.app_context():
        ward = Ward(code="HNG", name="Phường Thử")
        hung = AssetCheck(check_type="http", interval_seconds=1, timeout_seconds=30)
        add_asset(db.session, ward, "Cổng dịch vụ treo", http_server.url("/hang"), hung)
        fast = []
        for n in range(3):
            check = AssetCheck(check_type="http", interval_seconds=1, timeout_seconds=5)
            add_asset(db.session, ward, f"Dịch vụ {n}", http_server.url(f"/fast{n}"), check)
            fast.append(check)
        boom = AssetCheck(check_type="boom", interval_seconds=1, failure_threshold=2)
        add_asset(db.session, ward, "Máy lỗi driver", "10.0.0.9", boom)
        db.session.commit()
        hung_id, fast_ids, boom_id = hung.id, [c.id for c in fast], boom.id

    def records(check_id):
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(CheckRecord)
                                     .where(CheckRecord.check_id == check_id))

    sched = scheduler_module.build(app)
    sched.start()
    try:
        wait_for(lambda: http_server.pending("/hang") == 1)
        # While the hung request is still open, every other check keeps its rhythm.
        wait_for(lambda: all(records(i) >= 3 for i in fast_ids + [boom_id]))
        assert http_server.pending("/hang") == 1
        assert records(hung_id) == 0
        assert http_server.hits["/hang"] == 1  # max_instances=1: no pile-up behind it
        with app.app_context():
            boom_check = db.session.get(AssetCheck, boom_id)
            assert boom_check.last_status == "error"
            assert "driver exploded" in boom_check.last_message
            assert db.session.scalar(select(func.count()).select_from(Ticket)
                                     .where(Ticket.check_id == boom_id)) == 1
            assert all(db.session.get(AssetCheck, i).last_status == "ok" for i in fast_ids)
    finally:
        http_server.release.set()
        sched.shutdown(wait=True)
    assert records(hung_id) == 1  # answered once released, and recorded


def test_helpdesk_check_runs_an_assets_checks_once(app, runner, http_server):
    http_server.set("/portal", "fail")
    with app.app_context():
        ward = Ward(code="CLI", name="Phường Thử")
        add_asset(db.session, ward, "Cổng thông tin", http_server.url("/portal"),
                  AssetCheck(check_type="http", failure_threshold=1),
                  AssetCheck(check_type="tcp", config={"port": 1}))  # the URL's port wins
        db.session.commit()
        asset_id = db.session.scalar(select(Asset.id))

    dry = runner.invoke(args=["check", "Cổng thông tin", "--no-record"])
    assert dry.exit_code == 1, dry.output  # a check failed
    assert "http: FAILURE" in dry.output and "tcp: OK" in dry.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckRecord)) == 0

    result = runner.invoke(args=["check", str(asset_id)])
    assert result.exit_code == 1, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckRecord)) == 2
        ticket = db.session.scalar(select(Ticket))
    assert f"[yêu cầu hỗ trợ {ticket.number}]" in result.output  # its number, not its id
    assert ticket.number.startswith("CLI-")

    http_server.set("/portal", "ok")
    healthy = runner.invoke(args=["check", str(asset_id), "--no-record"])
    assert healthy.exit_code == 0, healthy.output
    assert "http: OK" in healthy.output

    missing = runner.invoke(args=["check", "Máy không có"])
    assert missing.exit_code != 0
    assert "Máy không có" in missing.output and "Traceback" not in missing.output


def test_the_retention_job_prunes_old_results(app):
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context():
        check = AssetCheck(check_type="tcp", config={"port": 1})
        add_asset(db.session, Ward(code="RET", name="Phường Thử"), "Máy cũ", "127.0.0.1", check)
        db.session.flush()
        for days in (40, 20, 15, 1):
            db.session.add(CheckRecord(check_id=check.id, status="ok",
                                       checked_at=now - dt.timedelta(days=days)))
        db.session.commit()
    app.config["HEALTH_RETENTION_DAYS"] = 14
    assert scheduler_module.prune(app) == 3
    assert scheduler_module.prune(app) == 0


def test_helpdesk_check_says_why_in_vietnamese_with_the_address_as_typed(app, runner, closed_port):
    typed = f"ipp://127.0.0.1:{closed_port}/ipp/print"
    with app.app_context():
        add_asset(db.session, Ward(code="IPP", name="Phường Thử"), "Máy in quầy 1", typed,
                  AssetCheck(check_type="ipp", failure_threshold=1),
                  AssetCheck(check_type="tcp", config={"port": closed_port}))
        db.session.commit()
    result = runner.invoke(args=["check", "Máy in quầy 1", "--no-record"])
    assert result.exit_code == 1, result.output
    assert typed in result.output and "http://" not in result.output
    assert "kết nối bị từ chối" in result.output
    assert "refused" not in result.output.lower()


def test_settle_gc_freezes_what_started_up_and_collects_the_young_less_often():
    # In a fresh interpreter: it changes the whole process.
    probe = ("import gc, json; from webapp import scheduler; before = gc.get_freeze_count(); "
             "scheduler.settle_gc(); "
             "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold()[0]]))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, check=True)
    before, frozen, young = json.loads(output.stdout.strip().splitlines()[-1])
    assert before == 0 and frozen > 1000
    assert young == scheduler_module.GC_YOUNG_THRESHOLD


def test_the_checks_run_on_uvloop_which_the_package_installs():
    loop = scheduler_module.new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


async def _job(results, n, hang):
    if hang is not None:
        hang.append(n)
        await asyncio.sleep(3600)
    results.append(n)


def test_the_loop_executor_starts_a_burst_of_jobs_in_one_hand_over_and_cancels_on_shutdown(
        monkeypatch):
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from apscheduler.schedulers.background import BackgroundScheduler

    hand_overs = []
    original = scheduler_module.LoopExecutor._start_arrived

    def counting(self):
        # The tasks this hand-over started (the list of arrived jobs can grow between a
        # look at it and the hand-over taking it, so it is not what is counted).
        before = len(self._running)
        original(self)
        hand_overs.append(len(self._running) - before)
    monkeypatch.setattr(scheduler_module.LoopExecutor, "_start_arrived", counting)
    sched = BackgroundScheduler(executors={"default": scheduler_module.LoopExecutor()})
    events = []
    sched.add_listener(lambda event: events.append((event.code, event.job_id)),
                       EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    results, hung = [], []
    sched.start(paused=True)
    now = dt.datetime.now(dt.timezone.utc)
    for n in range(300):
        sched.add_job(_job, "date", run_date=now, args=[results, n, None], id=f"j{n}")
    sched.add_job(_job, "date", run_date=now, args=[results, -1, hung], id="hung")
    sched.resume()
    wait_for(lambda: len(results) == 300 and hung)
    sched.shutdown(wait=False)
    assert sorted(results) == list(range(300))
    assert sum(hand_overs) == 301 and len(hand_overs) < 10  # few wake-ups, not one per job
    assert sorted(code for code, _ in events).count(EVENT_JOB_EXECUTED) == 300
    assert (EVENT_JOB_ERROR, "hung") in events  # cancelled by shutdown(wait=False)


def test_a_routine_result_is_logged_at_debug_and_a_ticket_action_at_info(app, monkeypatch,
                                                                          caplog):
    import logging

    from helpdesk_core.services.health import Outcome
    outcomes = iter([Outcome(1, "ok", "Máy in sẵn sàng", 3.0, dt.datetime.now(dt.timezone.utc)),
                     Outcome(2, "failure", "Không kết nối được", 3.0,
                             dt.datetime.now(dt.timezone.utc), action="filed")])

    class Runner:
        async def run(self, check_id):
            return next(outcomes)
    monkeypatch.setattr(scheduler_module, "runner", lambda app: Runner())
    with caplog.at_level(logging.DEBUG, logger="webapp.scheduler"):
        for check_id in (1, 2):
            asyncio.run(scheduler_module.run_check_job(app, check_id))
    levels = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "webapp.scheduler"]
    assert levels == [(logging.DEBUG, "check 1: ok Máy in sẵn sàng"),
                      (logging.INFO, "check 2: failure Không kết nối được (filed)")]


def test_shutting_down_waits_for_a_running_job_that_asks_for_the_jobs():
    # APScheduler's own shutdown(wait=True) holds the job stores' lock while it waits for
    # the running jobs; reconcile, running, asks for the jobs and waits for that lock:
    # a `helpdesk scheduler` that never stopped on SIGTERM (seen in CI).
    sched = scheduler_module.HelpdeskScheduler()
    started, asked = threading.Event(), []

    def reconcile_like() -> None:
        started.set()
        time.sleep(0.5)  # meanwhile the scheduler is told to stop
        asked.append(len(sched.get_jobs()))

    sched.add_job(reconcile_like, "date", run_date=dt.datetime.now(dt.timezone.utc))
    sched.add_job(reconcile_like, "interval", hours=1, id="later")
    sched.start()
    assert started.wait(10)
    stopping = threading.Thread(target=sched.shutdown, kwargs={"wait": True}, daemon=True)
    stopping.start()
    stopping.join(20)
    assert not stopping.is_alive(), "the scheduler's shutdown hung"
    assert asked == [1]  # the running job ended, and saw the other job still there
