"""What cab-backtest prints and writes once a run is over: the summary with its settings on
top and its breakdowns (analysis.py), and the files of --out.

--out DIR: trades.csv, summary.json, and unless --no-plot equity.png, price.png (matplotlib)
and report.html. A DIR that exists with anything in it is refused (out_dir_problem) unless
the caller forces it; an empty one is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.reports.analysis import Group, Report, analyse, human_minutes
from crypto_ai_bot.reports.backtest import write_equity_png, write_summary_json, write_trades_csv
from crypto_ai_bot.utils.time import iso_utc

OUT_FILES = ("trades.csv", "summary.json", "equity.png", "price.png", "report.html")


def out_dir_problem(d: Path, force: bool) -> str:
    """Why --out DIR cannot be written ("" when it can): a file, or a directory with
    something in it, unless forced (then the files of OUT_FILES are replaced, nothing else)."""
    if d.exists() and not d.is_dir():
        return f"--out {d}: a file, not a directory"
    if d.is_dir() and any(d.iterdir()) and not force:
        return (f"--out {d}: the directory exists and is not empty; name a new one, or"
                " --force to replace its report files")
    return ""


def _f(x: float | None, unit: str = "") -> str:
    return "n/a" if x is None else f"{x:,.2f}{unit}"


def summary_rows(result: BacktestResult, report: Report, elapsed: float | None = None,
                 candles: int = 0) -> list[tuple[str, str]]:
    s, m = result.summary, report.metrics
    best, worst = m["best_trade"], m["worst_trade"]

    def trade(t: dict[str, Any] | None) -> str:
        return "n/a" if t is None else (
            f"{t['return_pct']:+.2f} % {t['symbol']} {t['entry'][:16]} ({t['exit_reason']})")

    rows = [
        ("trades", f"{s.trades} ({s.wins} won, {s.losses} lost)"),
        ("win rate", _f(s.win_rate_pct, " %")),
        ("total return", _f(s.total_return_pct, " %")),
        ("CAGR", _f(m["cagr_pct"], " %")),
        ("PnL", f"{s.pnl_quote:,.2f}"),
        ("final balance", f"{s.final_quote:,.2f} (from {s.start_quote:,.2f})"),
        ("max drawdown", _f(s.max_drawdown_pct, " %")),
        ("Calmar", _f(m["calmar"])),
        ("Sharpe (annualised)", _f(s.sharpe)),
        ("Sortino (annualised)", _f(s.sortino)),
        ("profit factor", _f(s.profit_factor)),
        ("expectancy", f"{m['expectancy_quote']} a trade ({_f(m['expectancy_pct'], ' %')})"),
        ("avg win / loss", f"{m['avg_win_quote']} / {m['avg_loss_quote']}"),
        ("best trade", trade(best)),
        ("worst trade", trade(worst)),
        ("streaks", f"{m['max_win_streak']} won, {m['max_loss_streak']} lost in a row"),
        ("duration", f"avg {human_minutes(m['avg_duration_min'])}, median"
                     f" {human_minutes(m['median_duration_min'])}, max"
                     f" {human_minutes(m['max_duration_min'])}"),
        ("exposure", _f(s.exposure_pct, " %")),
        ("fees paid", f"{s.fees_quote:,.2f}"),
        ("buy and hold, same risk", _f(m["buy_hold_same_risk_pct"], " %")),
        ("buy and hold, all in", _f(s.buy_hold_return_pct, " %")),
    ]
    if elapsed is not None:
        rows.append(("speed", f"{candles:,} candles in {elapsed:.2f} s"))
    return rows


def _groups(title: str, groups: list[Group]) -> Table:
    """Fees per group are in summary.json and report.html: 80 columns hold the rest."""
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in (title.split()[-1], "trades", "win %", "PnL", "avg %", "avg time", "best %",
                "worst %"):
        t.add_column(col, justify="left" if col == title.split()[-1] else "right",
                     no_wrap=True)
    for g in groups:
        t.add_row(g.key, str(g.trades), f"{g.win_rate_pct:.1f}", f"{g.pnl_quote:,.2f}",
                  f"{g.avg_return_pct:.3f}", human_minutes(g.avg_duration_min),
                  f"{g.best_pct:.2f}", f"{g.worst_pct:.2f}")
    return t


def print_report(out: Console, result: BacktestResult, report: Report, elapsed: float,
                 candles: int) -> None:
    """The settings on top, the summary, the breakdowns. Plain lines where a table would only
    cost time (rich lays out a table cell by cell)."""
    s = result.summary
    lines = ["settings"] + [f"  {k:<14} {v}" for k, v in report.settings.items()]
    out.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)
    t = Table(title=f"backtest {iso_utc(s.first_ts_ms)} → {iso_utc(s.last_ts_ms)} UTC",
              show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for name, value in summary_rows(result, report, elapsed, candles):
        t.add_row(name, value)
    out.print(t)
    out.print(_groups("per symbol", report.per_symbol))
    out.print(_groups("per exit reason", report.per_exit_reason))
    for title, periods in (("monthly returns %", report.monthly),
                           ("weekly returns %", report.weekly)):
        cells = [f"{q.label:>8} {q.return_pct:+7.2f}" for q in periods]
        rows = ["   ".join(cells[i:i + 4]) for i in range(0, len(cells), 4)]
        out.print("\n".join([title, *(f"  {r}" for r in rows)]), highlight=False,
                  markup=False, soft_wrap=True)


def write_outputs(d: Path, result: BacktestResult, series: Mapping[str, CandleSeries],
                  report: Report, *, plot: bool, err: Console) -> list[str]:
    """Write the --out files; the names written. OSError propagates."""
    d.mkdir(parents=True, exist_ok=True)
    write_trades_csv(d / "trades.csv", result)
    s = report.settings
    write_summary_json(d / "summary.json", result, {
        "symbols": list(result.summary.per_symbol), "timeframe": s["timeframe"],
        "report": report.as_dict()})
    wrote = ["trades.csv", "summary.json"]
    if not plot:
        return wrote
    from crypto_ai_bot.reports.html import write_report_html
    from crypto_ai_bot.reports.marks import marks
    from crypto_ai_bot.reports.price_chart import write_price_png

    panels = marks(result.trades, series, result.config)
    title = f"{', '.join(result.summary.per_symbol)} {s['timeframe']} {s['strategy']}"
    if write_equity_png(d / "equity.png", result, title,
                        hold=(report.hold_label, report.hold_curve)):
        wrote.append("equity.png")
        if write_price_png(d / "price.png", panels, title):
            wrote.append("price.png")
    else:
        # no markup: rich would take "[plot]" for a style tag and drop it; no wrap inside it
        err.print("equity.png and price.png skipped: matplotlib is not installed"
                  " (pip install 'crypto-ai-bot[plot]')", markup=False, soft_wrap=True)
    write_report_html(d / "report.html", result, report, panels, summary_rows(result, report))
    wrote.append("report.html")
    return wrote


__all__ = ["OUT_FILES", "analyse", "out_dir_problem", "print_report", "write_outputs"]
