"""Accelerated paper (a candle closed every EVAL_INTERVAL_SEC): the idempotency bucket is
market time, and each symbol's synthetic market starts at a price of its own."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000


def test_the_bucket_scales_with_the_simulated_candle(make_settings: Callable[..., Any]) -> None:
    # 60 s of a 5m candle closed every 2 s: 400 ms of wall clock
    assert make_settings().execution_config.idempotency_bucket_ms == 400
    assert make_settings(timeframe="1m", eval_interval_sec=1).execution_config \
        .idempotency_bucket_ms == 1000
    # prices in real time keep the bucket as set
    assert make_settings(price_feed="fixed").execution_config.idempotency_bucket_ms == 60_000


async def test_decisions_two_candles_apart_are_not_duplicates(
    make_settings: Callable[..., Any],
) -> None:
    clock = ManualClock(T0)
    c = build_container(make_settings(autostart=False, risk_cooldown_sec=0), clock=clock)
    await c.start()
    await c.feed.poll("BTC/USDT")
    assert (await c.executor.enter("BTC/USDT", "a")).outcome == "sent"
    assert (await c.executor.exit("BTC/USDT", "b")).outcome == "sent"
    clock.advance(2000)  # the next evaluation: a new candle, a new decision
    await c.feed.poll("BTC/USDT")
    assert (await c.executor.enter("BTC/USDT", "c")).outcome == "sent"
    await c.close()


async def test_each_symbol_starts_at_its_own_price(make_settings: Callable[..., Any]) -> None:
    c = build_container(make_settings(symbols="BTC/USDT,ETH/USDT,FOO/USDT", autostart=False),
                        clock=ManualClock(T0))
    prices = {s: (await c.feed.ticker(s)).last for s in ("BTC/USDT", "ETH/USDT", "FOO/USDT")}
    assert prices == {"BTC/USDT": Decimal(60000), "ETH/USDT": Decimal(3000),
                      "FOO/USDT": Decimal(100)}
    eth = (await c.feed.poll("ETH/USDT")).candles
    assert 2000 < eth[-1].close < 4500  # it moves from there
    c.db.close()
    fixed = build_container(make_settings(fixed_price="250", autostart=False),
                            clock=ManualClock(T0))
    assert (await fixed.feed.ticker("BTC/USDT")).last == 250  # FIXED_PRICE, when set, rules
    fixed.db.close()
