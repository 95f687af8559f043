"""SlidingWindowLimiter keeps within its limit in every window, where a token bucket would not."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_ai_bot.utils.rate_limit import SlidingWindowLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@settings(max_examples=100, deadline=None)
@given(limit=st.integers(1, 5), gaps=st.lists(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.5]),
                                              min_size=1, max_size=30))
def test_never_more_than_the_limit_in_any_window(limit: int, gaps: list[float]) -> None:
    clock = FakeTime()
    limiter = SlidingWindowLimiter(limit, 1.0, now=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def burst() -> None:
        for gap in gaps:
            clock.now += gap
            await limiter.acquire()
            sent.append(clock.now)

    asyncio.run(burst())
    for i, t in enumerate(sent):  # the requests in [t, t + window)
        assert sum(1 for u in sent[i:] if u < t + 1.0 - 1e-9) <= limit  # float sums
    # and none waited longer than it had to: each goes when it comes, or as soon as the one
    # `limit` places before it leaves the window
    for i, t in enumerate(sent):
        came = (sent[i - 1] if i else 0.0) + gaps[i]
        due = sent[i - limit] + 1.0 if i >= limit else came
        assert t == pytest.approx(max(came, due))


def test_a_quiet_spell_does_not_buy_a_double_burst() -> None:
    """A token bucket of 2/s lets 2 go at once, then 1 every half second: 3 in the first
    second. This limiter lets the third go only a window after the first."""
    clock = FakeTime()
    limiter = SlidingWindowLimiter(2, 1.1, now=clock, sleep=clock.sleep)

    async def three() -> list[float]:
        out = []
        for _ in range(3):
            await limiter.acquire()
            out.append(clock.now)
        return out

    assert asyncio.run(three()) == [0.0, 0.0, pytest.approx(1.1)]


def test_zero_is_no_limit_and_bad_values_are_refused() -> None:
    clock = FakeTime()
    free = SlidingWindowLimiter(0, now=clock, sleep=clock.sleep)

    async def many() -> None:
        for _ in range(100):
            await free.acquire()

    asyncio.run(many())
    assert clock.slept == []
    with pytest.raises(ValueError):
        SlidingWindowLimiter(-1)
    with pytest.raises(ValueError):
        SlidingWindowLimiter(3, 0)


def test_an_urgent_request_goes_before_the_ordinary_ones_waiting() -> None:
    """A stop's placement or an entry's balance read does not queue behind reconcile's reads."""

    async def scenario() -> list[str]:
        limiter = SlidingWindowLimiter(1, 0.05)
        order: list[str] = []
        await limiter.acquire()  # the window is full

        async def take(name: str, urgent: bool = False) -> None:
            await limiter.acquire(urgent)
            order.append(name)

        tasks = [asyncio.create_task(take(f"ordinary {i}")) for i in range(3)]
        await asyncio.sleep(0)  # they wait for the window
        tasks.append(asyncio.create_task(take("urgent", urgent=True)))
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == ["urgent", "ordinary 0", "ordinary 1", "ordinary 2"]


def test_urgent_and_ordinary_together_keep_within_the_limit() -> None:
    import time

    async def scenario() -> list[float]:
        limiter = SlidingWindowLimiter(2, 0.05)
        granted: list[float] = []

        async def take(urgent: bool) -> None:
            await limiter.acquire(urgent)
            granted.append(time.monotonic())

        await asyncio.gather(*(take(i % 3 == 0) for i in range(12)))
        return sorted(granted)

    granted = asyncio.run(scenario())
    assert len(granted) == 12
    for i, t in enumerate(granted):  # never more than 2 in any 50 ms
        assert sum(1 for u in granted[i:] if u < t + 0.05 - 1e-4) <= 2
