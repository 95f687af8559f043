"""run_backtest against an independent minimal backtester on real BTC 5m candles.

The reference below shares no code with the bot: a plain loop over Decimals (EMAs on floats)
with the conventions of DESIGN §12 written out again: EMA 12/26 seeded with the first close,
signals from the 26th candle on, fills at the next open, a 2 % hard stop checked against the
low (filled at the stop, or at the open below it), 0.1 % fee on each fill (in base on buys,
in quote on sells), 1000 quote per entry, amounts floored to 1e-8. As in freqtrade, the stop
sits 2 % under the entry's fill price (fees excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

import pytest
from tests.conftest import need_shared_data

from crypto_ai_bot.adapters.candle_files import load_candles
from crypto_ai_bot.bootstrap import run_backtest
from crypto_ai_bot.domain.model import Candle

FEE = Decimal("0.001")
STOP = Decimal("0.98")
STAKE = Decimal(1000)
STEP8 = Decimal("0.00000001")


@dataclass
class RefTrade:
    entry_ts: int
    exit_ts: int
    reason: str
    pnl: Decimal


def reference(candles: list[Candle]) -> list[RefTrade]:
    a_fast, a_slow = 2 / 13, 2 / 27
    fast = slow = float(candles[0].close)
    prev_diff: float | None = None
    pending = ""
    held = cost = Decimal(0)
    entry_ts = 0
    entry_price = Decimal(0)
    trades: list[RefTrade] = []

    def sell(price: Decimal, ts: int, reason: str) -> None:
        nonlocal held, cost
        qty = held.quantize(STEP8, rounding=ROUND_DOWN)
        released = cost * (qty / held)
        trades.append(RefTrade(entry_ts, ts, reason, qty * price * (1 - FEE) - released))
        held, cost = held - qty, cost - released  # the dust below 1e-8 stays

    for i, c in enumerate(candles):
        in_pos = held >= STEP8
        if pending == "buy" and not in_pos:
            qty = (STAKE / c.open).quantize(STEP8, rounding=ROUND_DOWN)
            held, cost, entry_ts = held + qty * (1 - FEE), cost + qty * c.open, c.ts_ms
            entry_price = c.open
        elif pending == "sell" and in_pos:
            sell(c.open, c.ts_ms, "signal")
        pending = ""
        if held >= STEP8:
            stop = entry_price * STOP
            if c.low <= stop:
                sell(min(c.open, stop), c.ts_ms, "hard_stop")
        x = float(c.close)
        if i:
            fast += a_fast * (x - fast)
            slow += a_slow * (x - slow)
        diff = fast - slow
        if prev_diff is not None and i >= 25:
            if prev_diff <= 0 < diff:
                pending = "buy"
            elif prev_diff >= 0 > diff:
                pending = "sell"
        prev_diff = diff
    if held >= STEP8:
        sell(candles[-1].close, candles[-1].ts_ms + 300_000, "end_of_data")
    return trades


def test_run_backtest_agrees_with_the_reference_on_real_btc() -> None:
    candles = load_candles(need_shared_data())[10_000:30_000]
    ref = reference(candles)
    got = run_backtest(candles, symbol="BTC/USDT", strategy="ema_cross",
                       params={"fast": 12, "slow": 26}, stop_pct=2, fee_pct="0.1",
                       stake=1000, start_quote=10_000, timeframe_ms=300_000)
    assert len(got.trades) == len(ref) > 100
    assert any(t.reason == "hard_stop" for t in ref)
    for mine, theirs in zip(got.trades, ref, strict=True):
        assert (mine.entry_time_ms, mine.exit_time_ms, mine.exit_reason) == (
            theirs.entry_ts, theirs.exit_ts, theirs.reason)
        assert mine.pnl_quote == pytest.approx(theirs.pnl, abs=Decimal("0.001"))
    total_ref = sum((t.pnl for t in ref), Decimal(0))
    total = sum((t.pnl_quote for t in got.trades), Decimal(0))
    assert total == pytest.approx(total_ref, abs=Decimal("0.01"))
