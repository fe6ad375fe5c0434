"""APScheduler: the one place that schedules background work.

``helpdesk run`` embeds it for a single machine; ``helpdesk scheduler`` runs it alone
for production (then web workers never schedule anything). Every job calls the same
service layer as the web pages.

Health checks: one job per enabled asset check, at the check's own interval with a
little jitter, misfires coalesced, never two runs of one job at once. The jobs are
coroutines on an event loop of their own (:class:`LoopExecutor`), run by a
:class:`~helpdesk_core.services.health.CheckRunner`: targets are read a batch per query,
network checks written as coroutines (``run_async``, like ``http``) wait on the loop
without a thread, blocking checks run in a bounded pool (``HEALTH_MAX_WORKERS``), and
results are recorded a batch per transaction. Each run has the registry's hard timeout,
so a hung device never stalls the others. A reconcile job adds, removes and reschedules
check jobs as checks change in the database. Of all the processes that start a scheduler
on one database (web workers with ``HELPDESK_SCHEDULER``, ``helpdesk scheduler``), one
leads and runs the jobs; the others stand by (:mod:`.election`). Should two ever run a
check at once (a ``helpdesk check`` meanwhile, a leader that has not yet noticed it lost
its lock), on PostgreSQL the per-check advisory locks
(:class:`~helpdesk_core.services.health.RunLocks`) turn the second away, and the
database's unique index keeps one open ticket per check.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import gc
import logging
import random
import threading
from typing import Any, Iterator

from apscheduler.executors.base import BaseExecutor, run_coroutine_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.util import iscoroutinefunction_partial
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from helpdesk_core import http
from helpdesk_core.services import health, heartbeat

from . import election
from .extensions import db
from .open_files import check_slots

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
CHECK_JOB_PREFIX = "check:"
CHECK_EXECUTOR = "checks"
RECORDER_KEY = "health_recorder"
RUNNER_KEY = "health_runner"
ELECTION_KEY = "scheduler_election"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def beat(app: Flask) -> None:
    """Tell /healthz the scheduler is alive, and which process leads (``host:pid``)."""
    with app.app_context():
        heartbeat.beat(db.session, heartbeat.SCHEDULER, _now(),
                       detail=election.process_name())
        db.session.commit()


def health_policy(app: Flask) -> health.HealthPolicy:
    """The health rules from the app's ``HEALTH_*`` settings."""
    config = app.config
    return health.HealthPolicy(
        event_interval=dt.timedelta(minutes=float(config["HEALTH_EVENT_MINUTES"])),
        flap_high=float(config["HEALTH_FLAP_HIGH_PERCENT"]),
        flap_low=float(config["HEALTH_FLAP_LOW_PERCENT"]),
        retention_days=int(config["HEALTH_RETENTION_DAYS"]))


def _session_scope(app: Flask) -> Any:
    """A session per batch for the health-check helpers' threads (an app context each)."""
    @contextlib.contextmanager
    def session_scope() -> Iterator[Any]:
        with app.app_context():
            yield db.session
    return session_scope


def recorder(app: Flask) -> health.Recorder:
    """The app's health-result recorder: the check jobs' results, a few per transaction."""
    if RECORDER_KEY not in app.extensions:
        app.extensions[RECORDER_KEY] = health.Recorder(
            _session_scope(app), app.extensions["helpdesk"], policy=lambda: health_policy(app))
    return app.extensions[RECORDER_KEY]


def runner(app: Flask) -> health.CheckRunner:
    """The app's runner of scheduled checks (its reader, recorder and blocking pool)."""
    if RUNNER_KEY not in app.extensions:
        app.extensions[RUNNER_KEY] = health.CheckRunner(
            _session_scope(app), app.extensions["helpdesk"], recorder(app),
            max_workers=int(app.config["HEALTH_MAX_WORKERS"]),
            max_concurrent=check_slots(int(app.config["HEALTH_MAX_CONCURRENT"])))
    return app.extensions[RUNNER_KEY]


async def run_check_job(app: Flask, check_id: int) -> health.Outcome | None:
    """One scheduled run of one check; anything that goes wrong is logged, not raised."""
    try:
        outcome = await runner(app).run(check_id)
    except Exception:
        log.exception("health check %s could not be recorded", check_id)
        return None
    if outcome is not None:
        # What a ticket heard (filed, resolved, ...) is news; a routine result is not: a
        # city's 5,000 checks every 5 minutes would write 1.4 million lines a day.
        log.log(logging.INFO if outcome.action else logging.DEBUG, "check %s: %s %s%s",
                check_id, outcome.status, outcome.message,
                f" ({outcome.action})" if outcome.action else "")
    return outcome


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The checks' event loop: uvloop's (libuv) where it is installed, as it is with the
    package: at 5,000 devices a sweep spends its CPU in the loop and its sockets, which
    uvloop runs in C. asyncio's own loop otherwise (the checks need nothing more)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoopExecutor(BaseExecutor):
    """An APScheduler executor for coroutine jobs: an asyncio event loop in a thread of its
    own. (APScheduler's ``AsyncIOExecutor`` needs an ``AsyncIOScheduler`` that owns the
    loop; this one serves the ``BackgroundScheduler`` the web app and the CLI use.)

    Jobs submitted together (a sweep's thousands of due checks) reach the loop in one
    hand-over and each runs as a task of it, with no thread-safe future per job: that
    hand-over was a tenth of the loop's CPU in a sweep of 5,000 devices.
    ``shutdown(wait=True)`` lets the running jobs finish; ``wait=False`` cancels them.
    The loop keeps one HTTP connector for all its checks' requests (:func:`http.keep_connector`).
    """

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = new_event_loop()
        self._arrived: list[tuple[Any, list[dt.datetime]]] = []  # under self._lock
        self._running: set[asyncio.Task] = set()  # the loop's own
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"{alias}-loop",
                                        daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(http.keep_connector(), self._loop).result()

    def shutdown(self, wait: bool = True) -> None:
        if not self._thread.is_alive():  # stopped already (HelpdeskScheduler.shutdown)
            return

        async def finish() -> None:
            running = list(self._running)
            if not wait:
                for task in running:
                    task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await http.drop_connector()

        with contextlib.suppress(Exception):  # a loop stopped meanwhile has nothing to do
            asyncio.run_coroutine_threadsafe(finish(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _do_submit_job(self, job: Any, run_times: list[dt.datetime]) -> None:
        if not iscoroutinefunction_partial(job.func):
            raise TypeError(f"{job} is not a coroutine function; use another executor")
        with self._lock:
            self._arrived.append((job, run_times))
            first = len(self._arrived) == 1
        if first:  # one wake-up of the loop for whatever arrives until it takes them
            self._loop.call_soon_threadsafe(self._start_arrived)

    def _start_arrived(self) -> None:
        """On the loop: a task for each job that has arrived."""
        with self._lock:
            arrived, self._arrived = self._arrived, []
        for job, run_times in arrived:
            task = self._loop.create_task(run_coroutine_job(
                job, job._jobstore_alias, run_times, self._logger.name))
            self._running.add(task)
            task.add_done_callback(functools.partial(self._finished, job.id))

    def _finished(self, job_id: str, task: asyncio.Task) -> None:
        self._running.discard(task)
        if task.cancelled():
            self._run_job_error(job_id, asyncio.CancelledError())
            return
        error = task.exception()
        if error is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, task.result())


def _check_trigger(app: Flask, interval: int) -> IntervalTrigger:
    jitter = min(float(app.config["HEALTH_JITTER_SECONDS"]), interval * 0.1)
    return IntervalTrigger(seconds=interval, jitter=jitter or None,
                           timezone=app.config["TIMEZONE"])


def reconcile(scheduler: BackgroundScheduler, app: Flask) -> tuple[int, int, int]:
    """Make the check jobs match the enabled checks in the database.

    :return: how many jobs were added, rescheduled and removed.
    """
    with app.app_context():
        wanted = health.schedulable_checks(db.session)
        db.session.rollback()
    existing = {job.id: job for job in scheduler.get_jobs()
                if job.id.startswith(CHECK_JOB_PREFIX)}
    added = rescheduled = removed = 0
    for check_id, interval in wanted.items():
        job_id = f"{CHECK_JOB_PREFIX}{check_id}"
        job = existing.pop(job_id, None)
        if job is None:
            # Spread the first runs so a restart does not poll every device at once.
            first = _now() + dt.timedelta(seconds=random.uniform(
                0, min(interval, float(app.config["HEALTH_JITTER_SECONDS"]) or 1)))
            scheduler.add_job(run_check_job, _check_trigger(app, interval), args=[app, check_id],
                              id=job_id, name=f"health check {check_id}",
                              executor=CHECK_EXECUTOR, next_run_time=first,
                              replace_existing=True)
            added += 1
        elif int(job.trigger.interval.total_seconds()) != interval:
            job.reschedule(_check_trigger(app, interval))
            rescheduled += 1
    for job_id in existing:
        scheduler.remove_job(job_id)
        removed += 1
    if added or rescheduled or removed:
        log.info("health check jobs: %d added, %d rescheduled, %d removed",
                 added, rescheduled, removed)
    return added, rescheduled, removed


def _reconcile_job(scheduler: BackgroundScheduler, app: Flask) -> None:
    try:
        reconcile(scheduler, app)
    except Exception:
        log.exception("could not reconcile health check jobs")


def prune(app: Flask) -> int:
    """Delete old check results (batches; the latest per check stays)."""
    with app.app_context():
        return health.prune_records(db.session, _now(),
                                    keep_days=int(app.config["HEALTH_RETENTION_DAYS"]))


def add_health_jobs(scheduler: BackgroundScheduler, app: Flask) -> None:
    """The reconcile job (which adds one job per check) and the retention job."""
    scheduler.add_job(_reconcile_job, "interval",
                      seconds=int(app.config["HEALTH_RECONCILE_SECONDS"]),
                      args=[scheduler, app], id="health_reconcile", next_run_time=_now())
    scheduler.add_job(prune, "interval", seconds=int(app.config["HEALTH_PRUNE_SECONDS"]),
                      args=[app], id="health_prune")


def add_lifecycle_jobs(scheduler: BackgroundScheduler, app: Flask) -> None:
    """The ticket lifecycle's jobs: the SLA sweep every minute, auto-close every 30 minutes.

    Each run commits through ``tickets.commit`` (plugins then hear the events); a failure
    is logged and rolled back, and the next run tries again.
    """
    from helpdesk_core.services import sla_sweep, tickets

    def run(name: str, job) -> None:
        with app.app_context():
            try:
                result = job(db.session, app.extensions["helpdesk"], _now())
                tickets.commit(db.session)
                log.debug("%s: %s", name, result)
            except Exception:
                tickets.rollback(db.session)
                log.exception("%s failed", name)

    def sweep() -> None:
        run("SLA sweep", sla_sweep.sweep)

    def auto_close() -> None:
        days = int(app.config.get("AUTO_CLOSE_WORKING_DAYS", 3))
        run("auto-close", lambda session, registry, now: len(
            tickets.auto_close(session, registry, now, working_days=days)))

    scheduler.add_job(sweep, "interval", minutes=1, id="sla_sweep")
    scheduler.add_job(auto_close, "interval", minutes=30, id="auto_close")


def add_privacy_jobs(scheduler: BackgroundScheduler, app: Flask) -> None:
    """Personal data: prune the access log, purge closed tickets' citizen data.

    Both run every ``PRIVACY_JOB_MINUTES``. A bad ``PERSONAL_DATA_PURGE_DAYS`` stops the
    scheduler from starting (ValueError naming the bad part) rather than purge wrongly.
    """
    from helpdesk_core.services import access_log, purge, tickets

    policy = purge.parse_policy(app.config.get("PERSONAL_DATA_PURGE_DAYS"))
    minutes = int(app.config.get("PRIVACY_JOB_MINUTES", 60))

    def prune_access_log() -> int:
        with app.app_context():
            try:
                deleted = access_log.prune(db.session, _now(),
                                           int(app.config["ACCESS_LOG_RETENTION_DAYS"]))
                if deleted:
                    log.info("access log: %d records older than %s days deleted", deleted,
                             app.config["ACCESS_LOG_RETENTION_DAYS"])
                return deleted
            except Exception:
                tickets.rollback(db.session)
                log.exception("access log pruning failed")
                return 0

    def purge_personal_data() -> purge.PurgeResult | None:
        with app.app_context():
            try:
                return purge.purge_personal_data(db.session, app.extensions["helpdesk"],
                                                 _now(), policy,
                                                 app.config["UPLOAD_FOLDER"])
            except Exception:
                tickets.rollback(db.session)
                log.exception("personal data purge failed")
                return None

    scheduler.add_job(prune_access_log, "interval", minutes=minutes, id="access_log_prune")
    if policy.enabled:
        scheduler.add_job(purge_personal_data, "interval", minutes=minutes,
                          id="personal_data_purge")


def monthly_report(app: Flask) -> Any:
    """Make last month's report if it is due (from the city's first working day of the
    month) and not stored yet; the same service as the dashboard's button. Returns the
    report made now, or None."""
    from helpdesk_core.services import monthly_store, tickets

    from .city import report_options
    with app.app_context():
        try:
            row = monthly_store.run_due(db.session, report_options(), _now())
            sent = (monthly_store.deliver_report(db.session, app.extensions["helpdesk"], row,
                                                 _now()) if row is not None else [])
            db.session.commit()
            if row is not None:
                log.info("monthly report of %s made (%d notifications queued)",
                         f"{row.month:%m/%Y}", len(sent))
            return row
        except Exception:
            tickets.rollback(db.session)
            log.exception("monthly report failed")
            return None


def add_report_jobs(scheduler: BackgroundScheduler, app: Flask) -> None:
    """The monthly report: checked every morning at 06:00 and every hour after (idempotent:
    a stored month is not made again)."""
    scheduler.add_job(monthly_report, "cron", hour="6-18", minute=5, args=[app],
                      id="monthly_report")


# The collector's youngest generation is collected after this many new objects (Python's
# default is 700). A sweep keeps thousands of checks in flight (tasks, sockets, futures):
# at the default a third of the scheduler's CPU went to collections that freed little.
GC_YOUNG_THRESHOLD = 10_000


def settle_gc() -> None:
    """Garbage collection for a scheduler process that has started up: what is alive now
    (modules, the app, its plugins) lives as long as the process, so full collections
    stop walking it (``gc.freeze``), and the young generation is collected less often.
    Only the ``helpdesk scheduler`` process calls it: it changes the whole process."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


class HelpdeskScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, whose ``shutdown(wait=True)`` cannot hang.

    APScheduler waits for the running jobs while it holds the job stores' lock, and a
    running job that asks the scheduler for its jobs (``reconcile``) then waits for that
    lock: neither ever ends (a ``helpdesk scheduler`` that did not stop on SIGTERM). Here
    the scheduler pauses, lets a round under way end, and waits for the running jobs
    first, without the lock; then APScheduler's shutdown finds them done.
    """

    def shutdown(self, wait: bool = True) -> None:
        if wait and self.running:
            self.pause()  # no new round submits to the executors stopped below
            self.get_jobs()  # returns once a round under way has let go of the job stores
            for executor in list(self._executors.values()):
                executor.shutdown(wait=True)
        super().shutdown(wait)


def build(app: Flask) -> BackgroundScheduler:
    """A scheduler with every periodic job of the helpdesk, not yet started."""
    scheduler = HelpdeskScheduler(
        timezone=app.config["TIMEZONE"],
        executors={"default": ThreadPoolExecutor(4),
                   CHECK_EXECUTOR: LoopExecutor()},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 120})
    scheduler.add_job(beat, "interval", seconds=HEARTBEAT_SECONDS, args=[app], id="heartbeat",
                      next_run_time=_now())
    add_health_jobs(scheduler, app)
    add_lifecycle_jobs(scheduler, app)
    add_privacy_jobs(scheduler, app)
    add_report_jobs(scheduler, app)
    from . import notify
    notify.add_jobs(scheduler, app)
    return scheduler


def start(app: Flask) -> election.Candidate:
    """Stand for scheduler leader in this process; the jobs run here only while it leads.

    Exactly one process per database leads (:mod:`.election`); the others stand by and
    take over when it dies. While this process leads, its running scheduler is
    ``app.extensions["scheduler"]``.
    """
    if ELECTION_KEY in app.extensions:
        return app.extensions[ELECTION_KEY]

    def elected() -> None:
        scheduler = build(app)
        scheduler.start()
        app.extensions["scheduler"] = scheduler
        log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))

    def deposed(graceful: bool) -> None:
        scheduler = app.extensions.pop("scheduler", None)
        if scheduler is not None:
            # Pausing stops new rounds; removing the jobs waits (on the job stores' lock)
            # for a round already under way, so nothing is submitted to a shut executor.
            scheduler.pause()
            scheduler.remove_all_jobs()
            scheduler.shutdown(wait=graceful)
            log.info("scheduler stopped")

    candidate = election.Candidate(
        election.lock_for(app.config["SQLALCHEMY_DATABASE_URI"]), elected, deposed,
        interval=float(app.config["SCHEDULER_ELECTION_SECONDS"]))
    app.extensions[ELECTION_KEY] = candidate
    return candidate.start()
