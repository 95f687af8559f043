"""The live loops (issue 14): an evaluate loop wakes when its feed says the next candle can be
read, not only on its interval; the event loop's lag is sampled for the metric."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from crypto_ai_bot.bootstrap import build_container


class _DueNow:
    """A feed's schedule that says, every time, that the next candle can be read now."""

    def __init__(self) -> None:
        self.asked = 0

    def due_in_s(self, symbol: str) -> float:
        self.asked += 1
        return 0.0


async def _until(check: Callable[[], bool], guard_s: float = 20.0) -> None:
    async def wait() -> None:
        while not check():  # noqa: ASYNC110 - the bot's counters have no event to wait on
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), guard_s)  # a guard against a hang, not a timing assertion


def _lag_samples(c: Any) -> float:
    [family] = c.metrics.loop_lag.collect()
    return next(s.value for s in family.samples if s.name.endswith("_count"))


async def test_evaluate_wakes_when_the_feed_says_and_lag_is_sampled(
    make_settings: Callable[..., Any],
) -> None:
    c = build_container(make_settings(autostart=False, price_feed="fixed", eval_interval_sec=600,
                                      exits_interval_sec=600, reconcile_interval_sec=600,
                                      dms_timeout_ms=1_500_000))
    due = _DueNow()
    p = c.pipelines["BTC/USDT"]
    p._paced = due  # type: ignore[assignment]
    try:
        await c.start()
        await c.orchestrator.start()
        # an interval of ten minutes, and yet the loop steps again and again
        await _until(lambda: c.orchestrator.cycles.get("evaluate:BTC/USDT", 0) >= 3)
        assert due.asked >= 2
        await _until(lambda: _lag_samples(c) >= 1)
    finally:
        await c.close()
