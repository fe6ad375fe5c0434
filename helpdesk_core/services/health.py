"""Health checks: run one outside any transaction, record it, raise and resolve tickets.

A run has two halves. :func:`run_check` calls the plugin (through the registry's guard
with its hard timeout) and touches no database. :func:`record_result` then stores the
result in one short transaction: the latest state on the :class:`AssetCheck`, one
:class:`CheckRecord`, and the ticket rules:

- ``failure_threshold`` bad results in a row (failure or error) file one ticket, priority
  from the asset's criticality; later failures add ``health`` events at a bounded rate;
- a warning (toner low, certificate expiring) files one P4 ticket, once;
- ``recovery_threshold`` OK results in a row add a ``recovery`` event and resolve the
  ticket as the system, unless a person has worked on it (then it is left to them);
- too many up/down changes in a window (flapping) file ONE ticket marked ``flapping``;
- the partial unique index ``uq_ticket_open_check`` keeps one open automatic ticket per
  check even when two processes file at once.

:func:`record_results` does the same for many results in one transaction; the
scheduler's :class:`Recorder` thread feeds it the results of concurrent runs, so a sweep
of 1,000 checks takes tens of commits, not 1,000.

:func:`check_now` does both halves for ``helpdesk check`` and the web's "check now";
:class:`CheckRunner` does them for the scheduler, many runs at once on an event loop.
Both hold a PostgreSQL advisory lock per check, so several processes never run one
check twice at the same time. :func:`prune_records` keeps the history bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import queue
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator, Mapping, Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from .. import i18n
from ..db import reset_reads_only, set_reads_only
from ..i18n import N_
from ..contracts import CheckResult, CheckStatus, CheckTarget
from ..errors import HelpdeskError, NotFound
from ..models import (Asset, AssetCheck, CheckRecord, Criticality, Source, Status, Ticket,
                      TicketEvent, User, Ward)
from ..plugins import PluginRegistry
from ..privacy import mask_in, mask_personal_data
from . import incidents, scope, tickets

log = logging.getLogger(__name__)

PRIORITY_BY_CRITICALITY = {Criticality.CRITICAL: 1, Criticality.HIGH: 2,
                           Criticality.NORMAL: 3, Criticality.LOW: 4}
WARNING_PRIORITY = 4
CRITICALITY_LABELS = {Criticality.CRITICAL: N_("critical"), Criticality.HIGH: N_("high"),
                      Criticality.NORMAL: N_("normal"), Criticality.LOW: N_("low")}
# First argument of the two-key advisory lock: "HDCK", so our locks are recognisable.
ADVISORY_LOCK_CLASS = 0x4844434B
MESSAGE_MAX = 1000


@dataclass(frozen=True)
class HealthPolicy:
    """The tunable rules (the web app fills them from ``HEALTH_*`` settings).

    :param event_interval: at most one ``health`` event per open ticket per this period,
        unless the message changes.
    :param flap_changes: more than this many up/down changes ...
    :param flap_window: ... within this period is flapping.
    :param retention_days: check records older than this are pruned (the latest per
        check is always kept).
    """

    event_interval: dt.timedelta = dt.timedelta(minutes=30)
    flap_changes: int = 4
    flap_window: dt.timedelta = dt.timedelta(minutes=60)
    retention_days: int = 14


DEFAULT_POLICY = HealthPolicy()


@dataclass
class Outcome:
    """What one recorded result did. ``action``: filed, flapping, event, recovered,
    resolved, or None (nothing about tickets)."""

    check_id: int
    status: str
    message: str
    latency_ms: float | None
    checked_at: dt.datetime | None = None
    ticket_id: int | None = None
    action: str | None = None
    recorded: bool = True
    values: Mapping[str, Any] = field(default_factory=dict)


# --- running ------------------------------------------------------------------------

def target_of(row: Any) -> CheckTarget:
    """What the plugin gets: the asset's address and name, the check's config and timeout
    (*row* has ``address``, ``name``, ``config`` and ``timeout_seconds``)."""
    return CheckTarget(address=row.address, config=dict(row.config or {}),
                       timeout=float(row.timeout_seconds or 5.0), name=row.name)


def run_check(registry: PluginRegistry, check_type: str,
              target: CheckTarget) -> tuple[CheckResult, float]:
    """Run one check with the registry's guard and hard timeout; never raises.

    Call it outside any database transaction: a slow device must not hold locks.
    """
    try:
        return registry.run_check(check_type, target)
    except Exception as exc:  # the registry guards plugins; this guards the guard
        log.exception("health check %s crashed", check_type)
        return CheckResult(CheckStatus.ERROR,
                           i18n.gettext("The check failed: %(error)s", error=repr(exc))), 0.0


# --- recording ----------------------------------------------------------------------

def _is_bad(status: str | None) -> bool:
    return status in (CheckStatus.FAILURE.value, CheckStatus.ERROR.value)


def open_ticket_for(session: Session, check_id: int) -> Ticket | None:
    """The open automatic ticket of a check, if any (at most one, by the unique index)."""
    return session.scalar(select(Ticket).where(Ticket.check_id == check_id,
                                               Ticket.status.in_(Status.OPEN)))


def _last_event(session: Session, ticket: Ticket, kinds: tuple[str, ...]) -> TicketEvent | None:
    return session.scalar(select(TicketEvent)
                          .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(kinds))
                          .order_by(TicketEvent.id.desc()).limit(1))


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _check_label(registry: PluginRegistry, check: AssetCheck) -> str:
    check_type = registry.check_types.get(check.check_type)
    return str(check_type.label) if check_type is not None else check.check_type


def _track_changes(check: AssetCheck, status: str, now: dt.datetime,
                   policy: HealthPolicy) -> bool:
    """Note an up/down change; return True if the check is flapping now."""
    changes = []
    for stamp in check.state_changes or []:
        try:
            when = dt.datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is not None and now - when <= policy.flap_window:
            changes.append(when)
    if check.last_status is not None and _is_bad(check.last_status) != _is_bad(status):
        changes.append(now)
    changes = sorted(changes)[-(policy.flap_changes + 5):]
    check.state_changes = [when.isoformat() for when in changes]
    return len(changes) > policy.flap_changes


@dataclass(frozen=True)
class PendingResult:
    """One finished run, waiting to be recorded."""

    check_id: int
    result: CheckResult
    latency_ms: float | None
    when: dt.datetime


def record_result(session: Session, registry: PluginRegistry, check_id: int,
                  result: CheckResult, latency_ms: float | None, now: dt.datetime,
                  policy: HealthPolicy = DEFAULT_POLICY) -> Outcome:
    """Store one result of check *check_id* and apply the ticket rules (caller commits).

    :raises NotFound: the check no longer exists.
    """
    [outcome] = record_results(session, registry,
                               [PendingResult(check_id, result, latency_ms, now)], policy)
    if outcome is None:
        raise NotFound("Health check %(id)s not found.", id=check_id)
    return outcome


def record_results(session: Session, registry: PluginRegistry,
                   pending: Sequence[PendingResult],
                   policy: HealthPolicy = DEFAULT_POLICY) -> list[Outcome | None]:
    """Store many results and apply the ticket rules to each, in order (caller commits).

    A fixed number of queries for the whole batch, besides what tickets need: one loads
    the checks with their assets and wards, one their open tickets. The check rows are
    locked (``FOR UPDATE`` on PostgreSQL, in id order so two batches cannot deadlock), so
    concurrent recorders of a check queue up; the unique index catches a ticket filed by
    another process. The outcome is None for a check that no longer exists.
    """
    ids = sorted({item.check_id for item in pending})
    checks = {check.id: check for check in session.scalars(
        select(AssetCheck).where(AssetCheck.id.in_(ids)).order_by(AssetCheck.id)
        .options(joinedload(AssetCheck.asset).joinedload(Asset.ward))
        .with_for_update(of=AssetCheck))}
    open_tickets: dict[int, Ticket] = {ticket.check_id: ticket for ticket in session.scalars(
        select(Ticket).where(Ticket.check_id.in_(ids), Ticket.status.in_(Status.OPEN)))}
    seen: set[int] = set()
    outcomes: list[Outcome | None] = []
    for item in pending:
        check = checks.get(item.check_id)
        if check is None:
            outcomes.append(None)
            continue
        # A check's second result in one batch looks its ticket up afresh.
        ticket = (open_tickets.get(check.id) if check.id not in seen
                  else open_ticket_for(session, check.id))
        seen.add(check.id)
        outcomes.append(_record(session, registry, check, ticket, item, policy))
    session.flush()
    return outcomes


def _record(session: Session, registry: PluginRegistry, check: AssetCheck,
            ticket: Ticket | None, item: PendingResult, policy: HealthPolicy) -> Outcome:
    result, now = item.result, item.when
    status = CheckStatus(result.status).value
    message = mask_personal_data(str(result.message or ""))[:MESSAGE_MAX]
    # A device's message or values can echo personal data (a recipient, a card holder).
    values = mask_in(_jsonable(result.values or {}))
    latency = result.latency_ms if result.latency_ms is not None else item.latency_ms
    latency = round(latency, 2) if latency is not None else None

    flapping = _track_changes(check, status, now, policy)
    if _is_bad(status):
        check.consecutive_failures = (check.consecutive_failures or 0) + 1
        check.consecutive_successes = 0
    elif status == CheckStatus.OK.value:
        check.consecutive_successes = (check.consecutive_successes or 0) + 1
        check.consecutive_failures = 0
    else:  # a warning: the device answers, but is not fully well either
        check.consecutive_failures = 0
        check.consecutive_successes = 0
    check.last_status = status
    check.last_message = message
    check.last_latency_ms = latency
    check.last_checked_at = now
    session.add(CheckRecord(check_id=check.id, status=status, message=message, values=values,
                            latency_ms=latency, checked_at=now))
    outcome = Outcome(check.id, status, message, latency, now, values=values)
    _apply_ticket_rules(session, registry, check, ticket, status, message, values, now,
                        policy, flapping, outcome)
    # --- city-wide incidents (services/incidents.py): the ONE call from the health code.
    # After the result and its ticket rules: a shared service failing in several wards
    # opens one incident and links the wards' tickets; its recovery resolves it.
    incidents.observe_check(session, registry, check, now)
    return outcome


def _apply_ticket_rules(session: Session, registry: PluginRegistry, check: AssetCheck,
                        ticket: Ticket | None, status: str, message: str,
                        values: dict[str, Any], now: dt.datetime, policy: HealthPolicy,
                        flapping: bool, outcome: Outcome) -> None:
    outcome.ticket_id = ticket.id if ticket else None
    threshold = max(1, check.failure_threshold or 3)
    data = {"check_id": check.id, "check_type": check.check_type, "status": status,
            "message": message, "values": values}

    if ticket is None:
        reason = None
        if flapping:
            reason = "flapping"
        elif _is_bad(status) and check.consecutive_failures >= threshold:
            reason = "failure"
        elif status == CheckStatus.WARNING.value:
            reason = "warning"
        if reason is not None:
            ticket, filed = _file(session, registry, check, reason, message, data, now)
            if ticket is not None:
                outcome.ticket_id = ticket.id
                outcome.action = ("flapping" if reason == "flapping" else "filed") if filed \
                    else "event"
        return

    if flapping and not ticket.flapping:
        ticket.flapping = True
        tickets.record_event(session, registry, ticket, "health", None, now, new="flapping",
                             body=i18n.gettext(
                                 "The check keeps switching between working and failing "
                                 "(%(count)d changes within %(minutes)d minutes).",
                                 count=len(check.state_changes),
                                 minutes=int(policy.flap_window.total_seconds() // 60)),
                             data=dict(data, flapping=True))
        outcome.action = "flapping"
        return

    if status == CheckStatus.OK.value:
        if check.consecutive_successes < max(1, check.recovery_threshold or 2) or flapping:
            return
        last = _last_event(session, ticket, ("health", "recovery"))
        noted = last is not None and last.kind == "recovery"
        if not noted:
            tickets.record_event(session, registry, ticket, "recovery", None, now, new=status,
                                 body=i18n.gettext(
                                     "The check works again (%(count)d good results in a row): "
                                     "%(detail)s", count=check.consecutive_successes,
                                     detail=message), data=data)
            outcome.action = "recovered"
        if not ticket.worked_by_person:
            try:
                tickets.perform(session, registry, ticket, None, "resolve", now,
                                reason=i18n.gettext("Resolved by itself: the health check "
                                                    "works again."))
                outcome.action = "resolved"
            except HelpdeskError as exc:  # the lifecycle may forbid it; leave it open
                log.warning("could not resolve %s after recovery: %s", ticket.number, exc)
        return

    # A warning ticket whose device now fails for real gets the device's priority.
    urgent = PRIORITY_BY_CRITICALITY.get(check.asset.criticality, 3)
    if _is_bad(status) and check.consecutive_failures >= threshold and ticket.priority > urgent:
        try:
            tickets.change_priority(session, registry, ticket, None, urgent, i18n.gettext(
                "The device now fails: %(detail)s", detail=message), now)
        except HelpdeskError as exc:
            log.warning("could not raise the priority of %s: %s", ticket.number, exc)
    # Failing or warning again while the ticket is open: note it, at a bounded rate.
    last = _last_event(session, ticket, ("health", "recovery"))
    if last is not None and last.kind == "health" and last.data.get("message") == message \
            and now - last.created_at < policy.event_interval:
        return
    if status == CheckStatus.WARNING.value:
        body = i18n.gettext("Warning: %(detail)s", detail=message)
    else:
        body = i18n.gettext("Still failing (%(count)d times in a row): %(detail)s",
                            count=check.consecutive_failures, detail=message)
    tickets.record_event(session, registry, ticket, "health", None, now, new=status,
                         body=body, data=data)
    outcome.action = "event"


def _file(session: Session, registry: PluginRegistry, check: AssetCheck, reason: str,
          message: str, data: dict[str, Any], now: dt.datetime) -> tuple[Ticket | None, bool]:
    """File the check's automatic ticket; if another process just filed it, use theirs.

    :return: the ticket (None if none could be filed) and whether this call filed it.
    """
    asset = check.asset
    check_type = registry.check_types.get(check.check_type)
    if asset.ward is None:
        # A city-wide service has no ward queue to land in; the board shows it red.
        log.warning("check %s of city-wide asset %s is %s; no ward to file a ticket in",
                    check.id, asset.name, reason)
        return None, False
    if check_type is None:
        log.warning("check %s: no plugin provides %s; no ticket filed", check.id, check.check_type)
        return None, False
    label = str(check_type.label)
    if reason == "warning":
        priority = WARNING_PRIORITY
        title = i18n.gettext("%(asset)s: warning from check “%(check)s”", asset=asset.name,
                             check=label)
        description = i18n.gettext(
            "The health check “%(check)s” of %(asset)s reports a warning: %(detail)s",
            check=label, asset=asset.name, detail=message)
        why = i18n.gettext("Health check warning")
    else:
        priority = PRIORITY_BY_CRITICALITY.get(asset.criticality, 3)
        why = i18n.gettext("Device criticality: %(criticality)s", criticality=i18n.gettext(
            CRITICALITY_LABELS.get(asset.criticality, asset.criticality)))
        if reason == "flapping":
            title = i18n.gettext("%(asset)s is unstable: check “%(check)s” keeps switching",
                                 asset=asset.name, check=label)
            description = i18n.gettext(
                "The health check “%(check)s” of %(asset)s keeps switching between working "
                "and failing. Last result: %(detail)s",
                check=label, asset=asset.name, detail=message)
        else:
            title = i18n.gettext("%(asset)s: check “%(check)s” failed", asset=asset.name,
                                 check=label)
            description = i18n.gettext(
                "The health check “%(check)s” of %(asset)s (%(address)s) failed "
                "%(count)d times in a row. Last result: %(detail)s",
                check=label, asset=asset.name, address=asset.address,
                count=check.consecutive_failures, detail=message)
    pending = session.info.get(tickets._PENDING)
    pending_before = len(pending) if pending is not None else 0
    savepoint = session.begin_nested()
    try:
        ticket = tickets.file_ticket(
            session, registry, ward=asset.ward, category=check_type.category,
            title=title[:tickets.TITLE_MAX], description=description, now=now,
            source=Source.HEALTH_CHECK, reporter=None, asset=asset, check=check,
            priority_override=priority, override_reason=why)
        ticket.flapping = reason == "flapping"
        tickets.record_event(session, registry, ticket, "health", None, now, new=data["status"],
                             body=message, data=dict(data, trigger=reason))
        session.flush()
        savepoint.commit()
    except IntegrityError:
        # Another process filed this check's ticket a moment ago: add to theirs instead.
        savepoint.rollback()
        pending = session.info.get(tickets._PENDING)
        if pending is not None:
            del pending[pending_before:]
        ticket = open_ticket_for(session, check.id)
        if ticket is None:
            raise
        tickets.record_event(session, registry, ticket, "health", None, now, new=data["status"],
                             body=message, data=dict(data, trigger=reason))
        return ticket, False
    except HelpdeskError as exc:
        savepoint.rollback()
        pending = session.info.get(tickets._PENDING)
        if pending is not None:
            del pending[pending_before:]
        log.warning("check %s: could not file a ticket: %s", check.id, exc)
        return None, False
    log.info("check %s (%s) filed %s (%s)", check.id, check.check_type, ticket.number, reason)
    return ticket, True


# --- batching: many concurrent runs, few transactions --------------------------------

class _Batcher:
    """One thread that handles whatever items have arrived (up to *max_batch*, waiting at
    most *linger* seconds for more) in one go; each submitter gets a future."""

    name = "batcher"

    def __init__(self, max_batch: int = 100, linger: float = 0.01) -> None:
        self._max_batch = max_batch
        self._linger = linger
        self._queue: queue.SimpleQueue[tuple[Any, Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many batches it handled (tests, benchmarks)

    def submit(self, item: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put((item, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Handle what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self._linger
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._handle(batch)
            if stop:
                return

    def _handle(self, batch: list[tuple[Any, Future]]) -> None:
        raise NotImplementedError


class Recorder(_Batcher):
    """Records the results of many concurrent check runs in few transactions.

    Runs hand their result to :meth:`submit` and wait for the outcome; one thread records
    whatever has arrived (up to *max_batch*) with :func:`record_results` and one commit.
    A sweep of 1,000 checks then makes tens of commits instead of 1,000, and on SQLite the
    runs never queue on the write lock: this thread is the only writer of results. If a
    batch fails, each of its results is recorded on its own, so one bad result costs no
    other its record.

    :param session_scope: a context manager giving a session for one batch (the web app
        pushes an app context); the recorder commits and rolls back itself.
    :param policy: the ticket rules, asked for each batch (settings may change).
    """

    name = "health-recorder"

    def __init__(self, session_scope: Callable[[], ContextManager[Session]],
                 registry: PluginRegistry, policy: Callable[[], HealthPolicy] = lambda: DEFAULT_POLICY,
                 max_batch: int = 100, linger: float = 0.01) -> None:
        super().__init__(max_batch, linger)
        self._session_scope = session_scope
        self._registry = registry
        self._policy = policy

    def submit(self, item: PendingResult) -> Future:
        """Queue *item*; the future gives its :class:`Outcome` (None: the check is gone)."""
        return super().submit(item)

    def record(self, item: PendingResult) -> Outcome | None:
        """Submit *item* and wait until it is recorded and committed."""
        return self.submit(item).result()

    def _handle(self, batch: list[tuple[PendingResult, Future]]) -> None:
        try:
            with self._session_scope() as session:
                try:
                    outcomes = record_results(session, self._registry,
                                              [item for item, _ in batch], self._policy())
                    tickets.commit(session)
                except Exception:
                    tickets.rollback(session)
                    raise
            self.batches += 1
        except Exception:
            if len(batch) == 1:
                log.exception("could not record the result of check %s", batch[0][0].check_id)
                batch[0][1].set_exception(sys.exc_info()[1])
                return
            log.warning("a batch of %d results failed; recording them one by one", len(batch),
                        exc_info=True)
            for one in batch:
                self._handle([one])
            return
        for (_, future), outcome in zip(batch, outcomes):
            future.set_result(outcome)


class TargetReader(_Batcher):
    """Reads what many concurrent runs are about to check with one query per batch
    (:func:`read_targets`); each future gives the check's row, or None if the check is
    gone, disabled or its asset retired."""

    name = "health-reader"

    def __init__(self, session_scope: Callable[[], ContextManager[Session]],
                 max_batch: int = 500, linger: float = 0.005) -> None:
        super().__init__(max_batch, linger)
        self._session_scope = session_scope

    def _handle(self, batch: list[tuple[int, Future]]) -> None:
        try:
            with self._session_scope() as session:
                rows = read_targets(session, [check_id for check_id, _ in batch])
            self.batches += 1
        except Exception as exc:
            log.exception("could not read %d health checks", len(batch))
            for _, future in batch:
                future.set_exception(exc)
            return
        for check_id, future in batch:
            future.set_result(rows.get(check_id))


# --- one full run: the scheduler's job and ``helpdesk check`` -------------------------

@contextlib.contextmanager
def run_lock(session: Session, check_id: int) -> Iterator[bool]:
    """Hold the check's advisory lock for a run; yields False if another process has it.

    PostgreSQL: a session-level ``pg_try_advisory_lock`` on a connection of its own in
    autocommit, so no transaction stays open while the device is polled, and a crashed
    process releases the lock with its connection. SQLite: one process is assumed.
    """
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:cls, :id)"),
                               {"cls": ADVISORY_LOCK_CLASS, "id": check_id}))
        try:
            yield got
        finally:
            if got:
                conn.scalar(text("SELECT pg_advisory_unlock(:cls, :id)"),
                            {"cls": ADVISORY_LOCK_CLASS, "id": check_id})


def read_targets(session: Session, check_ids: Sequence[int]) -> dict[int, Any]:
    """What runs of these checks need (:func:`target_of`, :func:`ran_recently`), for the
    enabled checks of active assets among *check_ids*; the read ends before it returns, so
    no transaction stays open while the devices are polled."""
    token = set_reads_only(True)  # SQLite: no write lock just to read the targets
    try:
        # Plain columns, not ORM objects: this read runs for every run of every check.
        rows = session.execute(
            select(AssetCheck.id, AssetCheck.check_type, AssetCheck.config,
                   AssetCheck.timeout_seconds, AssetCheck.interval_seconds,
                   AssetCheck.last_checked_at, Asset.address, Asset.name)
            .join(Asset, Asset.id == AssetCheck.asset_id)
            .where(AssetCheck.id.in_(check_ids), AssetCheck.enabled.is_(True),
                   Asset.active.is_(True))).all()
    finally:
        tickets.rollback(session)
        reset_reads_only(token)
    return {row.id: row for row in rows}


def ran_recently(row: Any, now: dt.datetime) -> bool:
    """Whether the check ran less than half an interval ago (by another process, say)."""
    if row.last_checked_at is None:
        return False
    return now - row.last_checked_at < dt.timedelta(seconds=(row.interval_seconds or 300) / 2)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def check_now(session: Session, registry: PluginRegistry, check_id: int, *,
              now: dt.datetime | None = None, record: bool = True, force: bool = True,
              policy: HealthPolicy = DEFAULT_POLICY) -> Outcome | None:
    """Run check *check_id* once and (unless ``record=False``) record it and commit.

    Returns None when there is nothing to do: the check is gone or disabled, another
    process is running it right now, or (``force=False``) another process ran it less
    than half an interval ago.

    *session* should have nothing pending: the run starts by rolling it back, so that no
    transaction stays open while the device is polled.

    :param now: the time to record (tests); by default the time the run ended.
    :param record: False only runs the check (no lock, no record, no ticket).
    :param force: False skips a check another process ran less than half an interval
        ago; True always runs it (``helpdesk check``).
    """
    tickets.rollback(session)  # start clean: no transaction is open while polling
    with run_lock(session, check_id) if record else contextlib.nullcontext(True) as got:
        if not got:
            log.info("check %s is being run by another process right now; skipped", check_id)
            return None
        row = read_targets(session, [check_id]).get(check_id)
        if row is None:  # gone, disabled, or its asset retired
            return None
        if not force and ran_recently(row, _utcnow()):
            return None
        result, latency = run_check(registry, row.check_type, target_of(row))
        when = now or _utcnow()
        if not record:
            return Outcome(check_id, CheckStatus(result.status).value,
                           mask_personal_data(str(result.message or "")),
                           result.latency_ms if result.latency_ms is not None else latency,
                           when, recorded=False, values=mask_in(dict(result.values or {})))
        try:
            outcome = record_result(session, registry, check_id, result, latency, when, policy)
            tickets.commit(session)
        except Exception:
            tickets.rollback(session)
            raise
        return outcome


# --- the scheduler's runs: many at once on one event loop ---------------------------

class RunLocks(_Batcher):
    """The checks' advisory locks for the scheduler's runs, a batch per statement.

    The same locks as :func:`run_lock` (so a ``helpdesk check`` and a scheduler never run
    one check at once either), but a thousand concurrent runs share this thread's one
    autocommit connection instead of holding one each. PostgreSQL only (:attr:`enabled`);
    SQLite assumes one scheduler process. A crashed process releases its locks with its
    connection.
    """

    name = "health-locks"

    def __init__(self, session_scope: Callable[[], ContextManager[Session]],
                 max_batch: int = 500, linger: float = 0.005) -> None:
        super().__init__(max_batch, linger)
        self._session_scope = session_scope
        self._engine: Any = None
        self._connection: Any = None

    @property
    def enabled(self) -> bool:
        if self._engine is None:
            with self._session_scope() as session:
                self._engine = session.get_bind()
        return self._engine.dialect.name == "postgresql"

    def acquire(self, check_id: int) -> Future:
        """Try to take the check's lock; the future gives False if another process has it."""
        return self.submit(("lock", check_id))

    def release(self, check_id: int) -> Future:
        return self.submit(("unlock", check_id))

    def _handle(self, batch: list[tuple[tuple[str, int], Future]]) -> None:
        wanted = list(dict.fromkeys(check_id for (op, check_id), _ in batch if op == "lock"))
        done = [check_id for (op, check_id), _ in batch if op == "unlock"]
        try:
            if self._connection is None:
                self._connection = self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT")
            if done:  # first, so a check that just finished can be taken again
                self._connection.execute(text(
                    "SELECT pg_advisory_unlock(:cls, k) FROM unnest(CAST(:ids AS integer[])) k"),
                    {"cls": ADVISORY_LOCK_CLASS, "ids": done})
            got = set(self._connection.scalars(text(
                "SELECT k FROM unnest(CAST(:ids AS integer[])) k "
                "WHERE pg_try_advisory_lock(:cls, k)"),
                {"cls": ADVISORY_LOCK_CLASS, "ids": wanted})) if wanted else set()
            self.batches += 1
        except Exception as exc:
            # A broken connection has lost its locks anyway; start afresh next time.
            log.exception("could not take or release %d health check locks", len(batch))
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
            for _, future in batch:
                future.set_exception(exc)
            return
        granted: set[int] = set()
        for (op, check_id), future in batch:
            if op == "lock":  # the same check twice in a batch: only the first gets it
                future.set_result(check_id in got and check_id not in granted)
                granted.add(check_id)
            else:
                future.set_result(None)

    def close(self, timeout: float = 10.0) -> None:
        super().close(timeout)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class CheckRunner:
    """The scheduler's runs of checks: :func:`check_now` for an asyncio event loop.

    Each run reads its target through a :class:`TargetReader` (one query for many runs),
    runs the check with :meth:`PluginRegistry.run_check_async` (a coroutine check on the
    loop itself; a blocking one in a pool of *max_workers* threads) and records through
    the :class:`Recorder`, all without holding a thread while it waits. So a sweep of
    1,000 devices, a hundred of them hung, takes little more than one timeout
    (bench/sweep.py), where a thread per run spent most of it on CPU before the last
    device was even asked.

    :param max_concurrent: runs in progress at once; more wait their turn.
    """

    def __init__(self, session_scope: Callable[[], ContextManager[Session]],
                 registry: PluginRegistry, recorder: Recorder, max_workers: int = 128,
                 max_concurrent: int = 1000) -> None:
        self._registry = registry
        self._recorder = recorder
        self._reader = TargetReader(session_scope)
        self._locks = RunLocks(session_scope)
        self._blocking = ThreadPoolExecutor(max_workers, thread_name_prefix="health-check")
        self._max_concurrent = max_concurrent
        # One semaphore per event loop (an asyncio primitive serves one loop): the runner
        # is the app's, and a new scheduler of the same app brings a new loop.
        self._slots: dict[Any, asyncio.Semaphore] = {}

    async def run(self, check_id: int, force: bool = False) -> Outcome | None:
        """Run check *check_id* once and record it; None when there is nothing to do
        (as :func:`check_now`: gone or disabled, running in another process, or with
        ``force=False`` run by another process less than half an interval ago)."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self._max_concurrent)
        async with slots:
            locking = self._locks.enabled
            if locking and not await asyncio.wrap_future(self._locks.acquire(check_id)):
                log.info("check %s is being run by another process right now; skipped",
                         check_id)
                return None
            try:
                row = await asyncio.wrap_future(self._reader.submit(check_id))
                if row is None or (not force and ran_recently(row, _utcnow())):
                    return None
                result, latency = await self._registry.run_check_async(
                    row.check_type, target_of(row), self._blocking)
                pending = PendingResult(check_id, result, latency, _utcnow())
                return await asyncio.wrap_future(self._recorder.submit(pending))
            finally:
                if locking:
                    await asyncio.wrap_future(self._locks.release(check_id))

    def close(self) -> None:
        self._reader.close()
        self._blocking.shutdown(wait=False, cancel_futures=True)
        self._locks.close()


def schedulable_checks(session: Session) -> dict[int, int]:
    """Enabled checks of active assets: check id -> interval in seconds."""
    rows = session.execute(select(AssetCheck.id, AssetCheck.interval_seconds)
                           .join(Asset, Asset.id == AssetCheck.asset_id)
                           .where(AssetCheck.enabled.is_(True), Asset.active.is_(True))).all()
    return {check_id: max(1, interval or 300) for check_id, interval in rows}


# --- retention ----------------------------------------------------------------------

def prune_records(session: Session, now: dt.datetime, keep_days: int = 14,
                  batch_size: int = 1000) -> int:
    """Delete check records older than *keep_days*, in batches (each its own commit),
    never the latest record of a check. Returns how many were deleted."""
    cutoff = now - dt.timedelta(days=keep_days)
    newer = aliased(CheckRecord)
    # A record may go if a newer one of the same check exists (index: check_id, checked_at).
    has_newer = (select(newer.id).where(newer.check_id == CheckRecord.check_id,
                                        newer.checked_at > CheckRecord.checked_at)
                 .exists())
    deleted = 0
    while True:
        ids = list(session.scalars(select(CheckRecord.id)
                                   .where(CheckRecord.checked_at < cutoff, has_newer)
                                   .order_by(CheckRecord.id).limit(batch_size)))
        if not ids:
            break
        session.execute(delete(CheckRecord).where(CheckRecord.id.in_(ids))
                        .execution_options(synchronize_session=False))
        session.commit()
        deleted += len(ids)
        if len(ids) < batch_size:
            break
    return deleted


# --- the status board ---------------------------------------------------------------

@dataclass
class BoardWard:
    """One block of the board: a ward (or ``ward=None``: city-wide services)."""

    ward: Ward | None
    assets: list[Asset]


@dataclass
class Board:
    wards: list[BoardWard]
    open_tickets: dict[int, Ticket]  # check id -> its open automatic ticket

    def ticket_for(self, check: AssetCheck) -> Ticket | None:
        return self.open_tickets.get(check.id)


def colour_of(status: str | None) -> str:
    """green (ok), amber (warning), red (failure or error), grey (never checked)."""
    if status == CheckStatus.OK.value:
        return "green"
    if status == CheckStatus.WARNING.value:
        return "amber"
    if _is_bad(status):
        return "red"
    return "grey"


def status_board(session: Session, user: User | None, today: dt.date,
                 ward_id: int | None = None,
                 only_wards: frozenset[int] | None = None) -> Board:
    """Every active asset with checks that *user* may see, grouped by ward.

    Staff see their ward, students their assigned wards, coordinators and
    administrators every ward and the city-wide services. *only_wards* narrows it further
    (an integration's token). A fixed number of queries, whatever the number of wards,
    assets and checks.
    """
    wards = scope.ward_ids_for(session, user, today)
    if only_wards is not None:
        wards = only_wards if wards is None else wards & only_wards
    query = (select(Asset).where(Asset.active.is_(True), Asset.checks.any())
             .options(selectinload(Asset.checks), joinedload(Asset.ward))
             .order_by(Asset.ward_id.is_(None), Asset.ward_id, Asset.name, Asset.id))
    if wards is not None:
        query = query.where(Asset.ward_id.in_(wards or [-1]))
    if ward_id is not None:
        query = query.where(Asset.ward_id == ward_id)
    assets = list(session.scalars(query).unique())
    check_ids = [check.id for asset in assets for check in asset.checks]
    open_tickets: dict[int, Ticket] = {}
    if check_ids:
        for ticket in session.scalars(select(Ticket).where(Ticket.check_id.in_(check_ids),
                                                           Ticket.status.in_(Status.OPEN))):
            open_tickets[ticket.check_id] = ticket
    blocks: list[BoardWard] = []
    for asset in assets:
        if not blocks or blocks[-1].ward is not asset.ward:
            blocks.append(BoardWard(asset.ward, []))
        blocks[-1].assets.append(asset)
    return Board(blocks, open_tickets)


__all__ = ["HealthPolicy", "DEFAULT_POLICY", "Outcome", "PRIORITY_BY_CRITICALITY",
           "PendingResult", "Recorder", "record_results",
           "target_of", "run_check", "record_result", "open_ticket_for", "run_lock",
           "check_now", "schedulable_checks", "prune_records", "status_board", "colour_of",
           "Board", "BoardWard"]
