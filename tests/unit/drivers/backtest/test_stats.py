"""Summary maths on numbers worked out by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from crypto_ai_bot.drivers.backtest import stats

D = Decimal


def test_max_drawdown_is_the_deepest_fall_from_a_running_peak() -> None:
    assert stats.max_drawdown_pct([100, 120, 90, 130, 65, 140]) == pytest.approx(50.0)
    assert stats.max_drawdown_pct([1, 2, 3]) == 0.0
    assert math.copysign(1.0, stats.max_drawdown_pct([1, 2, 3])) == 1.0  # not -0.0 in JSON
    assert stats.drawdown_series([100, 50, 100, 200, 150]) == pytest.approx(
        [0.0, -50.0, 0.0, 0.0, -25.0]
    )


def test_returns_sharpe_and_sortino() -> None:
    eq = [100.0, 110.0, 99.0, 108.9]
    rets = stats.returns(eq)
    assert rets == pytest.approx([0.1, -0.1, 0.1])
    mean, sd = 0.1 / 3, math.sqrt(((0.1 - 0.1 / 3) ** 2 * 2 + (-0.1 - 0.1 / 3) ** 2) / 2)
    assert stats.sharpe(rets, 4) == pytest.approx(mean / sd * 2)
    assert stats.sortino(rets, 4) == pytest.approx(mean / math.sqrt(0.01 / 3) * 2)
    assert stats.sharpe([0.01, 0.01], 4) is None  # no variance
    assert stats.sortino([0.01, 0.02], 4) is None  # no losing period


def test_trade_ratios() -> None:
    pnls = [D(30), D(-10), D(20), D(-5)]
    assert stats.profit_factor(pnls) == pytest.approx(50 / 15)
    assert stats.profit_factor([D(1)]) is None
    assert stats.win_rate(pnls) == 50.0
    assert stats.pct(1, 4) == 25.0


def test_buy_and_hold_pays_the_fee_twice() -> None:
    assert stats.buy_hold_pct(D(100), D(110), D(0)) == pytest.approx(10.0)
    assert stats.buy_hold_pct(D(100), D(110), D("0.1")) == pytest.approx((1.1 * 0.999**2 - 1) * 100)


def test_summary_json_keeps_money_exact() -> None:
    s = stats.Summary(
        start_quote=D(10000), final_quote=D("10097.8011"), pnl_quote=D("97.8011"),
        total_return_pct=0.978011, trades=1, wins=1, losses=0, win_rate_pct=100.0,
        profit_factor=None, max_drawdown_pct=0.0, sharpe=None, sortino=None, exposure_pct=50.0,
        fees_quote=D("2.0989"), buy_hold_return_pct=9.78, timeframe_ms=300_000,
        periods_per_year=stats.YEAR_MS / 300_000, first_ts_ms=0, last_ts_ms=1,
    )
    doc = s.as_dict()
    assert doc["final_quote"] == "10097.8011" and doc["fees_quote"] == "2.0989"
    assert doc["profit_factor"] is None and doc["periods_per_year"] == 105120.0


def test_buy_and_hold_of_two_symbols_holds_a_late_starter_as_cash() -> None:
    from crypto_ai_bot.bootstrap import run_backtest
    from crypto_ai_bot.domain.model import Candle

    t0, step = 1_767_225_600_000, 300_000

    def series(first: int, closes: list[int]) -> list[Candle]:
        opens = [closes[0], *closes[:-1]]
        return [Candle(t0 + (first + i) * step, D(o), D(max(o, c)), D(min(o, c)), D(c), D(1))
                for i, (o, c) in enumerate(zip(opens, closes, strict=True))]

    result = run_backtest({"A/USDT": series(0, [100, 110, 120, 130]),
                           "B/USDT": series(2, [50, 60])},
                          params={"fast": 2, "slow": 3}, fee_pct=0, start_quote=10000)
    # half each: A buys 50 at 100 from the start; B's half is cash until B buys 100 at 50
    assert result.buy_hold == [10000.0, 10500.0, 11000.0, 12500.0]
