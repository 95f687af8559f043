"""The report's breakdowns, computed after a run: each against a figure worked out by hand or
against the run itself (the stop line rebuilt from the trades is the one the engine sold at)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from crypto_ai_bot.adapters.feeds import SyntheticMarket
from crypto_ai_bot.bootstrap import run_backtest
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.model import Candle, ExitReason
from crypto_ai_bot.drivers.backtest.engine import BacktestTrade
from crypto_ai_bot.reports.analysis import analyse, periods, streaks, trade_return_pct
from crypto_ai_bot.reports.marks import marks

T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC, a Wednesday
DAY = 86_400_000
STEP = 300_000


def _market(n: int = 4000, seed: int = 7) -> list[Candle]:
    m = SyntheticMarket(seed, Decimal(100), T0, STEP)
    return [m.next_candle() for _ in range(n)]


def test_streaks_count_the_longest_runs_in_order() -> None:
    d = [Decimal(x) for x in ("1", "2", "-1", "0", "-3", "5", "1", "1", "-1")]
    assert streaks(d) == (3, 3)  # 0 is not a win
    assert streaks([]) == (0, 0)


def test_months_and_weeks_end_at_their_last_close() -> None:
    # a close at midnight ends the day before: 2025-01-31 24:00 closes January
    stamps = np.array([T0 + DAY, T0 + 31 * DAY, T0 + 31 * DAY + STEP, T0 + 40 * DAY])
    equity = np.array([110.0, 121.0, 100.0, 150.0])
    months = periods(stamps, equity, 100.0, "M")
    assert [(p.label, round(p.return_pct, 6)) for p in months] == [
        ("2025-01", 21.0), ("2025-02", round((150 / 121 - 1) * 100, 6))]
    weeks = periods(stamps, equity, 100.0, "W")
    # 2025-01-01 is in ISO week 1; Jan 31 (Fri) in week 5; Feb 1 00:05 (Sat) too; Feb 9 (Sun) w6
    assert [p.label for p in weeks] == ["2025-W01", "2025-W05", "2025-W06"]
    assert weeks[1].end_equity == 100.0 and weeks[1].start_equity == 110.0


def test_trade_return_is_pnl_over_entry_cost() -> None:
    t = BacktestTrade("BTC/USDT", 0, 1, Decimal(200), Decimal(210), Decimal("0.5"),
                      Decimal("4.8"), ExitReason.SIGNAL, Decimal("0.2"))
    assert trade_return_pct(t) == 4.8


def test_the_report_matches_the_run() -> None:
    candles = _market()
    result = run_backtest(candles, params={"fast": 5, "slow": 20}, stop_pct=1,
                          trailing_pct="0.5", stake=1000, start_quote=10000)
    series = {"BTC/USDT": CandleSeries.of(candles)}
    report = analyse(result, series)
    assert sum(g.trades for g in report.per_exit_reason) == result.summary.trades > 10
    assert sum((g.pnl_quote for g in report.per_symbol), Decimal(0)) == sum(
        (t.pnl_quote for t in result.trades), Decimal(0))
    assert report.monthly[-1].end_equity == result.equity[-1]
    # the comparable buy-and-hold: 1000 of 10000 in the market, the rest cash
    first, last = float(candles[0].open), float(candles[-1].close)
    expected = 9000 + 1000 * (1 - 0.001) / first * last
    assert abs(report.hold_curve[-1] - expected) < 1e-6
    assert report.metrics["buy_hold_same_risk_pct"] == round((expected / 10000 - 1) * 100, 4)
    assert report.settings["params"] == {"fast": 5, "slow": 20}


def test_the_stop_line_is_where_the_engine_sold() -> None:
    """At every stop exit inside a candle (it opened above the stop), the rebuilt stop line
    stands at the exit price; while flat, there is no line."""
    candles = _market(6000, seed=11)
    result = run_backtest(candles, params={"fast": 5, "slow": 20}, stop_pct=1,
                          trailing_pct="0.4", stake=1000)
    (m,) = marks(result.trades, {"BTC/USDT": CandleSeries.of(candles)}, result.config)
    stops = [t for t in result.trades if t.exit_reason in ("hard_stop", "trailing_stop")]
    checked = 0
    for t in stops:
        i = int(np.searchsorted(m.ts_ms, t.exit_time_ms))
        if float(t.exit_price) < m.open[i]:  # sold at the stop's level, not at a gap's open
            assert abs(m.stop[i] - float(t.exit_price)) <= 1e-9 * float(t.exit_price), t
            checked += 1
    assert checked >= 5
    held = np.zeros(len(m.ts_ms), dtype=bool)
    for t in result.trades:
        a = int(np.searchsorted(m.ts_ms, t.entry_time_ms))
        b = int(np.searchsorted(m.ts_ms, t.exit_time_ms, side="right"))
        held[a:b] = True
    assert np.isnan(m.stop[~held]).all() and np.isfinite(m.stop[held]).all()
