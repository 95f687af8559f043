"""Incremental indicators: each update is O(1). Floats here never become money."""

from __future__ import annotations

import math
from collections import deque


class EMA:
    """Exponential moving average seeded with the first value."""

    __slots__ = ("alpha", "count", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError("EMA period must be >= 1")
        self.alpha = 2.0 / (period + 1)
        self.value: float | None = None
        self.count = 0

    def update(self, x: float) -> float:
        v = self.value
        self.value = x if v is None else v + self.alpha * (x - v)
        self.count += 1
        return self.value


class RSI:
    """Wilder's RSI."""

    __slots__ = ("avg_gain", "avg_loss", "count", "period", "prev")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self.prev: float | None = None
        self.avg_gain = 0.0
        self.avg_loss = 0.0
        self.count = 0

    def update(self, x: float) -> float:
        if self.prev is None:
            self.prev = x
            return 50.0
        change = x - self.prev
        self.prev = x
        gain, loss = max(change, 0.0), max(-change, 0.0)
        self.count += 1
        n = self.period
        if self.count <= n:
            self.avg_gain += (gain - self.avg_gain) / self.count
            self.avg_loss += (loss - self.avg_loss) / self.count
        else:
            self.avg_gain = (self.avg_gain * (n - 1) + gain) / n
            self.avg_loss = (self.avg_loss * (n - 1) + loss) / n
        if self.avg_loss == 0:
            return 100.0 if self.avg_gain > 0 else 50.0
        rs = self.avg_gain / self.avg_loss
        return 100.0 - 100.0 / (1.0 + rs)


class RollingStats:
    """Mean and standard deviation over a fixed window (ring buffer, running sums)."""

    __slots__ = ("buf", "i", "n", "s", "ss", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.buf = [0.0] * window
        self.i = 0
        self.n = 0
        self.s = 0.0
        self.ss = 0.0

    def update(self, x: float) -> None:
        if self.n == self.window:
            old = self.buf[self.i]
            self.s -= old
            self.ss -= old * old
        else:
            self.n += 1
        self.buf[self.i] = x
        self.i = (self.i + 1) % self.window
        self.s += x
        self.ss += x * x

    @property
    def mean(self) -> float:
        return self.s / self.n if self.n else 0.0

    @property
    def std(self) -> float:
        if self.n < 2:
            return 0.0
        var = (self.ss - self.s * self.s / self.n) / (self.n - 1)
        return math.sqrt(var) if var > 0 else 0.0

    @property
    def full(self) -> bool:
        return self.n == self.window


class Donchian:
    """Highest high and lowest low of the last `window` candles (monotonic deques: O(1)
    amortised a candle). `upper`/`lower` describe the candles before the one being added when
    read before update(), which is how a breakout of the channel is told."""

    __slots__ = ("_highs", "_i", "_lows", "window")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("Donchian window must be >= 1")
        self.window = window
        self._i = 0
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()

    def update(self, high: float, low: float) -> None:
        i, highs, lows = self._i, self._highs, self._lows
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((i, high))
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((i, low))
        first = i - self.window + 1
        if highs[0][0] < first:
            highs.popleft()
        if lows[0][0] < first:
            lows.popleft()
        self._i = i + 1

    @property
    def full(self) -> bool:
        return self._i >= self.window

    @property
    def upper(self) -> float:
        return self._highs[0][1] if self._highs else math.nan

    @property
    def lower(self) -> float:
        return self._lows[0][1] if self._lows else math.nan
