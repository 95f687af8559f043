"""One worker's trials: the candles loaded once, each span cut once, each trial a backtest.

A `Setup` is everything a worker process needs, and it pickles: the candle files, the loader
and the backtest to run (module-level functions the bootstrap hands over: the drivers do not
build adapters), the base config, the space and the objectives by name. `Trials(setup)` loads
the candles once; every trial then reuses them, the span it is asked for cut once and kept.
A trial sees the candles of its span and nothing else: `Scored.seen` (the first and last
candle its backtest was given, noted on the trial) is the proof the tests read. A trial that
repeats values already scored on the same span costs no backtest.
"""

from __future__ import annotations

import gc
import math
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple

from crypto_ai_bot.application.strategies import entry
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.drivers.backtest.engine import BacktestConfig
from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.drivers.optimize.objectives import Score, calmar, resolve, scores
from crypto_ai_bot.drivers.optimize.space import EXITS, Dimension
from crypto_ai_bot.drivers.optimize.windows import Span

Backtest = Callable[[Mapping[str, CandleSeries], BacktestConfig], BacktestResult]
Load = Callable[[str], CandleSeries]


@dataclass(frozen=True, slots=True)
class Setup:
    files: Mapping[str, str]  # symbol -> candle file
    load: Load
    backtest: Backtest
    config: BacktestConfig  # the strategy, its fixed parameters, fee, stake, default stops
    space: tuple[Dimension, ...]
    objectives: tuple[str, ...] = ("sharpe",)
    min_trades: int = 10
    span: Span | None = None  # --from/--to: the candles considered at all
    fixed: Mapping[str, Any] = field(default_factory=dict)  # --param, stops included


def params_of(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Decimal]]:
    """A trial's values split into the strategy's parameters and the stops (Decimal %)."""
    strategy = {k: v for k, v in values.items() if k not in EXITS}
    exits = {k: Decimal(str(round(float(v), 4))) for k, v in values.items() if k in EXITS}
    return strategy, exits


def brief(result: BacktestResult) -> dict[str, Any]:
    """A result in a few JSON-ready numbers: what tables, trials and optimize.json show."""
    s = result.summary

    def num(x: float | None) -> float | None:
        return round(x, 6) if x is not None and math.isfinite(x) else None

    return {
        "from_ms": s.first_ts_ms, "to_ms": s.last_ts_ms + s.timeframe_ms, "trades": s.trades,
        "total_return_pct": num(s.total_return_pct), "pnl_quote": str(s.pnl_quote),
        "sharpe": num(s.sharpe), "sortino": num(s.sortino), "calmar": num(calmar(result)),
        "max_drawdown_pct": num(s.max_drawdown_pct), "win_rate_pct": num(s.win_rate_pct),
        "profit_factor": num(s.profit_factor), "exposure_pct": num(s.exposure_pct),
        "buy_hold_return_pct": num(s.buy_hold_return_pct),
    }


class Trials:
    """A worker's candles and evaluator (one a process)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        whole = {s: setup.load(path) for s, path in setup.files.items()}
        if setup.span is not None:
            whole = {s: cs.span(setup.span.start_ms, setup.span.end_ms) for s, cs in whole.items()}
        self.whole = whole
        # the candles live as long as the worker: the cycle collector need not walk them at
        # every collection a trial's short-lived objects cause
        gc.freeze()
        self._spans: dict[Span, dict[str, CandleSeries]] = {}
        # TPE proposes the same values again as it converges: a repeat costs no backtest
        self._scored: dict[tuple[Span, tuple[tuple[str, Any], ...]], Scored] = {}
        self.objectives: list[Score] = [resolve(o) for o in setup.objectives]
        self.entry = entry(setup.config.strategy)  # an unknown strategy fails here, once
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def candles(self, span: Span) -> dict[str, CandleSeries]:
        held = self._spans.get(span)
        if held is None:
            held = {s: cs.span(span.start_ms, span.end_ms) for s, cs in self.whole.items()}
            held = {s: cs for s, cs in held.items() if len(cs)}
            self._spans[span] = held
        return held

    def config(self, values: Mapping[str, Any]) -> BacktestConfig:
        """The base config with these values (searched or fixed) in place."""
        base = self.setup.config
        strategy, exits = params_of({**self.setup.fixed, **values})
        return replace(
            base, params={**base.params, **strategy},
            exits=replace(base.exits, enabled=True,
                          hard_stop_pct=exits.get("stop_pct", base.exits.hard_stop_pct),
                          trailing_pct=exits.get("trailing_pct", base.exits.trailing_pct)))

    def run(self, values: Mapping[str, Any], span: Span) -> BacktestResult | None:
        """The backtest of `values` over `span`; None when the span holds no candle. A value
        the strategy refuses (fast >= slow) raises ValueError."""
        candles = self.candles(span)
        if not candles:
            return None
        config = self.config(values)
        # as cab-backtest: a run makes little cyclic garbage, and the collector's passes over
        # its short-lived records cost a few per cent; collected after the run as usual
        gc.disable()
        try:
            return self.setup.backtest(candles, config)  # refuses bad parameters up front
        finally:
            gc.enable()

    def score(self, values: Mapping[str, Any], span: Span) -> Scored:
        """The objectives' values of `values` on `span` (None: the trial fails, and why)."""
        key = (span, tuple(sorted(values.items())))
        held = self._scored.get(key)
        if held is not None:
            return held
        candles = self.candles(span)
        bars = [cs.bars for cs in candles.values()]
        seen = (min(b[0].ts_ms for b in bars), max(b[-1].ts_ms for b in bars)) if bars else None
        try:
            result = self.run(values, span)
        except ValueError as exc:
            return Scored(None, str(exc), None, seen)
        if result is None:
            return Scored(None, "no candles in the span", None, None)
        got, why = scores(result, self.objectives, self.setup.min_trades)
        self._scored[key] = Scored(got, why, brief(result), seen)
        return self._scored[key]


class Scored(NamedTuple):
    values: list[float] | None  # None: the trial fails
    why: str  # why it fails
    result: dict[str, Any] | None  # brief()
    seen: tuple[int, int] | None  # the first and last candle the backtest was given
