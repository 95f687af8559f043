"""Backtest outputs on disk: trades.csv, summary.json and equity.png.

trades.csv keeps its first columns (TRADES_HEADER, as they always were) and gains, after them,
the ISO times, the fees, the duration and the return (EXTRA_HEADER).

matplotlib is optional (the `plot` extra) and imported only when a picture is asked for, with
the Agg backend, so that a backtest never needs a display and never pays for the import.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.drivers.backtest.stats import drawdown_series
from crypto_ai_bot.reports.analysis import duration_min, iso_z_all, trade_return_pct

TRADES_HEADER = (
    "symbol", "entry_time_ms", "exit_time_ms", "entry_price", "exit_price", "amount",
    "pnl_quote", "exit_reason",
)
EXTRA_HEADER = ("entry_time", "exit_time", "fees_quote", "duration_min", "return_pct")


def write_trades_csv(path: Path, result: BacktestResult) -> None:
    """One row per finished trade; prices, amounts and PnL as exact decimal strings."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TRADES_HEADER + EXTRA_HEADER)
        trades = result.trades
        entries = iso_z_all([t.entry_time_ms for t in trades])
        exits = iso_z_all([t.exit_time_ms for t in trades])
        for t, entry, exit_ in zip(trades, entries, exits, strict=True):
            minutes = duration_min(t)
            w.writerow((t.symbol, t.entry_time_ms, t.exit_time_ms, t.entry_price, t.exit_price,
                        t.amount, t.pnl_quote, t.exit_reason, entry, exit_, t.fees_quote,
                        int(minutes) if minutes.is_integer() else round(minutes, 3),
                        trade_return_pct(t)))


def summary_document(result: BacktestResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary plus the settings that produced it, ready for json.dumps."""
    cfg = result.config
    doc: dict[str, Any] = {
        "settings": {
            "strategy": cfg.strategy, "params": dict(cfg.params),
            "timeframe_ms": cfg.timeframe_ms, "stop_pct": str(cfg.exits.hard_stop_pct),
            "trailing_pct": str(cfg.exits.trailing_pct), "fee_pct": str(cfg.venue.fee_pct),
            "stake": str(cfg.stake), "start_quote": str(cfg.start_quote),
            "close_at_end": cfg.close_at_end,
        },
        "summary": result.summary.as_dict(),
    }
    if extra:
        doc.update(extra)
    return doc


def write_summary_json(path: Path, result: BacktestResult,
                       extra: dict[str, Any] | None = None) -> None:
    path.write_text(json.dumps(summary_document(result, extra), indent=2, default=str) + "\n",
                    encoding="utf-8")


def write_equity_png(path: Path, result: BacktestResult, title: str = "",
                     hold: tuple[str, list[float]] | None = None) -> bool:
    """Equity and buy-and-hold above, drawdown below. False when matplotlib is missing.
    hold: (its label, its curve) for a buy-and-hold other than the all-in one of the result
    (analysis.comparable_hold), which the legend then names."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    from datetime import UTC, datetime

    # one point per ~2000 is plenty for a picture and keeps it quick on 100k+ candles
    stride = max(1, len(result.equity) // 2000)
    idx = range(0, len(result.equity), stride)
    when = [datetime.fromtimestamp(result.equity_ts_ms[i] / 1000, tz=UTC) for i in idx]
    equity = [result.equity[i] for i in idx]
    hold_label, hold_curve = hold or ("buy and hold, all capital", result.buy_hold)
    held = [hold_curve[i] for i in idx]
    dd = drawdown_series(result.equity)
    dd_pts = [dd[i] for i in idx]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot(when, equity, label="strategy", linewidth=1.0)
    top.plot(when, held, label=hold_label, linewidth=1.0, alpha=0.7)
    top.set_ylabel("equity (quote)")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    if title:
        top.set_title(title)
    bottom.fill_between(when, dd_pts, 0, color="tab:red", alpha=0.4, linewidth=0)
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
