"""A check's deadline that blames the device, not the scheduler's busy event loop.

Thousands of checks share one loop. When it is busy (a sweep's answers arriving
together, another process on the core), an answer can wait in its socket, unread, past
the check's deadline: with ``asyncio.timeout`` that device is recorded as silent,
though it answered in time. :func:`answer_deadline` is ``asyncio.timeout`` that looks
before it gives up: first it lets the callbacks already due run (an answer the loop has
read resumes its check), then it asks the check's sockets whether something arrived
that nobody has read yet (an answer, or the peer closing). If so, the check goes on,
a step at a time, up to a quarter of its timeout more (the registry's guard allows
half); if not, it times out on time. A hung device is never waited for longer.
"""

from __future__ import annotations

import asyncio
import select
import socket
from typing import Callable, Iterable

STEP_SECONDS = 0.05  # how often a late loop is looked at again
EXTRA_SHARE = 0.25  # of the timeout: the most an unread answer can add


def _ready(fds: Iterable[int], connecting: bool = False) -> bool:
    """Whether one of *fds* has something to read, an error or a hang-up (with
    *connecting*: or can be written, a connect having finished). Never waits."""
    fds = [fd for fd in fds if fd >= 0]  # a closed transport's socket says -1
    if not fds:
        return False
    if not hasattr(select, "poll"):  # Windows: select() takes sockets there
        readable, writable, failed = select.select(fds, fds if connecting else [], fds, 0)
        return bool(readable or writable or failed)
    events = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP
    if connecting:
        events |= select.POLLOUT
    poller = select.poll()  # not select(): a sweep's sockets number past FD_SETSIZE
    for fd in fds:
        poller.register(fd, events)
    return bool(poller.poll(0))


def unread(fds: Iterable[int]) -> bool:
    """Whether one of these sockets holds something not yet read (or its peer closed)."""
    return _ready(fds)


def connected(sock: socket.socket) -> bool:
    """Whether a non-blocking connect on *sock* has finished (either way)."""
    return _ready([sock.fileno()], connecting=True)


def transport_fds(transports: Iterable[asyncio.BaseTransport]) -> list[int]:
    """The sockets of *transports* (those still open)."""
    fds = []
    for transport in transports:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            fds.append(sock.fileno())
    return fds


def answered_on(transports: list[asyncio.BaseTransport]) -> Callable[[], bool]:
    """*answered* for :func:`answer_deadline`: whether one of *transports* (a list the
    check appends to as it opens them) has something unread."""
    return lambda: unread(transport_fds(transports))


class _AnswerTimeout(asyncio.Timeout):
    """``asyncio.Timeout`` whose expiry looks first (see the module's text).

    It changes only what happens when the time comes (``_on_timeout``, which asyncio's
    own timer calls): as cheap as ``asyncio.timeout`` for the checks that end in time,
    thousands of them a sweep.
    """

    def __init__(self, when: float, latest: float, answered: Callable[[], bool]) -> None:
        super().__init__(when)
        self._latest = latest
        self._answered = answered
        self._looked = False

    def _on_timeout(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._looked:
            # Callbacks queued before this one run first: a read answer resumes its check.
            self._looked = True
            self._timeout_handler = loop.call_soon(self._on_timeout)
            return
        self._looked = False
        if loop.time() < self._latest and self._answered():
            self.reschedule(min(loop.time() + STEP_SECONDS, self._latest))
            return
        super()._on_timeout()


def answer_deadline(seconds: float,
                    answered: Callable[[], bool] = lambda: False) -> asyncio.Timeout:
    """``asyncio.timeout(seconds)``, unless *answered* says at the deadline that the
    device's answer is there, unread (see the module's text): then ``TimeoutError``
    comes at most ``EXTRA_SHARE`` of *seconds* later, or never if the check ends.

    :param answered: e.g. ``answered_on(transports)`` or ``lambda: connected(sock)``.
    """
    now = asyncio.get_running_loop().time()
    return _AnswerTimeout(now + seconds, now + seconds * (1 + EXTRA_SHARE), answered)
