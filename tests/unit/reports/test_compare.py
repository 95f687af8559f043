"""Lining the bot's trades up with the backtest's: by the candle that decided each."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.domain.model import ExitReason
from crypto_ai_bot.drivers.backtest.engine import BacktestTrade
from crypto_ai_bot.reports.compare import BotTrade, line_up, totals

STEP = 300_000
T0 = 1_767_225_600_000
D = Decimal


def bt(entry_candle: int, exit_candle: int, reason: ExitReason = ExitReason.SIGNAL,
       pnl: str = "1") -> BacktestTrade:
    """A backtest trade decided at those candles' closes (it fills at the next open; a stop
    fills inside its own candle)."""
    exit_ms = T0 + exit_candle * STEP + (0 if reason in ("hard_stop", "trailing_stop")
                                         else STEP)
    return BacktestTrade("BTC/USDT", T0 + (entry_candle + 1) * STEP, exit_ms, D(100), D(110),
                         D(1), D(pnl), reason, D("0.2"))


def bot(entry_candle: int, exit_candle: int | None, pnl: str = "0.9",
        entry_price: str = "100.02", exit_price: str = "109.978") -> BotTrade:
    return BotTrade("BTC/USDT", T0 + entry_candle * STEP, 0, D(entry_price), D(1), D("0.1"),
                    None if exit_candle is None else T0 + exit_candle * STEP, 0,
                    None if exit_candle is None else D(exit_price), D("0.11"), D(pnl),
                    "signal" if exit_candle is not None else "open")


def test_the_same_decisions_are_zero_drift_with_their_costs() -> None:
    pairs = line_up([bot(10, 20), bot(30, 35)], [bt(10, 20), bt(30, 35)], STEP)
    assert [p.kind for p in pairs] == ["matched", "matched"]
    tot = totals(pairs)
    assert tot["zero_drift"] and tot["matched"] == 2
    p = pairs[0]
    assert p.entry_delay == p.exit_delay == 0
    assert abs(p.entry_slippage_pct - 0.02) < 1e-9  # paid 100.02 for the backtest's 100
    assert abs(p.exit_slippage_pct - (110 / 109.978 - 1) * 100) < 1e-9  # got less
    assert p.fees_diff_quote == D("0.01") and p.pnl_diff_quote == D("-0.1")
    assert D(tot["pnl_diff_quote"]) == D("-0.2")


def test_missed_extra_delayed_and_open() -> None:
    pairs = line_up(
        [bot(11, 20), bot(50, 60), bot(90, None)],
        [bt(10, 20), bt(30, 35), bt(90, 99, ExitReason.END_OF_DATA)], STEP)
    kinds = [(p.kind, p.entry_delay) for p in pairs]
    assert kinds == [("matched", 1), ("missed", None), ("extra", None), ("open", 0)]
    tot = totals(pairs)
    assert not tot["zero_drift"]
    assert (tot["missed"], tot["extra"], tot["open"], tot["delayed"]) == (1, 1, 1, 1)


def test_a_stop_meets_the_candle_it_fell_in() -> None:
    stop = bt(10, 14, ExitReason.TRAILING_STOP)
    (p,) = line_up([bot(10, 14)], [stop], STEP)
    assert p.exit_delay == 0
    (late,) = line_up([bot(10, 16)], [stop], STEP)
    assert late.exit_delay == 2 and not totals([late])["zero_drift"]
