"""EMA fast/slow cross on closed candles: buy when fast crosses above slow, sell below."""

from __future__ import annotations

from typing import Any

from crypto_ai_bot.application.strategies import StrategyContext, StrategyEntry
from crypto_ai_bot.application.strategies.params import IntParam, Spec
from crypto_ai_bot.domain.indicators import EMA
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP

_HOLD = Signal(Action.HOLD, "no cross")


class EmaCross:
    """Signals on the candle where the cross happens, never earlier (no lookahead)."""

    name = "ema_cross"

    def __init__(self, fast: int = 12, slow: int = 26) -> None:
        if fast >= slow:
            raise ValueError("fast EMA period must be smaller than slow")
        self.fast_period, self.slow_period = fast, slow
        self.warmup_candles = slow
        # indicators.EMA's alpha and update, inline: this runs for every candle of every
        # backtest, and two method calls a candle were a tenth of a ten-pair run
        # (tests/unit/application/strategies/test_ema_cross.py holds both to the same numbers)
        self._alpha_fast, self._alpha_slow = EMA(fast).alpha, EMA(slow).alpha
        self._fast: float | None = None
        self._slow: float | None = None
        self._count = 0  # candles seen, up to warmup_candles (no further: it is not needed)
        self._prev_diff = 0.0
        self._buy = Signal(Action.BUY, f"ema{fast} crossed above ema{slow}")
        self._sell = Signal(Action.SELL, f"ema{fast} crossed below ema{slow}")

    def on_candle(self, bar: Bar) -> Signal:
        # The hot path of every backtest (a call a candle): the bar read by index (a
        # NamedTuple's attribute costs more), the warm-up counted only while it lasts.
        close = bar[4]  # the close
        fast, slow = self._fast, self._slow
        if fast is None or slow is None:  # the first candle seeds both EMAs
            self._fast = self._slow = close
            self._count = 1
            self._prev_diff = 0.0
            return HOLD_WARMUP
        fast += self._alpha_fast * (close - fast)
        slow += self._alpha_slow * (close - slow)
        self._fast = fast
        self._slow = slow
        diff = fast - slow
        prev = self._prev_diff
        self._prev_diff = diff
        if self._count < self.warmup_candles:
            self._count += 1
            if self._count < self.warmup_candles:
                return HOLD_WARMUP
        if prev <= 0 < diff:
            return self._buy
        if prev >= 0 > diff:
            return self._sell
        return _HOLD

    @property
    def values(self) -> tuple[float | None, float | None]:
        return self._fast, self._slow

    def indicators(self) -> dict[str, float]:
        """The two EMAs after the latest candle (ports/strategy.ExposesIndicators)."""
        if self._fast is None or self._slow is None:
            return {}
        return {f"ema{self.fast_period}": self._fast, f"ema{self.slow_period}": self._slow}


PARAMS: Spec = {
    "fast": IntParam(12, low=1, high=10_000, help="fast EMA period (EMA_FAST)"),
    "slow": IntParam(26, low=2, high=10_000, help="slow EMA period (EMA_SLOW)"),
}


def _ordered(values: dict[str, Any]) -> None:
    if values["fast"] >= values["slow"]:
        raise ValueError("fast EMA period must be smaller than slow")


def _build(values: dict[str, Any], _context: StrategyContext) -> EmaCross:
    return EmaCross(fast=values["fast"], slow=values["slow"])


STRATEGY = StrategyEntry(
    "ema_cross", "buy when the fast EMA crosses above the slow one, sell below", PARAMS,
    _build, _ordered,
)
