"""What the built-in strategies expose for the cockpit's chart (ports/strategy.ExposesIndicators):
nothing while warming up, then finite values under stable names."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from crypto_ai_bot.adapters.feeds import SyntheticMarket
from crypto_ai_bot.application.strategies import build_strategy
from crypto_ai_bot.application.strategies.ema_cross import EmaCross
from crypto_ai_bot.ports.strategy import ExposesIndicators


@pytest.mark.parametrize(("name", "names"), [
    ("ema_cross", {"ema12", "ema26"}),
    ("rsi", {"rsi14"}),
    ("bollinger", {"bb_lower", "bb_middle", "bb_upper"}),
    ("donchian", {"donchian20_high", "donchian10_low"}),
])
def test_each_builtin_exposes_its_indicators(name: str, names: set[str]) -> None:
    strategy = build_strategy(name, {})
    assert isinstance(strategy, ExposesIndicators)
    market = SyntheticMarket(3, Decimal(100), 0, 300_000)
    if name != "ema_cross":  # ema_cross starts both EMAs at the first close
        assert strategy.indicators() == {}
    for _ in range(60):
        strategy.on_candle(market.next_candle().bar())
    values = strategy.indicators()
    assert set(values) == names and all(math.isfinite(v) for v in values.values())


def test_ema_cross_exposes_its_own_numbers() -> None:
    s = EmaCross(5, 9)
    market = SyntheticMarket(3, Decimal(100), 0, 300_000)
    for _ in range(30):
        s.on_candle(market.next_candle().bar())
    assert s.indicators() == {"ema5": s.values[0], "ema9": s.values[1]}
