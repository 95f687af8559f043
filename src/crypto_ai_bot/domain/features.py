"""Model features, computed incrementally: one O(1) update per closed candle.

The same `FeatureEngine` serves the live strategy (one candle at a time) and training
(`compute_features` runs it over a whole series), so the model sees identical numbers in both.
Every feature at candle t is a function of candles 0..t only: nothing reads ahead.

Features are floats and never become money. Candle gaps are not bridged: a return "over 12
candles" spans 12 stored candles, whatever their times.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from crypto_ai_bot.domain.indicators import EMA, RSI, RollingStats
from crypto_ai_bot.domain.model import Bar

RETURN_HORIZONS = (1, 3, 12, 48)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"ret_{h}" for h in RETURN_HORIZONS),  # log return of the close over h candles
    "vol_12",  # std of 1-candle log returns over 12 candles
    "vol_48",  # ... over 48 candles
    "rsi_14",  # Wilder RSI(14) scaled to 0..1
    "macd",  # MACD(12, 26) line / close
    "macd_signal",  # its EMA(9) / close
    "macd_hist",  # (line - signal) / close
    "atr_pct_14",  # Wilder ATR(14) as a percentage of the close
    "bb_pos_20",  # where the close sits in the 20-candle 2-sigma Bollinger band: 0 low, 1 high
    "volume_z_48",  # z-score of log(1 + volume) against the last 48 candles
    "tod_sin",  # UTC time of day of the candle's open, on the unit circle
    "tod_cos",
)
# Enough candles for the longest window (49 closes) and for the EMAs/Wilder averages to forget
# their seed ((1 - 2/27)^100 < 0.05 %), so that an engine started mid-series agrees with one
# started at the beginning to well under the model's resolution.
WARMUP_CANDLES = 100

_DAY_MS = 86_400_000
_TWO_PI = 2.0 * math.pi


class _WilderATR:
    """Average true range: a plain mean of the first `period` ranges, then Wilder smoothing."""

    __slots__ = ("count", "period", "prev_close", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self.prev_close: float | None = None
        self.value = 0.0
        self.count = 0

    def update(self, high: float, low: float, close: float) -> float:
        pc = self.prev_close
        tr = high - low if pc is None else max(high - low, abs(high - pc), abs(low - pc))
        self.prev_close = close
        self.count += 1
        if self.count <= self.period:
            self.value += (tr - self.value) / self.count
        else:
            self.value = (self.value * (self.period - 1) + tr) / self.period
        return self.value


class FeatureEngine:
    """Feeds on closed candles in time order; `update` returns the feature row or None.

    None means "still warming up" (fewer than WARMUP_CANDLES candles seen). The row's order is
    FEATURE_NAMES. Prices must be positive: a zero or negative close raises ValueError.
    """

    names = FEATURE_NAMES
    warmup_candles = WARMUP_CANDLES

    def __init__(self) -> None:
        self._closes: deque[float] = deque(maxlen=max(RETURN_HORIZONS) + 1)
        self._vol12 = RollingStats(12)
        self._vol48 = RollingStats(48)
        self._rsi = RSI(14)
        self._ema_fast = EMA(12)
        self._ema_slow = EMA(26)
        self._ema_signal = EMA(9)
        self._atr = _WilderATR(14)
        self._bb = RollingStats(20)
        self._volume = RollingStats(48)
        self.count = 0

    def update(self, bar: Bar) -> list[float] | None:
        """Consume one closed candle; its feature row once warmed up, else None."""
        close, high, low = bar.close, bar.high, bar.low
        if not close > 0.0:
            raise ValueError(f"candle at {bar.ts_ms}: close must be positive, got {close}")
        closes = self._closes
        if closes:
            r1 = math.log(close / closes[-1])
            self._vol12.update(r1)
            self._vol48.update(r1)
        closes.append(close)
        rsi = self._rsi.update(close)
        macd = self._ema_fast.update(close) - self._ema_slow.update(close)
        signal = self._ema_signal.update(macd)
        atr = self._atr.update(high, low, close)
        bb = self._bb
        bb.update(close)
        vol = self._volume
        log_volume = math.log1p(max(bar.volume, 0.0))
        vol.update(log_volume)
        self.count += 1
        if self.count < WARMUP_CANDLES:
            return None

        n = len(closes)
        rets = [math.log(close / closes[n - 1 - h]) for h in RETURN_HORIZONS]
        band = 4.0 * bb.std  # upper - lower for a 2-sigma band
        bb_pos = (close - (bb.mean - 2.0 * bb.std)) / band if band > 0.0 else 0.5
        vstd = vol.std
        volume_z = (log_volume - vol.mean) / vstd if vstd > 0.0 else 0.0
        angle = _TWO_PI * (bar.ts_ms % _DAY_MS) / _DAY_MS
        return [
            *rets,
            self._vol12.std,
            self._vol48.std,
            rsi / 100.0,
            macd / close,
            signal / close,
            (macd - signal) / close,
            100.0 * atr / close,
            bb_pos,
            volume_z,
            math.sin(angle),
            math.cos(angle),
        ]


def compute_features(bars: Iterable[Bar]) -> list[list[float] | None]:
    """Feature rows for a whole series, aligned with it (None while warming up).

    Runs the incremental engine, so each row equals what the live strategy computes at that
    candle when fed the same series from its start.
    """
    engine = FeatureEngine()
    return [engine.update(b) for b in bars]
