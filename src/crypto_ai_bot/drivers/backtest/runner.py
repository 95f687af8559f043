"""A backtest's run and result: the engine driven to its end, then the buy-and-hold curve and
the summary (bootstrap.run_backtest is the entry point callers use).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.model import ZERO, Bar, Candle
from crypto_ai_bot.drivers.backtest import stats
from crypto_ai_bot.drivers.backtest.engine import (
    BacktestConfig,
    BacktestEngine,
    BacktestTrade,
    EngineResult,
)


@dataclass(slots=True)
class BacktestResult:
    trades: list[BacktestTrade]
    equity_ts_ms: list[int]
    equity: list[float]
    buy_hold: list[float]  # the buy-and-hold equity at the same closes (statistics only)
    summary: stats.Summary
    config: BacktestConfig


def infer_timeframe_ms(candles: Sequence[Candle] | Sequence[Bar]) -> int:
    """The most common step between the first few hundred candles."""
    steps: dict[int, int] = {}
    times = [c.ts_ms for c in candles[:501]]
    for a, b in itertools.pairwise(times):
        d = b - a
        if d > 0:
            steps[d] = steps.get(d, 0) + 1
    if not steps:
        raise ValueError("cannot infer the timeframe from fewer than two distinct candles;"
                         " pass timeframe_ms")
    return max(steps, key=lambda d: steps[d])


def run(engine: BacktestEngine) -> BacktestResult:
    """Run an engine (bootstrap.backtest_engine builds one) to its result."""
    # Not asyncio.run: on Python 3.11 its SIGINT bookkeeping builds the repr of the main task,
    # result included, which for a run's trades and equity curve takes a noticeable while.
    loop = asyncio.new_event_loop()
    try:
        raw = loop.run_until_complete(engine.run())
    finally:
        loop.close()
    return result_of(raw, engine.series)


def result_of(raw: EngineResult, candles: Mapping[str, CandleSeries]) -> BacktestResult:
    """Add the buy-and-hold curve and the summary to an engine's output."""
    cfg = raw.config
    bh = _buy_hold_curve(raw, candles)
    equity = np.asarray(raw.equity, dtype=np.float64)
    rets = stats.returns(equity)
    per_year = stats.YEAR_MS / cfg.timeframe_ms
    pnls = [t.pnl_quote for t in raw.trades]
    per_symbol: dict[str, stats.SymbolSummary] = {}
    for s, run in raw.symbols.items():
        mine = [t for t in raw.trades if t.symbol == s]
        per_symbol[s] = stats.SymbolSummary(
            symbol=s, candles=run.candles, first_ts_ms=run.first_ts_ms,
            last_ts_ms=run.last_ts_ms, trades=len(mine),
            win_rate_pct=stats.win_rate([t.pnl_quote for t in mine]),
            pnl_quote=sum((t.pnl_quote for t in mine), ZERO),
            fees_quote=sum((t.fees_quote for t in mine), ZERO),
            exposure_pct=stats.pct(run.candles_in_position, run.candles),
            buy_hold_return_pct=stats.buy_hold_pct(run.first_open, run.last_close,
                                                   cfg.venue.fee_pct),
        )
    n = len(per_symbol)
    summary = stats.Summary(
        start_quote=raw.start_quote, final_quote=raw.final_quote,
        pnl_quote=raw.final_quote - raw.start_quote,
        total_return_pct=float((raw.final_quote / raw.start_quote - 1) * 100)
        if raw.start_quote > 0 else 0.0,
        trades=len(pnls), wins=sum(1 for p in pnls if p > 0),
        losses=sum(1 for p in pnls if p <= 0), win_rate_pct=stats.win_rate(pnls),
        profit_factor=stats.profit_factor(pnls),
        max_drawdown_pct=stats.max_drawdown_pct(equity),
        sharpe=stats.sharpe(rets, per_year), sortino=stats.sortino(rets, per_year),
        exposure_pct=stats.pct(raw.candles_in_any_position, len(raw.equity)),
        fees_quote=sum((t.fees_quote for t in raw.trades), ZERO),
        buy_hold_return_pct=sum(p.buy_hold_return_pct for p in per_symbol.values()) / n,
        timeframe_ms=cfg.timeframe_ms, periods_per_year=per_year,
        first_ts_ms=min(r.first_ts_ms for r in raw.symbols.values()),
        last_ts_ms=max(r.last_ts_ms for r in raw.symbols.values()),
        per_symbol=per_symbol,
    )
    return BacktestResult(raw.trades, raw.equity_ts_ms, raw.equity, bh, summary, cfg)


def _buy_hold_curve(raw: EngineResult, series: Mapping[str, CandleSeries]) -> list[float]:
    """Start quote split equally, each part bought at its symbol's first open (fee paid) and
    marked at the latest close; a symbol not started yet counts as cash."""
    start = float(raw.start_quote)
    keep = 1.0 - float(raw.config.venue.fee_pct) / 100.0
    step = raw.config.timeframe_ms
    share = start / len(series)
    units = {s: share * keep / cs.bars[0].open for s, cs in series.items()
             if cs.bars[0].open > 0}
    timeline = np.asarray(raw.equity_ts_ms, dtype=np.int64)
    total = np.zeros(len(timeline))
    for s, cs in series.items():
        closed, close, u = cs.stamps() + step, cs.closes(), units.get(s, 0.0)
        if len(series) == 1 and np.array_equal(closed, timeline):
            own: list[float] = (u * close).tolist()
            return own
        last = np.searchsorted(closed, timeline, side="right") - 1  # latest close so far
        total += np.where(last >= 0, u * close[np.maximum(last, 0)], share)
    out: list[float] = total.tolist()
    return out
