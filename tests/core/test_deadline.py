"""A check's deadline blames the device, not a busy loop (helpdesk_core/deadline.py).

The scene of each test: a peer answers, then the event loop is kept busy (a callback that
sleeps, as a sweep's thousands of answers keep it) until after the deadline, with the
answer waiting in the socket unread. On asyncio's loop and on uvloop (the scheduler's).
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import uvloop

from helpdesk_core import deadline
from helpdesk_core.deadline import answer_deadline, connected, unread

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def run(request):
    def run(coroutine):
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as runner:
            return runner.run(coroutine)
    return run


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    yield ours, theirs
    ours.close()
    theirs.close()


def _answer_then_be_busy(theirs: socket.socket, seconds: float) -> None:
    theirs.send(b"ok")
    time.sleep(seconds)


async def _read_with(limit, ours: socket.socket, theirs: socket.socket) -> bytes:
    """Wait 0.2 s for the answer; it comes at 0.05 s, then the loop is busy until 0.3 s."""
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, _answer_then_be_busy, theirs, 0.25)
    async with limit:
        return await loop.sock_recv(ours, 2)


def test_an_answer_left_unread_by_a_busy_loop_is_read_not_timed_out(run, pair):
    ours, theirs = pair

    async def scene():
        return await _read_with(answer_deadline(0.2, lambda: unread([ours.fileno()])),
                                ours, theirs)
    assert run(scene()) == b"ok"


def test_with_asyncio_timeout_the_same_answer_is_lost(run, pair):
    # Why the module exists: the loop runs the expired timer before it reads the socket.
    ours, theirs = pair

    async def scene():
        return await _read_with(asyncio.timeout(0.2), ours, theirs)
    with pytest.raises(TimeoutError):
        run(scene())


def test_a_silent_peer_times_out(run, pair):
    ours, _theirs = pair

    async def scene():
        async with answer_deadline(0.1, lambda: unread([ours.fileno()])):
            await asyncio.get_running_loop().sock_recv(ours, 2)
    with pytest.raises(TimeoutError):
        run(scene())


def test_an_answer_nobody_reads_does_not_hold_the_check_for_ever(run, pair, monkeypatch):
    # Something arrived, but the check waits for something else: it ends at the extra time.
    ours, theirs = pair
    theirs.send(b"noise")
    looked = []

    def answered() -> bool:
        looked.append(True)
        return unread([ours.fileno()])

    async def scene():
        async with answer_deadline(0.4, answered):
            await asyncio.sleep(30)
    with pytest.raises(TimeoutError):
        run(scene())
    # Looked again every step until the extra quarter was used, then gave up.
    steps = 0.4 * deadline.EXTRA_SHARE / deadline.STEP_SECONDS
    assert 2 <= len(looked) <= steps + 1


@pytest.fixture(params=["poll", "select"])
def asking(request, monkeypatch):
    """How sockets are asked: poll(), or select() where there is no poll (Windows)."""
    if request.param == "select":
        monkeypatch.delattr(deadline.select, "poll")
    return request.param


def test_a_closed_peer_counts_as_an_answer(pair, asking):
    ours, theirs = pair
    assert not unread([ours.fileno()])
    theirs.close()
    assert unread([ours.fileno()])
    assert not unread([-1])  # a transport already closed: nothing to ask


def test_an_answer_counts_before_it_is_read(pair, asking):
    ours, theirs = pair
    theirs.send(b"ok")
    assert unread([ours.fileno()])
    ours.recv(2)
    assert not unread([ours.fileno()])


def test_a_finished_connect_is_seen_before_the_loop_notices_it(asking):
    listener = socket.create_server(("127.0.0.1", 0))
    sock = socket.socket()
    sock.setblocking(False)
    try:
        assert sock.connect_ex(listener.getsockname()) in (0, 115)  # EINPROGRESS
        for _ in range(100):
            if connected(sock):
                break
            time.sleep(0.01)
        assert connected(sock)
    finally:
        sock.close()
        listener.close()
