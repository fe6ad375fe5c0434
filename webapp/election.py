"""One scheduler per database: the processes that may schedule elect a leader.

Every web worker started with ``HELPDESK_SCHEDULER=true`` (``gunicorn -w 4`` makes four)
and every ``helpdesk scheduler`` is a candidate. Exactly one holds the database's
scheduler lock and runs the jobs; the others stand by and try again every
``SCHEDULER_ELECTION_SECONDS``, so one of them takes over when the leader dies.

* SQLite: an exclusive ``flock`` on ``<database file>.scheduler.lock``, held for the
  life of the process. The kernel releases it when the process dies, however it dies.
* PostgreSQL: a session-level advisory lock held on a connection of its own. The server
  releases it when that connection ends; the leader pings the connection at every round
  and stops its scheduler as soon as the connection is gone (another process may hold
  the lock by then), then stands again like any candidate.

Which process leads is in the scheduler's heartbeat (``host:pid``), read by ``/healthz``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from typing import Any, Callable, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from helpdesk_core.db import normalize_url

log = logging.getLogger(__name__)

# First argument of the two-key advisory lock: "HDSC" (the per-check locks use "HDCK").
SCHEDULER_LOCK_CLASS = 0x48445343
SCHEDULER_LOCK_KEY = 0


def process_name() -> str:
    """How the heartbeat and the logs name this process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SchedulerLock(Protocol):
    """The database's scheduler lock, as one candidate process sees it."""

    def acquire(self) -> bool:
        """Try to take the lock without waiting; True if this process holds it now."""

    def held(self) -> bool:
        """Whether this process still holds the lock (False once it is lost)."""

    def release(self) -> None:
        """Give the lock up (nothing happens if it is not held)."""


class FileLock:
    """An exclusive ``flock`` on a file next to the SQLite database."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process holds it
            os.close(fd)
            return False
        os.ftruncate(fd, 0)  # for a curious administrator: who leads
        os.write(fd, f"{process_name()}\n".encode())
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None  # a flock lasts as long as its descriptor

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class AdvisoryLock:
    """A session-level PostgreSQL advisory lock on a connection of its own."""

    def __init__(self, url: str) -> None:
        # No pool: the lock lives and dies with this one connection.
        self._engine = create_engine(normalize_url(url), poolclass=NullPool)
        self._connection: Any = None

    def acquire(self) -> bool:
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
        got = self._connection.scalar(text("SELECT pg_try_advisory_lock(:cls, :key)"),
                                      {"cls": SCHEDULER_LOCK_CLASS, "key": SCHEDULER_LOCK_KEY})
        if not got:
            self.release()  # hold no idle connection while standing by
        return bool(got)

    def held(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # the connection is gone, and the lock with it
            log.warning("the scheduler lock's connection is gone: %s", exc.__class__.__name__)
            self.release()
            return False

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing ends the session: lock released
                self._connection.close()
            self._connection = None


class NoLock:
    """A database no other process can open (SQLite in memory): always the leader."""

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lock_for(url: str) -> SchedulerLock:
    """The scheduler lock of the database at *url*."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") \
            or database.startswith("file::memory:"):
        return NoLock()
    return FileLock(os.path.abspath(database) + ".scheduler.lock")


class Candidate:
    """This process standing for scheduler leader: a thread that holds or seeks the lock.

    When elected it calls *on_elected* (start the jobs); when the lock is lost it calls
    ``on_deposed(graceful=False)`` (stop them now: another process may lead already) and
    stands again. :meth:`stop` ends the candidacy: ``on_deposed(graceful=True)`` (let
    running jobs finish), then it gives the lock up.
    """

    def __init__(self, lock: SchedulerLock, on_elected: Callable[[], None],
                 on_deposed: Callable[[bool], None], interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._leading = False
        self._said_standby = False  # say "stands by" once per spell, not every round
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-election",
                                        daemon=True)

    @property
    def leading(self) -> bool:
        return self._leading

    def start(self) -> "Candidate":
        self.round()  # decide at once: the leader starts its jobs without delay
        self._thread.start()
        return self

    def round(self) -> None:
        """One round: a leader checks it still holds the lock; a standby tries to take it."""
        if self._leading:
            if not self.lock.held():
                self._leading = self._said_standby = False
                log.warning("scheduler: %s lost the lock; stopping its jobs", process_name())
                self._call(self._on_deposed, False)
            return
        try:
            elected = self.lock.acquire()
        except Exception as exc:  # database unreachable: try again next round
            log.warning("scheduler election failed: %s", exc.__class__.__name__)
            self.lock.release()
            return
        if elected:
            self._leading = True
            log.info("scheduler: %s leads", process_name())
            self._call(self._on_elected)
        elif not self._said_standby:
            self._said_standby = True
            log.info("scheduler: %s stands by (another process leads)", process_name())

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("scheduler election callback failed")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.round()

    def stop(self) -> None:
        """Stop standing; a leader stops its jobs first, then gives the lock up."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(self.interval + 10)
        if self._leading:
            self._leading = False
            self._call(self._on_deposed, True)
        self.lock.release()
