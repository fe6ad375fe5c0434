"""Run a check as the scheduler does while its event loop is late (helpdesk_core/deadline.py).

A sweep's thousands of answers keep the scheduler's loop busy reading sockets: a device's
answer can wait in its own socket, unread, past the check's deadline, and the loop runs
the expired timer before it reads the socket. The built-in checks must judge the device
by its answer, not by the loop's lateness. A test makes the loop busy the same way (a
socket's callback that takes long) at the moment the device answers
(:meth:`LateLoop.hold`, from the peer or from the check's own send) until past the
check's deadline, then expects the device's real state.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvloop

from helpdesk_core import CheckResult, CheckTarget, deadline
from helpdesk_core.plugins import PluginRegistry

TIMEOUT = 2.0  # the check's; its guard gives up at 3 s
BUSY = 2.3  # from the moment the device answers: past the check's deadline
EXTRA_SHARE = 0.45  # the look after the busy spell must come by 2.9 s


class LateLoop:
    """The loop a check runs on (uvloop, as the scheduler's), busy when :meth:`hold` says."""

    def __init__(self, monkeypatch, busy: float = BUSY) -> None:
        # Room a loaded test machine needs between the busy spell's end (~2.3 s), the
        # extra time's (2.9 s) and the guard (3 s): the loop may get a core late.
        monkeypatch.setattr(deadline, "EXTRA_SHARE", EXTRA_SHARE)
        self.busy = busy  # seconds
        self.holds = 0
        self._thread = 0  # the loop's
        self._poke: socket.socket | None = None
        self._busy = threading.Event()

    def hold(self) -> None:
        """Make the loop busy for :attr:`busy` seconds as soon as it next reads its sockets. From
        another thread (a peer about to answer), returns once it is busy."""
        assert self._poke is not None, "hold() while the check runs"
        self.holds += 1
        self._busy.clear()
        self._poke.send(b"!")
        if threading.get_ident() != self._thread:
            assert self._busy.wait(10), "the loop never got busy"

    def _be_busy(self, sock: socket.socket) -> None:
        sock.recv(1)
        self._busy.set()
        time.sleep(self.busy)

    def run(self, registry: PluginRegistry, key: str, target: CheckTarget) -> CheckResult:
        """Run check *key* through the guard, as the scheduler does."""
        async def main() -> CheckResult:
            loop = asyncio.get_running_loop()
            self._thread = threading.get_ident()
            ours, self._poke = socket.socketpair()
            loop.add_reader(ours.fileno(), self._be_busy, ours)
            try:
                return (await registry.run_check_async(key, target))[0]
            finally:
                loop.remove_reader(ours.fileno())
                ours.close()
                self._poke.close()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
