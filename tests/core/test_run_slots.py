"""Places for check runs: at most so many at once, and the runs waiting for a place are
served longest expected first (a scheduler starting with every check due at once starts
the devices that hung last time first, so their timeouts run beside the others')."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk_core.services.health.slots import RunSlots


async def _run_until(slots: RunSlots, started: list, label, expected: float,
                     until: asyncio.Event) -> None:
    """A run: takes a place, notes *label* once it has it, holds it until *until* is set."""
    await slots.acquire(expected)
    started.append(label)
    try:
        await until.wait()
    finally:
        slots.release()


def test_runs_asking_together_are_served_longest_expected_first():
    async def scenario() -> list[float]:
        slots = RunSlots(2)
        started: list[float] = []
        release = asyncio.Event()
        tasks = [asyncio.create_task(_run_until(slots, started, e, e, release))
                 for e in (10, 3000, 50, 2000, 0, 50)]
        await asyncio.sleep(0.01)
        assert sorted(started) == [2000, 3000]  # two places: the two longest
        release.set()
        await asyncio.gather(*tasks)
        return started

    started = asyncio.run(scenario())
    assert started[:2] in ([3000, 2000], [2000, 3000])
    assert started[2:] == [50, 50, 10, 0]


def test_at_most_size_at_once_and_every_run_gets_its_turn():
    async def scenario() -> tuple[int, int]:
        slots = RunSlots(3)
        running = peak = done = 0

        async def run(expected: float) -> None:
            nonlocal running, peak, done
            await slots.acquire(expected)
            running += 1
            peak = max(peak, running)
            try:
                await asyncio.sleep(0.001 * (expected % 3))
            finally:
                running -= 1
                done += 1
                slots.release()

        await asyncio.gather(*(run(i) for i in range(50)))
        return peak, done

    assert asyncio.run(scenario()) == (3, 50)


def test_a_cancelled_run_does_not_keep_a_place():
    async def scenario() -> list[str]:
        slots = RunSlots(1)
        order: list[str] = []
        hold = asyncio.Event()

        def run(name: str, expected: float):
            return _run_until(slots, order, name, expected, hold)

        first = asyncio.create_task(run("first", 1))
        await asyncio.sleep(0.01)
        waiting = asyncio.create_task(run("cancelled while waiting", 100))
        after = asyncio.create_task(run("after", 0))
        await asyncio.sleep(0.01)
        waiting.cancel()
        hold.set()
        await asyncio.wait_for(asyncio.gather(first, after), 5)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # Given a place and cancelled before it could use it: the place is passed on.
        hold.clear()
        holder = asyncio.create_task(run("holder", 0))
        await asyncio.sleep(0.01)
        granted = asyncio.create_task(run("granted then cancelled", 5))
        last = asyncio.create_task(run("last", 0))
        await asyncio.sleep(0.01)
        hold.set()
        await asyncio.sleep(0)  # the holder's release grants the next one its place...
        granted.cancel()  # ...which is cancelled before it runs
        # (were the place lost, the last run would wait for ever)
        await asyncio.wait_for(asyncio.gather(holder, last, return_exceptions=True), 5)
        return order

    order = asyncio.run(scenario())
    assert order[:2] == ["first", "after"] and "cancelled while waiting" not in order
    assert order[2] == "holder" and order[-1] == "last"


def test_a_check_never_run_is_expected_to_take_its_whole_timeout():
    """A device just added may hang as well as any: among runs waiting for a place it
    goes before those that answered quickly last time, behind one that hung for longer."""
    from types import SimpleNamespace

    from helpdesk_core.services.health.running import expected_ms

    new = SimpleNamespace(last_latency_ms=None, timeout_seconds=3)
    quick = SimpleNamespace(last_latency_ms=12.5, timeout_seconds=3)
    hung = SimpleNamespace(last_latency_ms=5000.0, timeout_seconds=5)
    assert expected_ms(new) == 3000.0
    assert expected_ms(quick) == 12.5
    assert sorted([quick, new, hung], key=expected_ms, reverse=True) == [hung, new, quick]
