"""The strategy port: closed candles in (as float Bars), a signal with its reason out.

A strategy instance serves one symbol and keeps its state incrementally, so one candle costs
O(1) and live, paper and backtest see the same numbers in the same order.
"""

from __future__ import annotations

from typing import Protocol

from crypto_ai_bot.domain.model import Action, Bar, Signal

HOLD_WARMUP = Signal(Action.HOLD, "warming up")


class Strategy(Protocol):
    name: str
    warmup_candles: int

    def on_candle(self, bar: Bar) -> Signal:
        """Consume the next closed candle (in time order) and say what to do."""
        ...
