"""A health-check sweep of 1,000 loopback targets through the scheduler's own machinery.

This process listens on 1,000 loopback ports (asyncio, one thread): 90% answer HTTP at
once, 10% accept the connection and never answer. A fresh database gets one asset per
target with an ``http`` check (timeout 2 s). A child process (``--child``) builds the
app and its scheduler exactly as ``helpdesk scheduler`` does (``webapp.scheduler.build``),
submits one run of every check to the scheduler's ``checks`` executor (its event loop,
each run going through ``health.CheckRunner``: batched target reads, the registry's
guard and hard timeout, the recorder) and reports when every check has a recorded
result. This process watches the child's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from .server import MemoryWatcher

TARGETS = 1000
HUNG_SHARE = 0.10
TIMEOUT_S = 2.0
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


class Targets:
    """*count* listeners on 127.0.0.1 in a thread: every ``hung_every``-th never answers."""

    def __init__(self, count: int = TARGETS, hung_share: float = HUNG_SHARE) -> None:
        self.count = count
        self.hung_every = round(1 / hung_share) if hung_share else 0
        self.ports: list[int] = []
        self.hung: list[bool] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._held: list[asyncio.StreamWriter] = []

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            writer.write(ANSWER)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _hang(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held.append(writer)  # accepted, never answered, closed at the end

    async def _start(self) -> None:
        for i in range(self.count):
            hung = bool(self.hung_every) and i % self.hung_every == 0
            server = await asyncio.start_server(self._hang if hung else self._answer,
                                                "127.0.0.1", 0, backlog=64)
            self.ports.append(server.sockets[0].getsockname()[1])
            self.hung.append(hung)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> "Targets":
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the targets did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        def close() -> None:
            for writer in self._held:
                writer.close()
            self._loop.stop()
        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)


def prepare(url: str, ports: list[int], timeout: float = TIMEOUT_S) -> None:
    """A fresh database with one ward and one asset + http check per port."""
    from sqlalchemy import insert

    from helpdesk_core.db import make_engine
    from helpdesk_core.models import Asset, AssetCheck, Base, Ward

    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(Ward), [{"id": 1, "code": "P01", "name": "Phường 01",
                                     "address": "", "created_at": now}])
        conn.execute(insert(Asset), [
            {"id": i + 1, "ward_id": 1, "category": "network", "kind": "router",
             "name": f"router {i + 1}", "address": f"http://127.0.0.1:{port}/",
             "criticality": "normal", "active": True, "created_at": now}
            for i, port in enumerate(ports)])
        conn.execute(insert(AssetCheck), [
            {"id": i + 1, "asset_id": i + 1, "check_type": "http", "config": {},
             "interval_seconds": 300, "timeout_seconds": timeout, "enabled": True,
             "state_changes": []}
            for i in range(len(ports))])
    engine.dispose()


def child(url: str, deadline_s: float) -> dict[str, float]:
    """In the scheduler process: one run of every check through the scheduler's pool."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from sqlalchemy import func, select

    from helpdesk_core.models import AssetCheck
    from webapp import create_app, scheduler
    from webapp.extensions import db

    app = create_app({"DATABASE_URL": url, "SCHEDULER": False, "SECRET_KEY": "bench"})
    with app.app_context():
        check_ids = sorted(scheduler.health.schedulable_checks(db.session))
        db.session.rollback()
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
    start_at = dt.datetime.now(dt.timezone.utc)
    for check_id in check_ids:
        sched.add_job(scheduler.run_check_job, "date", run_date=start_at, args=[app, check_id],
                      id=f"{scheduler.CHECK_JOB_PREFIX}{check_id}", executor=scheduler.CHECK_EXECUTOR,
                      misfire_grace_time=None)
    started = time.perf_counter()
    cpu_started = time.process_time()
    sched.resume()
    finished_in_time = done.wait(deadline_s)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    sched.shutdown(wait=False)
    with app.app_context():
        recorded = db.session.scalar(select(func.count()).select_from(AssetCheck)
                                     .where(AssetCheck.last_checked_at.is_not(None)))
        statuses = dict(db.session.execute(select(AssetCheck.last_status, func.count())
                                           .group_by(AssetCheck.last_status)).all())
    return {"checks": len(check_ids), "recorded": recorded, "wall_s": wall, "cpu_s": cpu,
            "batches": scheduler.recorder(app).batches,
            "finished": finished_in_time, "statuses": statuses,
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
    batches: int  # transactions the recorder used for the 1,000 results

    @property
    def ratio(self) -> float:
        return self.wall_s / self.timeout_s


def run(url: str | None = None, targets: int = TARGETS, timeout: float = TIMEOUT_S, hung_share: float = HUNG_SHARE,
        env: dict[str, str] | None = None) -> SweepResult:
    """The whole sweep: listeners here, the scheduler in a child process."""
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp(prefix="hd_sweep_")
        url = f"sqlite:///{tmp}/sweep.db"
    with Targets(targets, hung_share) as listeners:
        prepare(url, listeners.ports, timeout)
        deadline = max(60.0, targets * timeout / 4)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.sweep", "--child", url, "--deadline", str(deadline)],
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, HELPDESK_SCHEDULER="false", **(env or {})))
        with MemoryWatcher(process.pid) as memory:
            out, _ = process.communicate(timeout=deadline + 120)
        if process.returncode != 0:
            raise RuntimeError(f"the sweep's scheduler process failed ({process.returncode})")
        data = json.loads(out.strip().splitlines()[-1])
        hung = sum(listeners.hung)
    if tmp:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return SweepResult(targets, hung, timeout, data["wall_s"], data["recorded"],
                       memory.peak_kb / 1024, data["pool"], data["statuses"],
                       data["cpu_s"], data["batches"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", metavar="URL")
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--targets", type=int, default=TARGETS)
    parser.add_argument("--url", help="database (default: a fresh SQLite file)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.deadline)))
        return
    print(run(args.url, targets=args.targets))


if __name__ == "__main__":
    main()
