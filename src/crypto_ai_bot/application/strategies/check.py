"""`cab-strategy check`: does a strategy peek ahead, depend on its warm-up, or differ between
runs, and does live recomputation give the backtest's signals?

- lookahead: the strategy runs on the whole series, then on truncated copies ending at many cut
  points; a signal or (vectorised) indicator value at or before a cut that changes is reported
  with the candle, the column and both values. A strategy that opens the candle file itself
  while it runs (Python-level opens, seen by an audit hook) is reported too: truncating what it
  is handed would not stop it reading what comes next.
- recursive (vectorised): each column at a few target candles, computed with only
  startup_candle_count candles of history (what live has) against the whole history; a column
  that differs depends on how much came before, and the check names the startup count from
  which it no longer does (freqtrade's recursive-analysis).
- determinism: two runs, the same signals (and columns).
- live against backtest (vectorised): at each candle of a span, the signal computed as live
  computes it (the last startup_candle_count + 1 candles) against the backtest's.
- speed: the backtest's cost a candle, and live's recomputation a candle.

An incremental strategy keeps its state from candle to candle in every mode (the pipeline calls
the same on_candle), so live equals backtest by construction; its warm-up effect is shown as a
note, not a failure. `fast=True` is what cab-backtest and the live start-up run: fewer cuts on
the first 1000 candles (three times the warm-up when that is more), no recursive search.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.application.strategies import StrategyContext, entry, parse_params
from crypto_ai_bot.application.strategies.vector import VectorStrategy
from crypto_ai_bot.domain.model import Bar
from crypto_ai_bot.ports.strategy import Strategy

if TYPE_CHECKING:
    from pandas import DataFrame

REL_TOL = 1e-9  # two floats agree when they differ by less than this, relatively
_HISTORIES = (50, 100, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000)


@dataclass(frozen=True, slots=True)
class Problem:
    check: str  # lookahead, file, recursive, determinism, live
    candle_ms: int | None  # the candle's open time
    column: str
    expected: str  # the whole series' (backtest's, first run's) value
    got: str  # the truncated (live, second run's) value
    note: str = ""


@dataclass(slots=True)
class Report:
    strategy: str
    kind: str  # vectorised | incremental
    candles: int
    cuts: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backtest_us: float = 0.0  # a candle
    live_us: float | None = None  # a candle, vectorised: one recomputation
    startup_needed: int | None = None  # recursive: the history that removes the bias

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: the first problem, or that it is clean."""
        if self.ok:
            return f"{self.strategy}: clean"
        p = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return (f"{self.strategy}: {p.check}: {p.column} at candle {_when(p.candle_ms)}:"
                f" {p.expected} → {p.got}{' ' + p.note if p.note else ''}{more}")


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    from crypto_ai_bot.utils.time import iso_utc

    return iso_utc(ms)


# watching the files a strategy opens ------------------------------------------------------

_WATCHERS: list[set[str]] = []
_HOOKED: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHERS and args and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        for seen in _WATCHERS:
            seen.add(path)


@contextmanager
def watching_files() -> Iterator[set[str]]:
    """The paths opened (by Python code) while the block runs."""
    if not _HOOKED:
        sys.addaudithook(_audit)  # once a process; it does nothing while nobody watches
        _HOOKED.append(True)
    seen: set[str] = set()
    _WATCHERS.append(seen)
    try:
        yield seen
    finally:
        _WATCHERS.remove(seen)


def _reads_data(seen: set[str], data: Sequence[str]) -> list[str]:
    wanted = {os.path.realpath(d) for d in data}
    return sorted({p for p in seen if os.path.realpath(p) in wanted})


# running a strategy -----------------------------------------------------------------------

Make = Callable[[], Strategy]


def _signals(make: Make, bars: Sequence[Bar]) -> list[str]:
    s = make()
    on_candle = s.on_candle
    return [on_candle(b).action.value for b in bars]


def _table(s: VectorStrategy, bars: Sequence[Bar]) -> DataFrame:
    df = s.analyse(bars)
    df["signal"] = [sig.action.value for sig in s.signals(df)]
    return df


def _cuts(n: int, first: int, count: int) -> list[int]:
    """`count` cut points spread over [first, n - 2] (the last candle itself is no cut); from
    the second candle when the series is too short to start at `first`."""
    last = n - 2
    if last < first:
        first = 1
    if last < first:
        return []
    if last - first + 1 <= count:
        return list(range(first, last + 1))
    step = (last - first) / (count - 1) if count > 1 else 0
    return sorted({first + round(k * step) for k in range(count)})


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "NaN" if math.isnan(x) else f"{x:.10g}"
    return str(x)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= REL_TOL * max(abs(a), abs(b), 1e-300)
    return bool(a == b)


def _numeric(df: DataFrame, column: str, stop: int) -> Any:
    """The column's first `stop` values as floats, or None when it is not numeric."""
    import numpy as np

    col = df[column]
    if col.dtype.kind not in "biuf":
        return None
    return np.asarray(col.iloc[:stop].to_numpy(dtype=float, na_value=np.nan))


def _first_difference(a: DataFrame, b: DataFrame, stop: int) -> list[tuple[int, str, Any, Any]]:
    """Per column of a (but date), the first row before `stop` whose value b does not share."""
    import numpy as np

    out: list[tuple[int, str, Any, Any]] = []
    for column in a.columns:
        if column == "date":
            continue
        name = str(column)
        if column not in b.columns:
            out.append((0, name, a[column].iloc[0], "(no such column)"))
            continue
        x, y = _numeric(a, column, stop), _numeric(b, column, stop)
        if x is not None and y is not None and len(x) == len(y):
            with np.errstate(invalid="ignore"):
                close = np.abs(x - y) <= REL_TOL * np.maximum(
                    np.maximum(np.abs(x), np.abs(y)), 1e-300)
            bad = np.flatnonzero(~(close | (np.isnan(x) & np.isnan(y))))
            if len(bad):
                i = int(bad[0])
                out.append((i, name, float(x[i]), float(y[i])))
            continue
        xs, ys = a[column].iloc[:stop].tolist(), b[column].iloc[:stop].tolist()
        for i, (u, v) in enumerate(zip(xs, ys, strict=False)):
            if not _same(u, v) and not (u != u and v != v):  # NaN-like objects agree
                out.append((i, name, u, v))
                break
    return out


def check(spec: str, bars: Sequence[Bar], *, params: Mapping[str, Any] | None = None,
          data: Sequence[str] = (), cuts: int = 20, fast: bool = False,
          context: StrategyContext | None = None) -> Report:
    """Check the strategy `spec` (a registered name or a file/module spec) on `bars`;
    ValueError when it cannot be built. `data`: the candle files (a strategy that opens one
    of them is reported)."""
    with watching_files() as seen:
        e = entry(spec)
        values = parse_params(spec, params)
        ctx = context or StrategyContext()
        if ctx.load_model is not None:  # built a dozen times: its model is read once
            ctx = replace(ctx, load_model=cache(ctx.load_model))

        def make() -> Strategy:
            return e.build(dict(values), ctx)

        probe = make()
        vectorised = isinstance(probe, VectorStrategy)
        if fast:  # the first candles, enough for the warm-up three times over
            bars = bars[: max(1000, 3 * int(getattr(probe, "warmup_candles", 0)) + 10)]
        report = Report(spec, "vectorised" if vectorised else "incremental", len(bars))
        try:
            if vectorised:
                assert isinstance(probe, VectorStrategy)
                _vectorised(report, probe, make, bars, cuts, fast)
            else:
                _incremental(report, make, bars, cuts, fast)
        except Exception as exc:  # the strategy's own code failed: named, not a traceback
            raise ValueError(f"{spec} failed while checked: {type(exc).__name__}: {exc}"
                             ) from exc
    for path in _reads_data(seen, data):
        report.problems.insert(0, Problem(
            "file", None, path, "candles handed over", "opened the candle file itself",
            "a strategy that reads its data reads ahead"))
    return report


def _incremental(report: Report, make: Make, bars: Sequence[Bar], cuts: int,
                 fast: bool) -> None:
    n = len(bars)
    began = time.perf_counter()
    full = _signals(make, bars)
    report.backtest_us = (time.perf_counter() - began) / max(n, 1) * 1e6
    warm = max(getattr(make(), "warmup_candles", 0), 1)
    points = _cuts(n, min(warm, n // 10) if not fast else warm, cuts)
    report.cuts = len(points)
    for c in points:
        part = _signals(make, bars[: c + 1])
        for i in range(c + 1):
            if part[i] != full[i]:
                report.problems.append(Problem(
                    "lookahead", bars[i].ts_ms, "signal", full[i], part[i],
                    f"(series cut after candle {_when(bars[c].ts_ms)})"))
                break
        if report.problems:
            break
    second = _signals(make, bars)
    for i, (x, y) in enumerate(zip(full, second, strict=True)):
        if x != y:
            report.problems.append(Problem("determinism", bars[i].ts_ms, "signal", x, y))
            break
    if not fast and n > 4 * warm:
        # the warm-up effect, as a note: where a run started later first agrees for good
        start = n // 2
        later = _signals(make, bars[start:])
        agree = next((k for k in range(len(later) - 1, -1, -1)
                      if later[k] != full[start + k]), -1) + 1
        report.notes.append(
            f"incremental: live keeps its state as the backtest does; a run started at candle"
            f" {start} (as after a restart) gives the backtest's signals after {agree} candles"
            f" (it declares warmup_candles = {warm})")


def _vectorised(report: Report, probe: VectorStrategy, make: Make, bars: Sequence[Bar],
                cuts: int, fast: bool) -> None:
    n = len(bars)
    startup = probe.startup
    began = time.perf_counter()
    full = _table(probe, bars)
    report.backtest_us = (time.perf_counter() - began) / max(n, 1) * 1e6
    # lookahead: the rows at or before each cut, computed on the series cut there
    points = _cuts(n, max(startup, 1) if fast else max(1, min(startup, n // 10)), cuts)
    report.cuts = len(points)
    flagged: set[str] = set()
    for c in points:
        part = _table(make(), bars[: c + 1])  # type: ignore[arg-type]
        for i, column, x, y in _first_difference(full, part, c + 1):
            if column not in flagged:
                flagged.add(column)
                report.problems.append(Problem(
                    "lookahead", bars[i].ts_ms, column, _fmt(x), _fmt(y),
                    f"(series cut after candle {_when(bars[c].ts_ms)})"))
    # determinism
    again = _table(make(), bars)  # type: ignore[arg-type]
    for i, column, x, y in _first_difference(full, again, n):
        report.problems.append(Problem("determinism", bars[i].ts_ms, column, _fmt(x), _fmt(y)))
    # live against the backtest, and its speed
    span = range(max(startup, n - (5 if fast else 200)), n)
    live = make()
    assert isinstance(live, VectorStrategy)
    took = 0.0
    mismatched: set[str] = set()
    for i in span:
        window = bars[i - startup: i + 1]
        began = time.perf_counter()
        df = _table(live, window)
        took += time.perf_counter() - began
        row = df.iloc[[-1]].reset_index(drop=True)
        ref = full.iloc[[i]].reset_index(drop=True)
        for _, column, x, y in _first_difference(ref, row, 1):
            if column not in mismatched:
                mismatched.add(column)
                report.problems.append(Problem(
                    "live", bars[i].ts_ms, column, _fmt(x), _fmt(y),
                    f"(live recomputes on the last {startup + 1} candles)"))
    report.live_us = took / max(len(span), 1) * 1e6
    if not fast:
        _recursive(report, make, bars, full, startup)


def _recursive(report: Report, make: Make, bars: Sequence[Bar], full: DataFrame,
               startup: int) -> None:
    """Each column at a few target candles with only `history` candles before them, against
    the whole history: the least history in the grid from which every column agrees."""
    n = len(bars)
    targets = sorted({n - 1, n - 1 - n // 4, n - 1 - n // 2})

    def differences(history: int) -> list[tuple[int, str, Any, Any]]:
        out = []
        for t in targets:
            if t - history < 0:
                continue
            df = _table(make(), bars[t - history: t + 1])  # type: ignore[arg-type]
            row = df.iloc[[-1]].reset_index(drop=True)
            ref = full.iloc[[t]].reset_index(drop=True)
            out += [(t, c, x, y) for _, c, x, y in _first_difference(ref, row, 1)]
        return out

    at_startup = differences(startup)
    if not at_startup:
        report.startup_needed = startup
        return
    needed = next((h for h in _HISTORIES if h > startup and h < n and not differences(h)),
                  None)
    report.startup_needed = needed
    advice = (f"set startup_candle_count = {needed}" if needed is not None
              else f"no history up to {min(n - 1, _HISTORIES[-1])} candles removes it")
    for t, column, x, y in at_startup:
        report.problems.append(Problem(
            "recursive", bars[t].ts_ms, column, _fmt(x), _fmt(y),
            f"(with {startup} candles of history; {advice})"))
        break
    more = sorted({c for _, c, _, _ in at_startup})
    if len(more) > 1:
        report.notes.append(f"recursive: columns that depend on the history: {', '.join(more)}")


def synthetic_bars(n: int, step_ms: int, seed: int = 13) -> list[Bar]:
    """A reproducible random walk of `n` candles (what the live start-up checks on: it has
    no series of its own to hand)."""
    import random

    rnd = random.Random(seed)
    out, price, ts = [], 100.0, 1_700_000_000_000 // step_ms * step_ms
    for _ in range(n):
        o = price
        c = max(o * math.exp(rnd.gauss(0.0, 0.004)), 1e-6)
        h = max(o, c) * (1 + abs(rnd.gauss(0.0, 0.002)))
        lo = min(o, c) * (1 - abs(rnd.gauss(0.0, 0.002)))
        out.append(Bar(ts, o, h, lo, c, rnd.uniform(1.0, 100.0)))
        price, ts = c, ts + step_ms
    return out
