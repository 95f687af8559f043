"""What a strategy file imports: `from crypto_ai_bot.strategy import IncrementalStrategy, ...`.

    class MyStrategy(IncrementalStrategy):
        '''One line saying what it trades on.'''
        fast = IntParam(9, low=2, high=50)

        def on_candle(self, bar: Bar) -> Signal:
            ...

Run it with `STRATEGY=path/to/my_strategy.py:MyStrategy` (paper, live) or
`cab-backtest --strategy path/to/my_strategy.py:MyStrategy --param fast=12`; see
docs/strategies.md.
"""

from __future__ import annotations

from crypto_ai_bot.application.strategies.base import FloatParam, IncrementalStrategy, IntParam
from crypto_ai_bot.domain.indicators import EMA, RSI, Donchian, RollingStats
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP

__all__ = [
    "EMA", "HOLD_WARMUP", "RSI", "Action", "Bar", "Donchian", "FloatParam", "IncrementalStrategy",
    "IntParam", "RollingStats", "Signal",
]
