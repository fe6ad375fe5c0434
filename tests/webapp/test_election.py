"""One scheduler per database: of every process that starts one, exactly one leads.

Real processes on both engines: ``gunicorn -w 4`` with ``HELPDESK_SCHEDULER=true`` and
``helpdesk scheduler``; the leader is killed and a standby takes over. The locks
themselves are tested in-process (a flock is per open file, so two ``FileLock`` in one
process compete like two processes).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from helpdesk_core.models import AssetCheck, CheckRecord, Heartbeat, Ticket, TicketEvent, Ward
from helpdesk_core.services import heartbeat
from helpdesk_core.testing.peers import closed_port
from webapp import election

from .test_scheduler import add_asset, wait_for

STANDS_BY = re.compile(r"\[(\d+)\] \[INFO\] scheduler: \S+ stands by")
STARTED = re.compile(r"\[(\d+)\] \[INFO\] scheduler started with")


# --- the locks --------------------------------------------------------------------------

def test_the_lock_of_each_engine(tmp_path):
    assert isinstance(election.lock_for(f"sqlite:///{tmp_path}/h.db"), election.FileLock)
    assert election.lock_for(f"sqlite:///{tmp_path}/h.db").path == f"{tmp_path}/h.db.scheduler.lock"
    assert isinstance(election.lock_for("sqlite://"), election.NoLock)
    assert isinstance(election.lock_for("postgresql://u@127.0.0.1/x"), election.AdvisoryLock)


def test_one_file_lock_at_a_time(tmp_path):
    first = election.FileLock(str(tmp_path / "h.db.scheduler.lock"))
    second = election.FileLock(str(tmp_path / "h.db.scheduler.lock"))
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    assert election.process_name() in (tmp_path / "h.db.scheduler.lock").read_text()
    first.release()
    assert second.acquire()
    second.release()


def test_a_leader_whose_connection_dies_steps_down_and_another_takes_over(postgres_database):
    first = election.AdvisoryLock(postgres_database.url)
    second = election.AdvisoryLock(postgres_database.url)
    calls: list[str] = []
    candidate = election.Candidate(first, lambda: calls.append("elected"),
                                   lambda graceful: calls.append(f"deposed {graceful}"),
                                   interval=3600)
    try:
        candidate.start()
        assert candidate.leading and calls == ["elected"]
        assert not second.acquire()
        with postgres_database.engine.connect() as admin:  # the lock's session ends
            admin.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = :cls AND granted"),
                {"cls": election.SCHEDULER_LOCK_CLASS})
        wait_for(second.acquire, timeout=30, step=0.1)  # released with the session
        candidate.round()
        assert not candidate.leading and calls == ["elected", "deposed False"]
        candidate.round()  # stands again, and the other holds the lock now
        assert not candidate.leading
        second.release()
        candidate.round()
        assert candidate.leading and calls[-1] == "elected"
    finally:
        candidate.stop()
        second.release()
    assert calls[-1] == "deposed True"


# --- real processes ---------------------------------------------------------------------

def _failing_check(factory, url: str, code: str) -> int:
    """A check every second on a peer that answers slower than that."""
    with factory() as session:
        ward = Ward(code=code, name="Phường Thử")
        check = AssetCheck(check_type="http", config={"expect_status": 200}, interval_seconds=1,
                           timeout_seconds=3, failure_threshold=2)
        add_asset(session, ward, "Cổng một cửa", url, check, criticality="critical")
        session.commit()
        return check.id


def _env(database) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=database.url, HELPDESK_SECRET_KEY="test",
                HELPDESK_SCHEDULER_ELECTION_SECONDS="0.3",
                HELPDESK_HEALTH_RECONCILE_SECONDS="1", HELPDESK_HEALTH_JITTER_SECONDS="0")


def _leader_pid(factory) -> int | None:
    with factory() as session:
        leader = heartbeat.detail(session, heartbeat.SCHEDULER)
    return int(leader.rsplit(":", 1)[1]) if leader else None


def _count(factory, model, *where) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.wait(60)


def test_gunicorn_with_four_workers_runs_one_scheduler(database, session_factory, http_server,
                                                       tmp_path):
    factory = session_factory
    http_server.set("/down", "fail")
    # Each run outlasts the interval: two schedulers would poll the peer at once.
    http_server.delay["/down"] = 1.2
    check_id = _failing_check(factory, http_server.url("/down"), "GUN")
    logging_config = tmp_path / "logging.json"
    logging_config.write_text(json.dumps({  # the app's INFO lines too, with each pid
        "version": 1, "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {"apscheduler": {"level": "WARNING"}}}))
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:webapp.gunicorn_conf",  # shipped
             "-w", "4", "-b", f"127.0.0.1:{closed_port()}",
             "--graceful-timeout", "5", "--log-config-json", str(logging_config),
             "webapp:create_app()"],
            env=dict(_env(database), HELPDESK_SCHEDULER="true"), stdout=out,
            stderr=subprocess.STDOUT)

    def output() -> str:
        return log_path.read_text()

    def decided() -> int:  # workers that have either started a scheduler or stood by
        return len(STARTED.findall(output())) + len(STANDS_BY.findall(output()))

    try:
        wait_for(lambda: decided() >= 4, timeout=120, step=0.2)
        wait_for(lambda: _count(factory, CheckRecord, CheckRecord.check_id == check_id) >= 3,
                 timeout=60, step=0.2)
        print(output())  # shown when the test fails
        started = STARTED.findall(output())
        assert len(started) == 1, started
        assert len(STANDS_BY.findall(output())) == 3
        leader = int(started[0])
        assert _leader_pid(factory) == leader  # the heartbeat names the leader
        assert http_server.max_active["/down"] == 1  # never two runs of the check at once

        # The leader dies: a standby takes over (gunicorn also starts a fifth worker).
        os.kill(leader, signal.SIGKILL)
        wait_for(lambda: _leader_pid(factory) not in (None, leader), timeout=60, step=0.2)
        new_leader = _leader_pid(factory)
        records = _count(factory, CheckRecord, CheckRecord.check_id == check_id)
        wait_for(lambda: _count(factory, CheckRecord,
                                CheckRecord.check_id == check_id) >= records + 2,
                 timeout=60, step=0.2)
    finally:
        _stop(proc)
    print(output())
    assert [int(pid) for pid in STARTED.findall(output())] == [leader, new_leader]
    assert "Traceback" not in output()
    assert (_count(factory, Ticket, Ticket.check_id == check_id),
            _count(factory, TicketEvent, TicketEvent.kind == "filed")) == (1, 1)


def test_a_standby_scheduler_takes_over_when_the_leader_is_killed(database, session_factory,
                                                                  http_server, tmp_path):
    factory = session_factory
    http_server.set("/down", "fail")
    check_id = _failing_check(factory, http_server.url("/down"), "TWO")
    helpdesk = str(Path(sys.executable).parent / "helpdesk")
    logs = [tmp_path / f"scheduler{n}.log" for n in (1, 2)]
    procs = []
    try:
        for log in logs:
            with log.open("w") as out:
                procs.append(subprocess.Popen([helpdesk, "scheduler"], env=_env(database),
                                              stdout=out, stderr=subprocess.STDOUT))
            # One after the other: the first leads.
            wait_for(lambda: "scheduler: " in log.read_text(), timeout=60, step=0.1)
        first, second = (log.read_text() for log in logs)
        assert "leads" in first and "scheduler started with" in first, first
        assert "stands by" in second and "scheduler started" not in second, second
        wait_for(lambda: _leader_pid(factory) == procs[0].pid, timeout=30, step=0.1)

        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(30)
        wait_for(lambda: _leader_pid(factory) == procs[1].pid, timeout=60, step=0.1)
        wait_for(lambda: _count(factory, Ticket, Ticket.check_id == check_id) == 1,
                 timeout=60, step=0.2)
    finally:
        for proc in procs:
            _stop(proc)
    second = logs[1].read_text()
    print(second)
    assert "leads" in second and "scheduler started with" in second
    assert "Traceback" not in second
    assert _count(factory, Heartbeat) == 1
