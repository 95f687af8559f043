"""Synthetic history, recorded ticks and Gate-shaped candles."""

from __future__ import annotations

import itertools
from decimal import Decimal

from cab_exchange_sim.catalog import make_pair
from cab_exchange_sim.history import PriceHistory, candles, stats_24h

D = Decimal
BTC = make_pair("BTC/USDT")
START = 1_699_999_980_000  # a minute boundary


def history() -> PriceHistory:
    return PriceHistory("1:BTC_USDT", BTC, D("60000"), START)


def test_rows_have_gates_layout() -> None:
    rows = candles(history(), 60, START, 10, None, None)
    assert len(rows) == 10
    for row in rows:
        assert len(row) == 8 and all(isinstance(x, str) for x in row)
        t, quote_vol, close, high, low, open_, base_vol, closed = row
        assert int(t) % 60 == 0 and closed in ("true", "false")
        assert D(low) <= min(D(open_), D(close)) <= max(D(open_), D(close)) <= D(high)
        assert D(base_vol) >= 0 and D(quote_vol) >= 0
        assert closed == "false" or D(base_vol) > 0
    assert rows[-1][7] == "false" and rows[0][7] == "true"
    assert rows[-1][2] == "60000"


def test_history_is_deterministic_continuous_and_anchored() -> None:
    old = candles(history(), 60, START, None, START // 1000 - 600_000, None)
    assert len(old) == 1000 and int(old[0][0]) == START // 1000 - 600_000
    assert old == candles(history(), 60, START, None, START // 1000 - 600_000, None)
    for prev, nxt in itertools.pairwise(old):
        assert prev[2] == nxt[5]  # close == next open
    other = PriceHistory("2:BTC_USDT", BTC, D("60000"), START)
    assert candles(other, 60, START, 5, None, START // 1000 - 6000) != candles(
        history(), 60, START, 5, None, START // 1000 - 6000)
    before = history().price_at(START - 1000)
    assert abs(before - D("60000")) < D("60")  # synthetic history meets the anchor


def test_no_future_candles_and_ticks_after_start() -> None:
    hist = history()
    hist.record(START + 10_000, D("60100"))
    hist.record(START + 20_000, D("59900"))
    hist.record(START + 70_000, D("60050"))
    rows = candles(hist, 60, START + 80_000, None, START // 1000, START // 1000 + 3600)
    assert [r[0] for r in rows] == [str(START // 1000), str(START // 1000 + 60)]
    first, second = rows
    assert first[5] == "60000" and first[2] == "59900"
    assert (first[3], first[4], first[7]) == ("60100", "59900", "true")
    assert (second[5], second[2], second[7]) == ("59900", "60050", "false")
    assert hist.price_at(START + 15_000) == D("60100")


def test_stats_24h() -> None:
    hist = history()
    hist.record(START + 1000, D("61000"))
    stats = stats_24h(hist, START + 2000)
    assert stats["high"] >= D("61000") and stats["low"] < D("61000")
    assert stats["base_volume"] > 0 and stats["open"] > 0
