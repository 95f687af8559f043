"""The search space (declared ranges, --space, --param, the stops) and the objectives."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.synthetic_market import market

from crypto_ai_bot.application.strategies import entry
from crypto_ai_bot.bootstrap import run_backtest
from crypto_ai_bot.drivers.optimize.objectives import calmar, resolve, scores
from crypto_ai_bot.drivers.optimize.space import build_space, parse_range

SPEC = entry("ema_cross").params


def test_the_declared_ranges_and_both_stops_are_searched_by_default() -> None:
    dims = {d.name: d for d in build_space(SPEC, {}, {})}
    assert set(dims) == {"fast", "slow", "stop_pct", "trailing_pct"}
    assert (dims["fast"].kind, dims["fast"].low, dims["fast"].high) == (int, 1, 10_000)
    assert (dims["stop_pct"].low, dims["stop_pct"].high, dims["stop_pct"].step) == (0.5, 10, 0.1)


def test_a_fixed_parameter_is_not_searched_and_a_range_narrows() -> None:
    dims = build_space(SPEC, {"trailing_pct": 0, "slow": 50}, dict([parse_range("fast=5:40")]))
    assert [d.describe() for d in dims] == ["fast=5:40", "stop_pct=0.5:10"]


@pytest.mark.parametrize(("fixed", "ranges", "message"), [
    ({"nope": 1}, {}, "unknown parameter 'nope'"),
    ({}, {"fast": (0.0, 40.0)}, "leaves its declared range"),
    ({}, {"fast": (5.5, 40.0)}, "fast is an integer"),
    ({}, {"slow": (90.0, 40.0)}, "low above high"),
    ({"fast": 5, "slow": 9, "stop_pct": 1, "trailing_pct": 0}, {}, "nothing to search"),
])
def test_unusable_spaces_are_named(fixed: dict[str, float], ranges: dict[str, tuple[float, float]],
                                   message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_space(SPEC, fixed, ranges)


def test_a_malformed_range_is_refused() -> None:
    with pytest.raises(ValueError, match="expected NAME=LOW:HIGH"):
        parse_range("fast=5-40")


def test_objectives_builtin_and_from_a_file(tmp_path: Path) -> None:
    result = run_backtest(market(days=6), params={"fast": 5, "slow": 20})
    assert result.summary.trades > 5
    assert resolve("sharpe")(result) == result.summary.sharpe
    assert resolve("profit")(result) == result.summary.total_return_pct
    assert resolve("calmar")(result) == calmar(result)
    own = tmp_path / "mine.py"
    own.write_text("def score(result):\n    return -result.summary.max_drawdown_pct\n")
    assert resolve(f"{own}:score")(result) == -result.summary.max_drawdown_pct
    with pytest.raises(ValueError, match="unknown objective 'speed'"):
        resolve("speed")
    with pytest.raises(ValueError, match="has no function 'nope'"):
        resolve(f"{own}:nope")


def test_below_the_minimum_trade_count_a_trial_fails_rather_than_scores() -> None:
    result = run_backtest(market(days=6), params={"fast": 5, "slow": 20})
    n = result.summary.trades
    assert scores(result, [resolve("sharpe")], n) == ([result.summary.sharpe], "")
    assert scores(result, [resolve("sharpe")], n + 1) == (
        None, f"{n} trades < --min-trades {n + 1}")
