"""What a trader reads first in a backtest, computed after the run from its result.

Nothing here runs during the backtest: the engine's trades, equity curve and candles are read
once the run is over, so that the report costs the run nothing (bench/backtest_speed.py).

Money (PnL, fees) stays Decimal; returns, ratios and durations are floats for reading.

- buy and hold, comparable: the strategy puts at most its stake into each symbol (one position
  a symbol), so the comparable buy-and-hold buys `min(stake, start / symbols)` of each symbol at
  its first open (fee paid), keeps the rest as cash, and marks at each close: the same capital
  at risk. The all-in buy-and-hold of the summary (`buy_hold_return_pct`) is kept beside it.
- CAGR: (final / start) ** (1 / years) - 1 over the span from the first open to the last close;
  Calmar: CAGR % / max drawdown %.
- monthly and weekly returns: the equity at the last close of each period (UTC; weeks from
  Monday) over the one at the end of the period before (the start balance for the first).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from crypto_ai_bot.application.strategies import parse_params
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.model import ZERO
from crypto_ai_bot.drivers.backtest.engine import BacktestTrade
from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.drivers.backtest.stats import YEAR_MS
from crypto_ai_bot.utils.time import TIMEFRAME_MS, iso_utc


def timeframe_name(step_ms: int) -> str:
    names = [name for name, ms in TIMEFRAME_MS.items() if ms == step_ms]
    return names[0] if names else f"{step_ms}ms"


def iso_z(ts_ms: int) -> str:
    """ISO 8601 in UTC with its Z: 2025-01-01T00:05:00Z."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_z_all(stamps: Sequence[int]) -> list[str]:
    """iso_z of many times at once (numpy's formatting: a tenth of the time of one by one)."""
    text = np.datetime_as_string(np.asarray(stamps, dtype="datetime64[ms]").astype(
        "datetime64[s]"), unit="s")
    return [f"{x}Z" for x in text.tolist()]


def trade_return_pct(t: BacktestTrade) -> float:
    """PnL (both fees included) over what the entry cost, in percent, to 4 places (a figure
    to read: float)."""
    cost = float(t.entry_price) * float(t.amount)
    return round(float(t.pnl_quote) / cost * 100, 4) if cost > 0 else 0.0


def duration_min(t: BacktestTrade) -> float:
    return (t.exit_time_ms - t.entry_time_ms) / 60_000


def human_minutes(minutes: float) -> str:
    """1d 02:35, 3:05 (h:mm) or 45m."""
    total = round(minutes)
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}:{mins:02d}"
    return f"{hours}:{mins:02d}" if hours else f"{mins}m"


@dataclass(frozen=True, slots=True)
class Group:
    """Trades grouped by a key (a symbol, an exit reason)."""

    key: str
    trades: int
    wins: int
    win_rate_pct: float
    pnl_quote: Decimal
    fees_quote: Decimal
    avg_return_pct: float
    avg_duration_min: float
    best_pct: float
    worst_pct: float


def _group(key: str, trades: Sequence[BacktestTrade], rets: Sequence[float]) -> Group:
    wins = sum(1 for t in trades if t.pnl_quote > 0)
    return Group(
        key=key, trades=len(trades), wins=wins,
        win_rate_pct=100.0 * wins / len(trades) if trades else 0.0,
        pnl_quote=sum((t.pnl_quote for t in trades), ZERO),
        fees_quote=sum((t.fees_quote for t in trades), ZERO),
        avg_return_pct=statistics.fmean(rets) if rets else 0.0,
        avg_duration_min=statistics.fmean(map(duration_min, trades)) if trades else 0.0,
        best_pct=max(rets, default=0.0), worst_pct=min(rets, default=0.0),
    )


@dataclass(frozen=True, slots=True)
class Period:
    label: str  # 2025-03, 2025-W09
    start_equity: float
    end_equity: float

    @property
    def return_pct(self) -> float:
        return (self.end_equity / self.start_equity - 1) * 100 if self.start_equity else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    """The breakdowns of one run, beside its Summary."""

    settings: dict[str, Any]
    per_symbol: list[Group]
    per_exit_reason: list[Group]
    monthly: list[Period]
    weekly: list[Period]
    metrics: dict[str, Any]  # flat: CAGR, Calmar, expectancy, streaks, durations, best, worst
    hold_label: str
    hold_curve: list[float]  # the comparable buy-and-hold equity at each close of the curve

    def as_dict(self) -> dict[str, Any]:
        def group(g: Group) -> dict[str, Any]:
            return {"key": g.key, "trades": g.trades, "wins": g.wins,
                    "win_rate_pct": round(g.win_rate_pct, 4), "pnl_quote": str(g.pnl_quote),
                    "fees_quote": str(g.fees_quote),
                    "avg_return_pct": round(g.avg_return_pct, 4),
                    "avg_duration_min": round(g.avg_duration_min, 2),
                    "best_pct": g.best_pct, "worst_pct": g.worst_pct}

        def period(p: Period) -> dict[str, Any]:
            return {"period": p.label, "return_pct": round(p.return_pct, 4),
                    "end_equity": round(p.end_equity, 2)}

        return {
            "settings": self.settings, "metrics": self.metrics,
            "per_symbol": [group(g) for g in self.per_symbol],
            "per_exit_reason": [group(g) for g in self.per_exit_reason],
            "monthly": [period(p) for p in self.monthly],
            "weekly": [period(p) for p in self.weekly],
            "buy_hold": {"label": self.hold_label,
                         "return_pct": self.metrics["buy_hold_same_risk_pct"]},
        }


def run_settings(result: BacktestResult, symbols: Sequence[str]) -> dict[str, Any]:
    """What the run simulated, as a reader wants it at the top."""
    cfg, s = result.config, result.summary
    try:  # the parameters in use: the given ones and the strategy's defaults
        params = parse_params(cfg.strategy, cfg.params)
    except (ValueError, OSError, ImportError):
        params = dict(cfg.params)
    return {
        "symbols": list(symbols), "timeframe": timeframe_name(cfg.timeframe_ms),
        "span": f"{iso_utc(s.first_ts_ms)} → {iso_utc(s.last_ts_ms + cfg.timeframe_ms)} UTC",
        "strategy": cfg.strategy, "params": params, "stake": str(cfg.stake),
        "start_quote": str(cfg.start_quote), "fee_pct": str(cfg.venue.fee_pct),
        "hard_stop_pct": str(cfg.exits.hard_stop_pct),
        "trailing_pct": str(cfg.exits.trailing_pct), "exits_enabled": cfg.exits.enabled,
    }


def analyse(result: BacktestResult, series: Mapping[str, CandleSeries]) -> Report:
    """The breakdowns of a finished run over the candles it ran on."""
    trades = sorted(result.trades, key=lambda t: (t.exit_time_ms, t.symbol))
    rets = [trade_return_pct(t) for t in trades]
    cfg, s = result.config, result.summary

    by_symbol: dict[str, list[int]] = {sym: [] for sym in series}
    by_reason: dict[str, list[int]] = {}
    for i, t in enumerate(trades):  # one pass: ten pairs make 20,000 trades
        by_symbol.setdefault(t.symbol, []).append(i)
        by_reason.setdefault(str(t.exit_reason), []).append(i)

    def group(key: str, picked: list[int]) -> Group:
        return _group(key, [trades[i] for i in picked], [rets[i] for i in picked])

    hold_label, hold = comparable_hold(result, series)
    span_ms = s.last_ts_ms + cfg.timeframe_ms - s.first_ts_ms
    years = span_ms / YEAR_MS
    final, start = float(s.final_quote), float(s.start_quote)
    cagr = ((final / start) ** (1 / years) - 1) * 100 if years > 0 and start > 0 and final > 0 \
        else None
    pnls = [t.pnl_quote for t in trades]
    wins_pnl = [p for p in pnls if p > 0]
    loss_pnl = [p for p in pnls if p <= 0]
    durations = [duration_min(t) for t in trades]
    best = trades[int(np.argmax(rets))] if trades else None
    worst = trades[int(np.argmin(rets))] if trades else None
    win_streak, loss_streak = streaks(pnls)
    metrics: dict[str, Any] = {
        "cagr_pct": _r(cagr),
        "calmar": _r(cagr / s.max_drawdown_pct) if cagr is not None and s.max_drawdown_pct > 0
        else None,
        "expectancy_quote": str((sum(pnls, ZERO) / len(pnls)).quantize(Decimal("0.0001")))
        if pnls else "0",
        "expectancy_pct": _r(statistics.fmean(rets)) if rets else 0.0,
        "avg_win_quote": str(_mean(wins_pnl)), "avg_loss_quote": str(_mean(loss_pnl)),
        "max_win_streak": win_streak, "max_loss_streak": loss_streak,
        "avg_duration_min": _r(statistics.fmean(durations)) if durations else 0.0,
        "median_duration_min": _r(statistics.median(durations)) if durations else 0.0,
        "min_duration_min": _r(min(durations, default=0.0)),
        "max_duration_min": _r(max(durations, default=0.0)),
        "best_trade": _trade_doc(best), "worst_trade": _trade_doc(worst),
        "exposure_pct": _r(s.exposure_pct),
        "buy_hold_same_risk_pct": _r((hold[-1] / start - 1) * 100) if hold and start else 0.0,
        "buy_hold_all_in_pct": _r(s.buy_hold_return_pct),
        "years": _r(years),
    }
    stamps = np.asarray(result.equity_ts_ms, dtype=np.int64)
    equity = np.asarray(result.equity, dtype=np.float64)
    return Report(
        settings=run_settings(result, list(series)),
        per_symbol=[group(sym, picked) for sym, picked in by_symbol.items()],
        per_exit_reason=[group(r, by_reason[r]) for r in sorted(by_reason)],
        monthly=periods(stamps, equity, start, "M"), weekly=periods(stamps, equity, start, "W"),
        metrics=metrics, hold_label=hold_label, hold_curve=hold,
    )


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _mean(values: Sequence[Decimal]) -> Decimal:
    return (sum(values, ZERO) / len(values)).quantize(Decimal("0.0001")) if values else ZERO


def _trade_doc(t: BacktestTrade | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {"symbol": t.symbol, "entry": iso_utc(t.entry_time_ms),
            "exit": iso_utc(t.exit_time_ms), "return_pct": trade_return_pct(t),
            "pnl_quote": str(t.pnl_quote), "exit_reason": str(t.exit_reason)}


def streaks(pnls: Sequence[Decimal]) -> tuple[int, int]:
    """The longest runs of winning (PnL > 0) and losing trades, in the order given."""
    best_w = best_l = w = lo = 0
    for p in pnls:
        if p > 0:
            w, lo = w + 1, 0
        else:
            w, lo = 0, lo + 1
        best_w, best_l = max(best_w, w), max(best_l, lo)
    return best_w, best_l


def periods(stamps: np.ndarray[Any, Any], equity: np.ndarray[Any, Any], start: float,
            unit: str) -> list[Period]:
    """Returns per calendar month ("M") or ISO week ("W", from Monday), UTC."""
    if not len(stamps):
        return []
    # a close at exactly midnight ends the day before: mark each point 1 ms into its candle
    when = (stamps - 1).astype("datetime64[ms]")
    if unit == "M":
        keys = when.astype("datetime64[M]")
    else:  # numpy's weeks start on Thursday (1970-01-01): shift to Monday (1970-01-05)
        keys = (when - np.timedelta64(4, "D")).astype("datetime64[W]") + np.timedelta64(4, "D")
    change = np.flatnonzero(keys[1:] != keys[:-1])
    ends = [*change.tolist(), len(keys) - 1]
    out: list[Period] = []
    before = start
    for i in ends:
        key = keys[i]
        if unit == "M":
            label = str(key)
        else:
            iso = key.astype("datetime64[D]").item().isocalendar()
            label = f"{iso[0]}-W{iso[1]:02d}"
        out.append(Period(label, before, float(equity[i])))
        before = float(equity[i])
    return out


def comparable_hold(result: BacktestResult,
                    series: Mapping[str, CandleSeries]) -> tuple[str, list[float]]:
    """The buy-and-hold with the strategy's capital at risk (module docstring), marked at the
    equity curve's closes; and the label the pictures give it."""
    cfg = result.config
    start = float(cfg.start_quote)
    alloc = min(float(cfg.stake), start / max(len(series), 1))
    keep = 1.0 - float(cfg.venue.fee_pct) / 100.0
    step = cfg.timeframe_ms
    timeline = np.asarray(result.equity_ts_ms, dtype=np.int64)
    total = np.full(len(timeline), start - alloc * len(series))
    for cs in series.values():
        first = cs.bars[0].open
        units = alloc * keep / first if first > 0 else 0.0
        closed, close = cs.stamps() + step, cs.closes()
        last = np.searchsorted(closed, timeline, side="right") - 1
        total += np.where(last >= 0, units * close[np.maximum(last, 0)], alloc)
    label = (f"buy and hold, {alloc:,.2f} per symbol (the strategy's stake: same capital at"
             " risk)")
    curve: list[float] = total.tolist()
    return label, curve
