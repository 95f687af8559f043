"""EMA fast/slow cross on closed candles: buy when fast crosses above slow, sell below."""

from __future__ import annotations

from crypto_ai_bot.core.domain import Action, Bar, Signal
from crypto_ai_bot.core.strategy.base import HOLD_WARMUP
from crypto_ai_bot.core.strategy.indicators import EMA

_HOLD = Signal(Action.HOLD, "no cross")


class EmaCross:
    """Signals on the candle where the cross happens, never earlier (no lookahead)."""

    name = "ema_cross"

    def __init__(self, fast: int = 12, slow: int = 26) -> None:
        if fast >= slow:
            raise ValueError("fast EMA period must be smaller than slow")
        self.fast_period, self.slow_period = fast, slow
        self.warmup_candles = slow
        self._fast = EMA(fast)
        self._slow = EMA(slow)
        self._prev_diff: float | None = None

    def on_candle(self, bar: Bar) -> Signal:
        close = bar.close
        diff = self._fast.update(close) - self._slow.update(close)
        prev, self._prev_diff = self._prev_diff, diff
        if prev is None or self._slow.count < self.warmup_candles:
            return HOLD_WARMUP
        if prev <= 0 < diff:
            return Signal(Action.BUY, f"ema{self.fast_period} crossed above ema{self.slow_period}")
        if prev >= 0 > diff:
            return Signal(Action.SELL, f"ema{self.fast_period} crossed below ema{self.slow_period}")
        return _HOLD

    @property
    def values(self) -> tuple[float | None, float | None]:
        return self._fast.value, self._slow.value
