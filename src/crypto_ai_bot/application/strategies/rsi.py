"""RSI mean reversion: buy a dip the RSI calls oversold, sell when it has bounced back.

Trades on Wilder's RSI of the closes: BUY on the candle where the RSI falls below `oversold`,
SELL on the candle where it rises above `overbought`. Best in ranging markets; in a trend it
buys every dip of a fall, which the hard stop is there to cut.
"""

from __future__ import annotations

from crypto_ai_bot.application.strategies.base import (
    FloatParam,
    IncrementalStrategy,
    IntParam,
    entry_for,
)
from crypto_ai_bot.domain.indicators import RSI
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP


class RsiReversion(IncrementalStrategy):
    """Buy when the RSI falls below oversold, sell when it rises above overbought."""

    name = "rsi"
    period = IntParam(14, low=2, high=100, help="RSI period (candles)")
    oversold = FloatParam(30.0, low=1.0, high=50.0, help="buy below this RSI")
    overbought = FloatParam(70.0, low=50.0, high=99.0, help="sell above this RSI")

    def __init__(self, **params: float) -> None:
        super().__init__(**params)
        self._rsi = RSI(self.period)
        self.warmup_candles = self.period + 1
        self._count = 0
        self._prev: float | None = None
        self.value: float | None = None  # the latest RSI, for charts

    def on_candle(self, bar: Bar) -> Signal:
        rsi = self._rsi.update(bar.close)
        self._count += 1
        prev, self._prev, self.value = self._prev, rsi, rsi
        if self._count < self.warmup_candles or prev is None:
            return HOLD_WARMUP
        if prev >= self.oversold > rsi:
            return Signal(Action.BUY, f"rsi{self.period} {rsi:.1f} fell below {self.oversold:g}")
        if prev <= self.overbought < rsi:
            return Signal(Action.SELL,
                          f"rsi{self.period} {rsi:.1f} rose above {self.overbought:g}")
        return Signal(Action.HOLD, f"rsi{self.period} {rsi:.1f}")

    def indicators(self) -> dict[str, float]:
        """The RSI after the latest candle (ports/strategy.ExposesIndicators)."""
        return {} if self.value is None else {f"rsi{self.period}": self.value}


STRATEGY = entry_for(RsiReversion)
