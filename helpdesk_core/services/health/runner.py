"""The scheduler's runs of checks: many at once on one asyncio event loop."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ContextManager

from sqlalchemy.orm import Session

from ...plugins import PluginRegistry
from .batching import Recorder, RunLocks, TargetReader
from .recording import Outcome, PendingResult
from .running import _utcnow, expected_ms, ran_recently, target_of
from .slots import RunSlots

log = logging.getLogger(__name__)


class CheckRunner:
    """The scheduler's runs of checks: :func:`check_now` for an asyncio event loop.

    Each run reads its target through a :class:`TargetReader` (one query for many runs),
    runs the check with :meth:`PluginRegistry.run_check_async` (a coroutine check on the
    loop itself; a blocking one in a pool of *max_workers* threads) and records through
    the :class:`Recorder`, all without holding a thread while it waits. So a sweep of
    1,000 devices, a hundred of them hung, takes little more than one timeout
    (bench/sweep.py), where a thread per run spent most of it on CPU before the last
    device was even asked.

    :param max_concurrent: runs in progress at once; more wait their turn, the checks
        that took longest last time first (:class:`~.slots.RunSlots`).
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
        # Places per event loop (an asyncio primitive serves one loop): the runner is the
        # app's, and a new scheduler of the same app brings a new loop.
        self._slots: dict[Any, RunSlots] = {}

    async def run(self, check_id: int, force: bool = False) -> Outcome | None:
        """Run check *check_id* once and record it; None when there is nothing to do
        (as :func:`check_now`: gone or disabled, running in another process, or with
        ``force=False`` run by another process less than half an interval ago)."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = RunSlots(self._max_concurrent)
        # Read before taking a place: the place goes to the longest expected run. (So a
        # run may start just after another process ran the check: the lock below still
        # keeps two runs of one check from overlapping.)
        row = await self._reader.submit_async(check_id)
        if row is None or (not force and ran_recently(row, _utcnow())):
            return None
        await slots.acquire(expected_ms(row))
        try:
            # The lock once a place is held: no more locks than places (PostgreSQL keeps
            # advisory locks in a table of a few thousand, shared by every connection).
            locking = self._locks.enabled
            if locking and not await self._locks.acquire(check_id):
                log.info("check %s is being run by another process right now; skipped",
                         check_id)
                return None
            try:
                result, latency = await self._registry.run_check_async(
                    row.check_type, target_of(row), self._blocking)
                pending = PendingResult(check_id, result, latency, _utcnow())
                return await self._recorder.submit_async(pending)
            finally:
                if locking:
                    await self._locks.release(check_id)
        finally:
            slots.release()

    def close(self) -> None:
        self._reader.close()
        self._blocking.shutdown(wait=False, cancel_futures=True)
        self._locks.close()
