"""What a strategy file imports: `from crypto_ai_bot.strategy import IncrementalStrategy, ...`,
or, for a vectorised one in freqtrade's shape, `from crypto_ai_bot.strategy import IStrategy`
(the one line a freqtrade strategy changes to port; IntParameter and DecimalParameter too).

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
from crypto_ai_bot.application.strategies.vector import (
    DecimalParameter,
    IntParameter,
    IStrategy,
)
from crypto_ai_bot.domain.indicators import EMA, RSI, Donchian, RollingStats
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP

RealParameter = DecimalParameter

__all__ = [
    "EMA", "HOLD_WARMUP", "RSI", "Action", "Bar", "DecimalParameter", "Donchian", "FloatParam",
    "IStrategy", "IncrementalStrategy", "IntParam", "IntParameter", "RealParameter",
    "RollingStats", "Signal",
]
