"""The batchers' hand-over to event loops: a batch's results reach each loop in one
call, cancelled waiters are let go, a failing batch fails every waiter."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk_core.services.health.batching import _Batcher


class Doubler(_Batcher):
    """Doubles numbers; a 13 makes the whole batch fail."""

    def __init__(self) -> None:
        super().__init__(max_batch=100, linger=0.05)
        self.seen: list[int] = []

    def _handle(self, batch):
        numbers = [item for item, _ in batch]
        self.seen.extend(numbers)
        if 13 in numbers:
            for _, future in batch:
                future.set_exception(ValueError("unlucky batch"))
            return
        for number, future in batch:
            future.set_result(number * 2)


def test_a_batch_of_loop_futures_is_settled_with_one_wake_up_of_the_loop():
    batcher = Doubler()
    loop = asyncio.new_event_loop()
    wake_ups = []
    original = loop.call_soon_threadsafe

    def counted(callback, *args, **kwargs):
        wake_ups.append(callback)
        return original(callback, *args, **kwargs)

    loop.call_soon_threadsafe = counted

    async def many():
        return await asyncio.gather(*(batcher.submit_async(n) for n in range(100, 150)))

    try:
        assert loop.run_until_complete(many()) == [n * 2 for n in range(100, 150)]
    finally:
        batcher.close()
        loop.close()
    assert len(wake_ups) == 1  # 50 results, one batch, one hand-over


def test_a_cancelled_waiter_is_let_go_and_the_others_get_their_results():
    batcher = Doubler()

    async def one_gives_up():
        first, second = batcher.submit_async(1), batcher.submit_async(2)
        first.cancel()
        return await second, first.cancelled()

    try:
        assert asyncio.run(one_gives_up()) == (4, True)
    finally:
        batcher.close()


def test_a_failing_batch_fails_every_loop_waiter_and_the_next_batch_still_works():
    batcher = Doubler()

    async def unlucky_then_fine():
        failing = [batcher.submit_async(n) for n in (12, 13)]
        for future in failing:
            with pytest.raises(ValueError, match="unlucky"):
                await future
        return await batcher.submit_async(21)

    try:
        assert asyncio.run(unlucky_then_fine()) == 42
    finally:
        batcher.close()


def test_blocking_callers_still_get_concurrent_futures():
    batcher = Doubler()
    try:
        assert batcher.submit(5).result(timeout=10) == 10
    finally:
        batcher.close()
