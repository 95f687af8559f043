"""Donchian trend: buy a new `entry`-candle high, sell a new `exit`-candle low (the turtles).

The channel is the highest high and the lowest low of the candles before the current one: a
close above the `entry` channel's top starts a trend (BUY), a close below the shorter `exit`
channel's bottom ends it (SELL). A trend follower: many small losses, a few large wins.
"""

from __future__ import annotations

from crypto_ai_bot.application.strategies.base import IncrementalStrategy, IntParam, entry_for
from crypto_ai_bot.domain.indicators import Donchian
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP


class DonchianTrend(IncrementalStrategy):
    """Buy a close above the highest high of `entry` candles, sell one below the lowest low
    of `exit` candles."""

    name = "donchian"
    entry = IntParam(20, low=2, high=400, help="candles of the breakout channel")
    exit = IntParam(10, low=2, high=400, help="candles of the exit channel")

    def __init__(self, **params: int) -> None:
        super().__init__(**params)
        self._entry, self._exit = Donchian(self.entry), Donchian(self.exit)
        self.warmup_candles = max(self.entry, self.exit) + 1
        self._count = 0

    def on_candle(self, bar: Bar) -> Signal:
        top, bottom = self._entry.upper, self._exit.lower  # the channels before this candle
        ready = self._entry.full and self._exit.full
        self._entry.update(bar.high, bar.low)
        self._exit.update(bar.high, bar.low)
        if not ready:
            return HOLD_WARMUP
        if bar.close > top:
            return Signal(Action.BUY, f"close {bar.close:g} above the {self.entry}-candle high")
        if bar.close < bottom:
            return Signal(Action.SELL, f"close {bar.close:g} below the {self.exit}-candle low")
        return Signal(Action.HOLD, "inside the channel")

    def indicators(self) -> dict[str, float]:
        """The channels, the latest candle included (ports/strategy.ExposesIndicators)."""
        out: dict[str, float] = {}
        if self._entry.full:
            out[f"donchian{self.entry}_high"] = self._entry.upper
        if self._exit.full:
            out[f"donchian{self.exit}_low"] = self._exit.lower
        return out


STRATEGY = entry_for(DonchianTrend)
