"""Batching for the scheduler: many concurrent runs, few transactions and statements.

Each helper is one thread that handles whatever has arrived (up to a batch) in one go:
:class:`Recorder` records results with one commit per batch, :class:`TargetReader`
reads what runs are about to check with one query, :class:`RunLocks` takes and releases
the checks' advisory locks a batch per statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, ContextManager

from sqlalchemy import text
from sqlalchemy.orm import Session

from ...plugins import PluginRegistry
from .. import tickets
from .recording import Outcome, PendingResult, record_results
from .rules import DEFAULT_POLICY, HealthPolicy
from .running import ADVISORY_LOCK_CLASS, read_targets

log = logging.getLogger(__name__)


class _LoopFuture:
    """An event loop's future, settled from the batcher's thread: the outcome is kept
    until the batch is done, then handed to the loop with the batch's others in one
    call (a wake-up of the loop per batch, not per item)."""

    __slots__ = ("future", "settled")

    def __init__(self, future: asyncio.Future, settled: list) -> None:
        self.future, self.settled = future, settled

    def set_result(self, value: Any) -> None:
        self.settled.append((self.future, value, None))

    def set_exception(self, exc: BaseException) -> None:
        self.settled.append((self.future, None, exc))


def _settle(outcomes: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    """On the loop: set each future that nobody has cancelled meanwhile."""
    for future, value, exc in outcomes:
        if future.done():
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(value)


class _Batcher:
    """One thread that handles whatever items have arrived (up to *max_batch*, waiting at
    most *linger* seconds for more) in one go; each submitter gets a future
    (:meth:`submit`), or an event loop's future to await (:meth:`submit_async`)."""

    name = "batcher"

    def __init__(self, max_batch: int = 100, linger: float = 0.01) -> None:
        self._max_batch = max_batch
        self._linger = linger
        self._queue: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._settled: list[tuple[asyncio.Future, Any, BaseException | None]] = []
        self.batches = 0  # how many batches it handled (tests, benchmarks)

    def submit(self, item: Any) -> Future:
        future: Future = Future()
        self._put(item, future)
        return future

    def submit_async(self, item: Any) -> asyncio.Future:
        """:meth:`submit` for a coroutine on a running event loop: await the result."""
        future = asyncio.get_running_loop().create_future()
        self._put(item, _LoopFuture(future, self._settled))
        return future

    def _put(self, item: Any, future: Any) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put((item, future))

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
            try:
                self._handle(batch)
            finally:
                self._hand_over()
            if stop:
                return

    def _hand_over(self) -> None:
        """Give the loops their futures' outcomes of this batch, one call per loop."""
        settled, self._settled[:] = list(self._settled), []
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for outcome in settled:
            by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
        for loop, outcomes in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile awaits nothing
                loop.call_soon_threadsafe(_settle, outcomes)

    def _handle(self, batch: list[tuple[Any, Any]]) -> None:
        raise NotImplementedError


class Recorder(_Batcher):
    """Records the results of many concurrent check runs in few transactions.

    Runs hand their result to :meth:`submit` and wait for the outcome; one thread records
    whatever has arrived (up to *max_batch*) with :func:`record_results` and one commit.
    A sweep of 1,000 checks then makes tens of commits instead of 1,000, and on SQLite the
    runs never queue on the write lock: this thread is the only writer of results. If a
    batch fails, each of its results is recorded on its own, so one bad result costs no
    other its record. Batches grow when results arrive faster than they are recorded (up
    to 500: PostgreSQL's round trips made 100 a batch fall behind a sweep of 5,000), and
    stay small when they do not.

    :param session_scope: a context manager giving a session for one batch (the web app
        pushes an app context); the recorder commits and rolls back itself.
    :param policy: the ticket rules, asked for each batch (settings may change).
    """

    name = "health-recorder"

    def __init__(self, session_scope: Callable[[], ContextManager[Session]],
                 registry: PluginRegistry, policy: Callable[[], HealthPolicy] = lambda: DEFAULT_POLICY,
                 max_batch: int = 500, linger: float = 0.01) -> None:
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
                 max_batch: int = 5000, linger: float = 0.005) -> None:
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

    def acquire(self, check_id: int) -> asyncio.Future:
        """Try to take the check's lock (on a running loop): await True, or False if
        another process has it."""
        return self.submit_async(("lock", check_id))

    def release(self, check_id: int) -> asyncio.Future:
        return self.submit_async(("unlock", check_id))

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
