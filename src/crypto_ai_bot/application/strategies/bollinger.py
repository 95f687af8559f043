"""Bollinger breakout: buy a close above the upper band, sell a close back under the middle.

The bands are the `window`-candle mean of the closes plus and minus `width` standard
deviations. A close above the upper band starts a move (BUY); a close below the mean says it is
over (SELL). A volatility-breakout strategy: it sits out quiet markets.
"""

from __future__ import annotations

from crypto_ai_bot.application.strategies.base import (
    FloatParam,
    IncrementalStrategy,
    IntParam,
    entry_for,
)
from crypto_ai_bot.domain.indicators import RollingStats
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP


class BollingerBreakout(IncrementalStrategy):
    """Buy a close above the upper Bollinger band, sell a close under the middle band."""

    name = "bollinger"
    window = IntParam(20, low=5, high=200, help="candles in the mean and deviation")
    width = FloatParam(2.0, low=0.5, high=4.0, help="band width in standard deviations")

    def __init__(self, **params: float) -> None:
        super().__init__(**params)
        self._stats = RollingStats(self.window)
        self.warmup_candles = self.window
        self.bands: tuple[float, float, float] | None = None  # lower, middle, upper, for charts

    def on_candle(self, bar: Bar) -> Signal:
        stats = self._stats
        stats.update(bar.close)
        if not stats.full:
            return HOLD_WARMUP
        mid, dev = stats.mean, stats.std * self.width
        self.bands = (mid - dev, mid, mid + dev)
        if bar.close > mid + dev:
            return Signal(Action.BUY, f"close {bar.close:g} above the upper band {mid + dev:.2f}")
        if bar.close < mid:
            return Signal(Action.SELL, f"close {bar.close:g} under the middle band {mid:.2f}")
        return Signal(Action.HOLD, "inside the bands")

    def indicators(self) -> dict[str, float]:
        """The bands after the latest candle (ports/strategy.ExposesIndicators)."""
        if self.bands is None:
            return {}
        lower, mid, upper = self.bands
        return {"bb_lower": lower, "bb_middle": mid, "bb_upper": upper}


STRATEGY = entry_for(BollingerBreakout)
