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
