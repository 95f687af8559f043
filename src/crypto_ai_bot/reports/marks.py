"""Where a run's trades sit on its price series: entries, exits and the stop line, rebuilt
after the run from the trades, the candles and the stop settings (the engine keeps no record
of them, and need not: its conventions fix them).

The stop at candle i of a position is the one checked against that candle's low (engine
module docstring, step 2): the hard stop below the entry price, or the trailing stop below the
peak reached before candle i (the entry price, then each high after its own check), whichever
is higher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.drivers.backtest.engine import BacktestConfig, BacktestTrade

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SymbolMarks:
    symbol: str
    ts_ms: npt.NDArray[np.int64]
    open: F64
    high: F64
    low: F64
    close: F64
    stop: F64  # the stop level at each candle, NaN while flat or without a stop
    trades: list[BacktestTrade]


def ohlc(cs: CandleSeries) -> tuple[npt.NDArray[np.int64], F64, F64, F64, F64]:
    """The series' times and prices as numpy arrays."""
    if cs.columns is not None:
        t, o, h, lo, c = cs.columns[:5]
        return (np.asarray(t, dtype=np.int64), *(np.asarray(x, dtype=np.float64)
                                                  for x in (o, h, lo, c)))  # type: ignore[return-value]
    n = len(cs.bars)
    cols = [np.fromiter((b[k] for b in cs.bars), np.float64, n) for k in (1, 2, 3, 4)]
    return np.fromiter((b.ts_ms for b in cs.bars), np.int64, n), *cols  # type: ignore[return-value]


def stop_line(ts: npt.NDArray[np.int64], high: F64, trades: list[BacktestTrade],
              config: BacktestConfig) -> F64:
    """The stop level at each candle of each trade (module docstring)."""
    out = np.full(len(ts), np.nan)
    ex = config.exits
    if not ex.enabled or (ex.hard_stop_pct <= 0 and ex.trailing_pct <= 0):
        return out
    hard = 1 - float(ex.hard_stop_pct) / 100
    trail = 1 - float(ex.trailing_pct) / 100
    for t in trades:
        a = int(np.searchsorted(ts, t.entry_time_ms, side="left"))
        b = int(np.searchsorted(ts, t.exit_time_ms, side="right"))  # the exit candle included
        if b <= a:
            continue
        entry = float(t.entry_price)
        level = np.full(b - a, entry * hard if ex.hard_stop_pct > 0 else -np.inf)
        if ex.trailing_pct > 0:
            before = np.maximum.accumulate(np.concatenate(([entry], high[a:b - 1])))
            level = np.maximum(level, np.maximum(before, entry) * trail)
        out[a:b] = level
    return out


def marks(trades: list[BacktestTrade], series: Mapping[str, CandleSeries],
          config: BacktestConfig) -> list[SymbolMarks]:
    """Per symbol, in the order of the series."""
    out = []
    for sym, cs in series.items():
        ts, o, h, lo, c = ohlc(cs)
        mine = [t for t in trades if t.symbol == sym]
        out.append(SymbolMarks(sym, ts, o, h, lo, c, stop_line(ts, h, mine, config), mine))
    return out


def resample(m: SymbolMarks, max_bars: int) -> dict[str, Any]:
    """At most max_bars candles (each k consecutive ones merged), the stop line at each merged
    candle's last in-position candle, and the trades' times snapped to the merged candles:
    what an interactive chart can carry in a page. k is reported."""
    n = len(m.ts_ms)
    k = max(1, -(-n // max_bars))
    idx = np.arange(0, n, k)
    ts = m.ts_ms[idx]
    opens = m.open[idx]
    highs = np.maximum.reduceat(m.high, idx)
    lows = np.minimum.reduceat(m.low, idx)
    ends = np.minimum(idx + k, n) - 1
    closes = m.close[ends]
    stop = m.stop[ends]
    return {"k": k, "ts": ts, "open": opens, "high": highs, "low": lows, "close": closes,
            "stop": stop}
