"""Candle files: CSV (`timestamp_ms,open,high,low,close,volume`, optionally .gz) and freqtrade's
feather files. Problems in a series (gaps, duplicates, rows out of order) are found and reported.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from crypto_ai_bot.domain.model import Bar, Candle

OPEN, HIGH, LOW, CLOSE, VOLUME = 1, 2, 3, 4, 5  # field positions in a Candle and a Bar


Columns = tuple[Any, Any, Any, Any, Any]  # numpy arrays: time (int64 ms), open, high, low, close


@functools.lru_cache(maxsize=1 << 16)  # prices come back to the same levels again and again
def exact_decimal(x: float) -> Decimal:
    """The shortest decimal that reads back as x (92792.05, and 92792 rather than 92792.0)."""
    text = repr(x)
    return Decimal(text[:-2] if text.endswith(".0") else text)


class CandleSeries:
    """A series for backtests: float Bars for the strategy, statistics and cheap comparisons,
    and the exact Decimal of any price, made when money needs it.

    Read from a file of floats (freqtrade's feather files), a price's Decimal is the shortest
    decimal that reads back as that float (exact_decimal): the exchange's own number, as
    the exchange's JSON carried it. Made from Decimal candles (CSV, the database), the series
    keeps those candles and answers with them.

    A series read from a feather file also keeps the file's columns as numpy arrays
    (`columns`: time, open, high, low, close), for checks and timelines over the whole series.
    """

    __slots__ = ("_candles", "bars", "columns")

    def __init__(self, bars: list[Bar], candles: Sequence[Candle] | None = None,
                 columns: Columns | None = None) -> None:
        if candles is not None and len(candles) != len(bars):
            raise ValueError("bars and candles differ in length")
        if columns is not None and any(len(col) != len(bars) for col in columns):
            raise ValueError("bars and columns differ in length")
        self.bars = bars
        self._candles = candles
        self.columns = columns

    @property
    def prices_are_floats(self) -> bool:
        """Whether each price's Decimal is its float's (exact_decimal): then comparing the
        floats of two prices orders their Decimals (a series read from a file of floats)."""
        return self._candles is None

    def stamps(self) -> Any:
        """The candles' times as a numpy int64 array."""
        return self._column(0, "int64")

    def closes(self) -> Any:
        """The candles' closes as a numpy float64 array."""
        return self._column(CLOSE, "float64")

    def _column(self, position: int, dtype: str) -> Any:
        if self.columns is not None:
            return self.columns[position]
        import numpy as np

        return np.fromiter(map(itemgetter(position), self.bars), dtype, len(self.bars))

    @classmethod
    def of(cls, candles: Sequence[Candle]) -> CandleSeries:
        return cls([c.bar() for c in candles], candles)

    def __len__(self) -> int:
        return len(self.bars)

    def price(self, i: int, position: int) -> Decimal:
        """The exact price at index i; position is OPEN, HIGH, LOW or CLOSE."""
        if self._candles is not None:
            value = self._candles[i][position]
            assert isinstance(value, Decimal)
            return value
        return exact_decimal(self.bars[i][position])

    def candle(self, i: int) -> Candle:
        if self._candles is not None:
            return self._candles[i]
        b = self.bars[i]
        return Candle(b.ts_ms, *map(exact_decimal, b[1:]))

    def candles(self) -> list[Candle]:
        if self._candles is not None:
            return list(self._candles)
        return [self.candle(i) for i in range(len(self.bars))]

    def span(self, start: int | None, end: int | None) -> CandleSeries:
        """The candles with start <= ts_ms < end, in the order they come."""
        if start is None and end is None:
            return self
        lo = start if start is not None else -(2**62)
        hi = end if end is not None else 2**62
        keep = [i for i, b in enumerate(self.bars) if lo <= b.ts_ms < hi]
        candles = None if self._candles is None else [self._candles[i] for i in keep]
        columns = None if self.columns is None else tuple(col[keep] for col in self.columns)
        return CandleSeries([self.bars[i] for i in keep], candles, columns)


@dataclass(slots=True)
class SeriesReport:
    """What is wrong with a candle series, if anything."""

    count: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (last ts before, next ts)
    duplicates: list[int] = field(default_factory=list)
    out_of_order: list[int] = field(default_factory=list)
    bad_rows: list[int] = field(default_factory=list)  # high < low, close outside range, ...

    @property
    def ok(self) -> bool:
        return not (self.gaps or self.duplicates or self.out_of_order or self.bad_rows)

    def describe(self) -> str:
        if self.ok:
            return f"{self.count} candles, no gaps, duplicates or rows out of order"
        parts = [f"{self.count} candles"]
        if self.gaps:
            parts.append(f"{len(self.gaps)} gap(s)")
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate(s)")
        if self.out_of_order:
            parts.append(f"{len(self.out_of_order)} row(s) out of order")
        if self.bad_rows:
            parts.append(f"{len(self.bad_rows)} inconsistent row(s)")
        return ", ".join(parts)


def check_series(
    candles: Sequence[Candle] | Sequence[Bar] | CandleSeries, step_ms: int
) -> SeriesReport:
    """Find gaps, duplicates, rows out of order and inconsistent OHLC rows (of Candles, or of
    Bars: a float compares as its Decimal does). A series read from a feather file is checked
    on its columns, with the same answers."""
    if isinstance(candles, CandleSeries):
        if candles.columns is not None:
            return _check_columns(candles.columns, step_ms)
        candles = candles.bars
    rep = SeriesReport(count=len(candles))
    prev: int | None = None
    for ts, open_, high, low, close, _volume in candles:
        if not (low <= open_ <= high and low <= close <= high):  # high < low included
            rep.bad_rows.append(ts)
        if prev is None or ts > prev:
            if prev is not None and ts - prev > step_ms:
                rep.gaps.append((prev, ts))
            prev = ts
        elif ts == prev:
            rep.duplicates.append(ts)
        else:
            rep.out_of_order.append(ts)
    return rep


def _check_columns(columns: Columns, step_ms: int) -> SeriesReport:
    """check_series over numpy columns: a row compares with the latest time before it."""
    import numpy as np

    ts, open_, high, low, close = columns
    rep = SeriesReport(count=len(ts))
    bad = ~((low <= open_) & (open_ <= high) & (low <= close) & (close <= high))
    rep.bad_rows = ts[bad].tolist()
    if len(ts) > 1:
        prev, now = np.maximum.accumulate(ts)[:-1], ts[1:]
        gap = (now > prev) & (now - prev > step_ms)
        rep.gaps = list(zip(prev[gap].tolist(), now[gap].tolist(), strict=True))
        rep.duplicates = now[now == prev].tolist()
        rep.out_of_order = now[now < prev].tolist()
    return rep


def clean_series(candles: list[Candle]) -> list[Candle]:
    """Sorted, one candle per timestamp (the last seen wins). Callers report first."""
    by_ts: dict[int, Candle] = {}
    for c in candles:
        by_ts[c.ts_ms] = c
    return [by_ts[t] for t in sorted(by_ts)]
