"""Places for check runs on the scheduler's event loop: at most so many at once, and when
runs wait for a place, the one whose check took longest last time goes first.

A scheduler that starts (or comes back) finds every check due at once. Runs wait for a
place in turn, and a hung device's run, once started, holds its place for its whole
timeout: the sweep lasts until the last hung device has been waited out, so the sooner
those start, the sooner it ends (longest-processing-time-first, as in job scheduling).
A check's last duration is the best guess of its next: a device that did not answer
last time mostly does not answer now; a check never run is guessed at its whole timeout
(``running.expected_ms``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class RunSlots:
    """At most *size* runs at once on one event loop.

    :meth:`acquire` does not hand out a free place at once: the runs that ask in the same
    turn of the loop (a sweep's runs, woken together by one batch of target reads) are
    served together in the next, longest expected first. Not thread-safe: one loop's.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []  # a heap
        self._order = itertools.count()  # equal expectations: first come, first served
        self._dispatching = False

    async def acquire(self, expected_ms: float) -> None:
        """Wait for a place; *expected_ms*: how long the run is expected to take."""
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (-expected_ms, next(self._order), granted))
        if not self._dispatching:
            self._dispatching = True
            loop.call_soon(self._dispatch)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # given just as it was cancelled
                self.release()
            raise

    def release(self) -> None:
        """Give the place back: the longest expected of the waiting runs takes it."""
        self._free += 1
        self._dispatch()

    def _dispatch(self) -> None:
        self._dispatching = False
        while self._free > 0 and self._waiting:
            _, _, granted = heapq.heappop(self._waiting)
            if granted.done():  # its run was cancelled while waiting
                continue
            self._free -= 1
            granted.set_result(None)
