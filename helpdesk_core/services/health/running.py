"""Running health checks: one run outside any transaction, the locks, ``helpdesk check``.

:func:`run_check` calls the plugin (through the registry's guard with its hard timeout)
and touches no database; :func:`check_now` runs one check and records it for
``helpdesk check`` and the web's "check now". Both it and the scheduler's
:class:`~.runner.CheckRunner` hold a PostgreSQL advisory lock per check, so several
processes never run one check twice at the same time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any, Iterator, Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ... import i18n
from ...contracts import CheckResult, CheckStatus, CheckTarget
from ...db import reset_reads_only, set_reads_only
from ...models import Asset, AssetCheck
from ...plugins import PluginRegistry
from ...privacy import mask_in, mask_personal_data
from .. import tickets
from .recording import Outcome, record_result
from .rules import DEFAULT_POLICY, HealthPolicy

log = logging.getLogger(__name__)

# First argument of the two-key advisory lock: "HDCK", so our locks are recognisable.
ADVISORY_LOCK_CLASS = 0x4844434B


def target_of(row: Any) -> CheckTarget:
    """What the plugin gets: the asset's address and name, the check's config and timeout
    (*row* has ``address``, ``name``, ``config`` and ``timeout_seconds``)."""
    return CheckTarget(address=row.address, config=dict(row.config or {}),
                       timeout=timeout_of(row), name=row.name)


def timeout_of(row: Any) -> float:
    """The check's timeout in seconds (5 if it has none)."""
    return float(row.timeout_seconds or 5.0)


def expected_ms(row: Any) -> float:
    """How long a run of the check is expected to take (the order of :class:`.RunSlots`):
    its last run's time, or for a check never run (a device just added) its whole
    timeout: it may hang as well as any, and then had better start early."""
    if row.last_latency_ms is not None:
        return float(row.last_latency_ms)
    return timeout_of(row) * 1000


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
    """What runs of these checks need (:func:`target_of`, :func:`ran_recently`, the last
    run's latency for :class:`~.slots.RunSlots`), for the
    enabled checks of active assets among *check_ids*; the read ends before it returns, so
    no transaction stays open while the devices are polled."""
    token = set_reads_only(True)  # SQLite: no write lock just to read the targets
    try:
        # Plain columns, not ORM objects: this read runs for every run of every check.
        rows = session.execute(
            select(AssetCheck.id, AssetCheck.check_type, AssetCheck.config,
                   AssetCheck.timeout_seconds, AssetCheck.interval_seconds,
                   AssetCheck.last_checked_at, AssetCheck.last_latency_ms, Asset.address,
                   Asset.name)
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


def schedulable_checks(session: Session) -> dict[int, int]:
    """Enabled checks of active assets: check id -> interval in seconds."""
    rows = session.execute(select(AssetCheck.id, AssetCheck.interval_seconds)
                           .join(Asset, Asset.id == AssetCheck.asset_id)
                           .where(AssetCheck.enabled.is_(True), Asset.active.is_(True))).all()
    return {check_id: max(1, interval or 300) for check_id, interval in rows}
