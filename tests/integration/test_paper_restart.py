"""A paper restart is a non-event: two containers, one after the other, on one SQLite file.
The synthetic market (and a replay) resumes where it stopped, so the stored trailing stop
meets the price it left, not the market's start."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from crypto_ai_bot.adapters.candle_files import write_csv
from crypto_ai_bot.adapters.feeds import ReplayFeed
from crypto_ai_bot.adapters.storage.sqlite.database import open_database
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.model import Candle
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000
SYMBOL = "BTC/USDT"


async def test_a_restart_resumes_the_synthetic_market_and_keeps_the_position(
    make_settings: Callable[..., Any],
) -> None:
    settings = make_settings(price_feed="synthetic", autostart=False, risk_cooldown_sec=0,
                             exits_trailing_pct=Decimal("1"), exits_hard_stop_pct=Decimal("2"))
    clock = ManualClock(T0)
    first = build_container(settings, clock=clock)
    await first.start()
    start = (await first.feed.ticker(SYMBOL)).last  # the market's start: BTC's 60000
    await first.feed.poll(SYMBOL)
    for _ in range(5000):  # on to a stretch well above the market's start
        last = (await first.feed.poll(SYMBOL)).candles[-1]
        clock.advance(2000)
        if last.close > start * Decimal("1.03"):
            break
    assert last.close > start * Decimal("1.03"), "the seeded market never rose 3 %"
    assert (await first.executor.enter(SYMBOL, "test")).outcome == "sent"
    held = first.repos.positions.get(SYMBOL)
    level = first.pipelines[SYMBOL].stop_level()
    assert level is not None and level.price > start  # the market's start would trip it
    await first.close()

    clock.advance(60_000)  # the bot was down a minute
    second = build_container(settings, clock=clock)
    await second.start()
    # the exits loop may come before evaluate: no stop fires, the price is where it was
    assert await second.pipelines[SYMBOL].protect() is None
    assert (await second.feed.ticker(SYMBOL)).last == last.close
    assert second.repos.positions.get(SYMBOL).base_amount == held.base_amount
    update = await second.feed.poll(SYMBOL)  # warm-up: what came before, then one new
    assert len(update.candles) == 60 and update.candles[-2] == last
    assert update.candles[-1].ts_ms == last.ts_ms + 300_000
    await second.close()


def test_a_replay_resumes_where_it_stopped(tmp_path: Path) -> None:
    import asyncio

    candles = [Candle(T0 + i * 300_000, Decimal(100 + i), Decimal(101 + i), Decimal(99 + i),
                      Decimal(100 + i), Decimal(1)) for i in range(200)]
    write_csv(tmp_path / "r.csv", candles)
    db = open_database(str(tmp_path / "bot.sqlite3"))
    state = SqliteRepositories(db).state

    async def run() -> None:
        clock = ManualClock(T0)
        feed = ReplayFeed(str(tmp_path / "r.csv"), clock, PriceBoard(), state=state)
        assert len((await feed.poll(SYMBOL)).candles) == 60
        for _ in range(10):
            await feed.poll(SYMBOL)
        again = ReplayFeed(str(tmp_path / "r.csv"), clock, PriceBoard(), state=state)
        assert (await again.ticker(SYMBOL)).last == candles[69].close
        update = await again.poll(SYMBOL)
        assert update.candles[-1] == candles[70] and len(update.candles) == 60
        assert (await again.poll(SYMBOL)).candles == [candles[71]]

    asyncio.run(run())
    db.close()
