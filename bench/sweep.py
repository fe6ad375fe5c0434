"""A health-check sweep of 5,000 loopback devices through the scheduler's own machinery,
twice (a new database's first, then a scheduler starting again with the checks' last
results known), and a scripted outage: how long from a device failing to its ticket, and
back.

This process serves the devices (bench/peers.py): SNMP printers 40% (snmpsim), IPP
printers 20%, eSCL scanners 10%, HTTP services 20%, TCP ports 10%; 10% of all devices
hang (accept and never answer; for SNMP a port nobody reads). A fresh database gets one
asset and check per device (timeout 2 s). A child process (``--child``) builds the app
and its scheduler exactly as ``helpdesk scheduler`` does (``webapp.scheduler.settle_gc``
and ``build``),
submits one run of every check to the scheduler's ``checks`` executor (its event loop,
each run going through ``health.CheckRunner``: batched target reads, the registry's
guard and hard timeout, the recorder and the ticket rules) and reports when every check
has a recorded result. This process watches the child's memory.

The outage (``outage``): 20 HTTP devices checked every 10 s (thresholds 3 and 2) under
the scheduler as it runs in production (its own jobs, jitter off); once all have
results, 10 of them answer 500; each one's detection delay is from that moment to its
ticket, its recovery delay from their coming back to the ticket resolved.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from .peers import Devices
from .server import MemoryWatcher
from helpdesk_core.db import create_schema

TARGETS = 5000
HUNG_SHARE = 0.10
TIMEOUT_S = 2.0
MIX = {"snmp_printer": 0.40, "ipp": 0.20, "escl": 0.10, "http": 0.20, "tcp": 0.10}
CATEGORIES = {"snmp_printer": "printer", "ipp": "printer", "escl": "printer",
              "http": "network", "tcp": "network"}


def prepare(url: str, devices, timeout: float = TIMEOUT_S, interval: int = 300,
            failure_threshold: int = 3, recovery_threshold: int = 2) -> None:
    """A fresh database with one ward and one asset + check per device."""
    from sqlalchemy import insert

    from helpdesk_core.db import make_engine
    from helpdesk_core.models import Asset, AssetCheck, Base, Ward

    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(Ward), [{"id": 1, "code": "P01", "name": "Phường 01",
                                     "address": "", "created_at": now}])
        conn.execute(insert(Asset), [
            {"id": i + 1, "ward_id": 1, "category": CATEGORIES[d.kind], "kind": d.kind,
             "name": f"{d.kind} {i + 1}", "address": d.address,
             "criticality": "normal", "active": True, "created_at": now}
            for i, d in enumerate(devices)])
        conn.execute(insert(AssetCheck), [
            {"id": i + 1, "asset_id": i + 1, "check_type": d.kind, "config": d.config,
             "interval_seconds": interval, "timeout_seconds": timeout, "enabled": True,
             "failure_threshold": failure_threshold,
             "recovery_threshold": recovery_threshold}
            for i, d in enumerate(devices)])
    engine.dispose()


def child(url: str, deadline_s: float) -> dict[str, float]:
    """In the scheduler process: one run of every check through the scheduler's pool."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from sqlalchemy import func, select, update

    from helpdesk_core.models import AssetCheck
    from webapp import create_app, scheduler
    from webapp.extensions import db

    app = create_app({"DATABASE_URL": url, "SCHEDULER": False, "SECRET_KEY": "bench"})
    with app.app_context():
        check_ids = sorted(scheduler.health.schedulable_checks(db.session))
        # A running scheduler has loaded its checks' code: one unrecorded run of the first
        # check of each kind, before the clock starts.
        first_of_kind = dict(db.session.execute(
            select(AssetCheck.check_type, func.min(AssetCheck.id))
            .group_by(AssetCheck.check_type)).all())
        for check_id in first_of_kind.values():
            scheduler.health.check_now(db.session, app.extensions["helpdesk"], check_id,
                                       record=False)
        db.session.rollback()
    scheduler.settle_gc()  # as `helpdesk scheduler` does once the app is up
    sched = scheduler.build(app)
    for job in sched.get_jobs():  # only the checks: no heartbeat, reconcile or SLA jobs
        sched.remove_job(job.id)
    done = threading.Event()
    finished = [0]
    lock = threading.Lock()

    def listener(event) -> None:
        if event.job_id.startswith(scheduler.CHECK_JOB_PREFIX):
            with lock:
                finished[0] += 1
                if finished[0] >= len(check_ids):
                    done.set()

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    sched.start(paused=True)

    def sweep() -> tuple[float, float, bool]:
        """One run of every check, all due at once: (wall s, CPU s, all in time)."""
        done.clear()
        finished[0] = 0
        sched.pause()
        start_at = dt.datetime.now(dt.timezone.utc)
        for check_id in check_ids:
            sched.add_job(scheduler.run_check_job, "date", run_date=start_at,
                          args=[app, check_id], id=f"{scheduler.CHECK_JOB_PREFIX}{check_id}",
                          executor=scheduler.CHECK_EXECUTOR, misfire_grace_time=None)
        started = time.perf_counter()
        cpu_started = time.process_time()
        sched.resume()
        in_time = done.wait(deadline_s)
        return time.perf_counter() - started, time.process_time() - cpu_started, in_time

    # The first sweep of a new database: no check has run yet.
    wall, cpu, finished_in_time = sweep()
    # A scheduler starting again after a while (a restart, an upgrade): every check due at
    # once, with its last results known; their last runs are moved an hour back, or
    # they would be skipped as run by another process moments ago.
    with app.app_context():
        db.session.execute(update(AssetCheck).values(
            last_checked_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))
        db.session.commit()
    warm_wall, warm_cpu, warm_in_time = sweep()
    sched.shutdown(wait=False)
    with app.app_context():
        recorded = db.session.scalar(select(func.count()).select_from(AssetCheck)
                                     .where(AssetCheck.last_checked_at.is_not(None)))
        statuses = dict(db.session.execute(select(AssetCheck.last_status, func.count())
                                           .group_by(AssetCheck.last_status)).all())
    return {"checks": len(check_ids), "recorded": recorded, "wall_s": wall, "cpu_s": cpu,
            "warm_wall_s": warm_wall, "warm_cpu_s": warm_cpu,
            "batches": scheduler.recorder(app).batches,
            "finished": finished_in_time and warm_in_time, "statuses": statuses,
            "pool": int(app.config["HEALTH_MAX_CONCURRENT"])}


@dataclass
class SweepResult:
    targets: int
    hung: int
    timeout_s: float
    wall_s: float
    recorded: int
    peak_rss_mb: float
    pool: int
    statuses: dict[str, int]
    cpu_s: float  # CPU time of the scheduler process during the sweep
    batches: int  # transactions the recorder used for the results
    peers_cpu_s: float = 0.0  # CPU time of the devices (this process) while the child ran
    # The same sweep again with the checks' last results known (a scheduler restarting)
    warm_wall_s: float = 0.0
    warm_cpu_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.wall_s / self.timeout_s

    @property
    def warm_ratio(self) -> float:
        return self.warm_wall_s / self.timeout_s


def run(url: str | None = None, targets: int = TARGETS, timeout: float = TIMEOUT_S,
        hung_share: float = HUNG_SHARE, env: dict[str, str] | None = None,
        mix: dict[str, float] | None = None) -> SweepResult:
    """The whole sweep: devices here, the scheduler in a child process."""
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp(prefix="hd_sweep_")
        url = f"sqlite:///{tmp}/sweep.db"
    with Devices(mix or MIX, targets, hung_share) as devices:
        prepare(url, devices.devices, timeout)
        deadline = max(60.0, targets * timeout / 4)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.sweep", "--child", url, "--deadline", str(deadline)],
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, HELPDESK_SCHEDULER="false", **(env or {})))
        peers_cpu = time.process_time()
        with MemoryWatcher(process.pid) as memory:
            out, _ = process.communicate(timeout=deadline + 120)
        peers_cpu = time.process_time() - peers_cpu
        if process.returncode != 0:
            raise RuntimeError(f"the sweep's scheduler process failed ({process.returncode})")
        data = json.loads(out.strip().splitlines()[-1])
        hung = sum(d.hung for d in devices.devices)
    if tmp:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return SweepResult(targets, hung, timeout, data["wall_s"], data["recorded"],
                       memory.peak_kb / 1024, data["pool"], data["statuses"],
                       data["cpu_s"], data["batches"], peers_cpu, data["warm_wall_s"],
                       data["warm_cpu_s"])


# --- a scripted outage: detection and recovery delays -------------------------------

OUTAGE_DEVICES, OUTAGE_FAILING, OUTAGE_INTERVAL = 20, 10, 10


def outage_child(url: str, seconds: float) -> None:
    """In the scheduler process: the scheduler as in production, for *seconds*."""
    from webapp import create_app, scheduler

    app = create_app({"DATABASE_URL": url, "SCHEDULER": False, "SECRET_KEY": "bench",
                      "HEALTH_JITTER_SECONDS": 0})
    sched = scheduler.build(app)
    sched.start()
    time.sleep(seconds)
    sched.shutdown(wait=False)


@dataclass
class OutageResult:
    interval_s: int
    failing: int
    detection_s: list[float]   # failure start -> ticket filed, per failing device
    recovery_s: list[float]    # service back -> ticket resolved, per device

    @staticmethod
    def _stats(values: list[float]) -> str:
        if not values:
            return "none"
        ordered = sorted(values)
        return (f"median {ordered[len(ordered) // 2]:.1f} s, max {ordered[-1]:.1f} s "
                f"({len(values)} devices)")

    def __str__(self) -> str:
        return (f"outage of {self.failing} devices, checks every {self.interval_s} s, "
                f"thresholds 3/2: detection {self._stats(self.detection_s)}; "
                f"recovery {self._stats(self.recovery_s)}")


def outage(url: str | None = None) -> OutageResult:
    """Script an outage of HTTP devices under a running scheduler; measure the delays."""
    from sqlalchemy import select

    from helpdesk_core.db import make_engine
    from helpdesk_core.models import AssetCheck, Ticket

    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp(prefix="hd_outage_")
        url = f"sqlite:///{tmp}/outage.db"
    failing = set(range(OUTAGE_FAILING))
    with Devices({"http": 1.0}, OUTAGE_DEVICES, 0.0) as devices:
        prepare(url, devices.devices, TIMEOUT_S, interval=OUTAGE_INTERVAL)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.sweep", "--outage-child", url, "--deadline", "240"],
            env=dict(os.environ, HELPDESK_SCHEDULER="false"))
        engine = make_engine(url)
        try:
            def poll(what, until: float):
                while time.monotonic() < until:
                    with engine.connect() as conn:
                        got = what(conn)
                    if got:
                        return got
                    time.sleep(0.2)
                raise TimeoutError("the outage bench waited too long")

            poll(lambda c: c.scalar(select(AssetCheck.id).where(
                AssetCheck.last_checked_at.is_(None)).limit(1)) is None,
                time.monotonic() + 60)
            time.sleep(OUTAGE_INTERVAL)  # a steady state: every check has run twice
            down_at = dt.datetime.now(dt.timezone.utc)
            devices.set_failing(failing)
            asset_ids = [i + 1 for i in failing]
            tickets = poll(lambda c: (rows := c.execute(select(
                Ticket.asset_id, Ticket.created_at).where(Ticket.asset_id.in_(asset_ids))).all())
                and len(rows) == len(asset_ids) and rows, time.monotonic() + 120)
            detection = [(_utc(created) - down_at).total_seconds() for _, created in tickets]
            up_at = dt.datetime.now(dt.timezone.utc)
            devices.set_failing(set())
            resolved = poll(lambda c: (rows := c.execute(select(
                Ticket.asset_id, Ticket.resolved_at).where(
                Ticket.asset_id.in_(asset_ids), Ticket.resolved_at.is_not(None))).all())
                and len(rows) == len(asset_ids) and rows, time.monotonic() + 120)
            recovery = [(_utc(when) - up_at).total_seconds() for _, when in resolved]
        finally:
            engine.dispose()
            process.terminate()
            process.wait(30)
    if tmp:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return OutageResult(OUTAGE_INTERVAL, len(failing), detection, recovery)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", metavar="URL")
    parser.add_argument("--outage-child", metavar="URL")
    parser.add_argument("--outage", action="store_true", help="also script an outage")
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--targets", type=int, default=TARGETS)
    parser.add_argument("--url", help="database (default: a fresh SQLite file)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.deadline)))
        return
    if args.outage_child:
        outage_child(args.outage_child, args.deadline)
        return
    print(run(args.url, targets=args.targets))
    if args.outage:
        print(outage(args.url))


if __name__ == "__main__":
    main()
