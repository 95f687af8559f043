"""cab-backtest: run the live pipeline over stored or file candles and report the result.

    cab-backtest --symbol BTC/USDT --timeframe 5m [--from 2025-01-01 --to 2025-06-01]
                 [--data FILE ...] [--db PATH] [--strategy ema_cross --param fast=12 ...]
                 [--stop-pct 2] [--trailing-pct 0] [--fee-pct 0.1] [--stake 1000]
                 [--start-quote 10000] [--cooldown-sec 0] [--out DIR] [--no-plot]
                 [--record FILE]

Without --data the candles come from the bot's database (cab-data import/download fills it).
Several --symbol (and --data, paired in order) run together on one shared quote balance.
A series with duplicates, rows out of order or inconsistent OHLC rows is refused; gaps are
reported and the run continues. Bad input prints one line on stderr and exits 2.
The run's orders and fills live in memory; --record keeps them in a new SQLite file instead,
with the bot's own schema, for cab-perf or sqlite3 to read (the same trades, slower).
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import time
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crypto_ai_bot.adapters.candle_files import load_series
from crypto_ai_bot.adapters.plot import write_equity_png, write_summary_json, write_trades_csv
from crypto_ai_bot.application.risk import RiskConfig
from crypto_ai_bot.cli._common import BadInput, guarded
from crypto_ai_bot.domain.candles import CandleSeries, check_series
from crypto_ai_bot.drivers.backtest.runner import BacktestResult, run_backtest
from crypto_ai_bot.utils.logging import configure_logging
from crypto_ai_bot.utils.time import iso_utc, parse_date_ms, timeframe_ms

PROG = "cab-backtest"
_FREQTRADE_NAME = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)-\d+[mhdwM]")
_SYMBOL = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9]+$")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("WARNING", stream=sys.stderr, once=True)
    rc = guarded(PROG, lambda: _run(args))
    gc.freeze()  # the process ends now: its final collection need not walk what is left
    return rc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Backtest a strategy on candles.")
    p.add_argument("--symbol", action="append", default=[], help="e.g. BTC/USDT (repeatable)")
    p.add_argument("--timeframe", default="5m")
    p.add_argument("--from", dest="start", help="YYYY-MM-DD[THH:MM] or epoch ms (UTC), inclusive")
    p.add_argument("--to", dest="end", help="exclusive end, same forms as --from")
    p.add_argument("--data", action="append", default=[],
                   help="candle file (.csv, .csv.gz, .feather); repeatable, paired with --symbol")
    p.add_argument("--db", help="database to read candles from (default: DB_PATH setting)")
    p.add_argument("--strategy", default="ema_cross")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="strategy parameter, e.g. fast=12 (repeatable)")
    p.add_argument("--stop-pct", default="2", help="hard stop below the entry, %% (0 = off)")
    p.add_argument("--trailing-pct", default="0", help="trailing stop below the peak, %%")
    p.add_argument("--fee-pct", default="0.1", help="fee on every fill, %%")
    p.add_argument("--stake", default="1000", help="quote spent per entry")
    p.add_argument("--start-quote", default="10000", help="initial quote balance")
    p.add_argument("--cooldown-sec", type=int, default=0, help="risk cooldown between orders")
    p.add_argument("--out", help="directory for trades.csv, summary.json and equity.png")
    p.add_argument("--no-plot", action="store_true", help="skip equity.png")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--record", metavar="FILE",
                   help="keep the run's orders and fills in this new SQLite file")
    return p


def _decimal(name: str, text: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadInput(f"{name}: not a number: {text!r}") from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        raise BadInput(f"{name}: must be {'positive' if positive else 'zero or more'}: {text}")
    return value


def _params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--param {item!r}: expected KEY=VALUE")
        value: Any = raw
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
        out[key.strip()] = value
    return out


def _symbol_from_file(path: str) -> str:
    m = _FREQTRADE_NAME.match(Path(path).name)
    if not m:
        raise BadInput(f"cannot tell the symbol of {path}; name it with --symbol")
    return f"{m.group(1).upper()}/{m.group(2).upper()}"


def _load(args: argparse.Namespace, step: int, start: int | None, end: int | None,
          err: Console) -> dict[str, CandleSeries]:
    symbols: list[str] = list(args.symbol)
    for s in symbols:
        if not _SYMBOL.match(s):
            raise BadInput(f"--symbol {s!r}: expected BASE/QUOTE, e.g. BTC/USDT")
    if args.data:
        if symbols and len(symbols) != len(args.data):
            raise BadInput(f"{len(symbols)} --symbol for {len(args.data)} --data: pair them")
        symbols = symbols or [_symbol_from_file(d) for d in args.data]
        series = {s: load_series(d).span(start, end)
                  for s, d in zip(symbols, args.data, strict=True)}
    else:
        if not symbols:
            raise BadInput("name at least one --symbol (or give --data)")
        series = _from_db(args.db, symbols, args.timeframe, start, end)
    if len(set(symbols)) != len(symbols):
        raise BadInput("a symbol appears twice")
    for s, candles in series.items():
        if not len(candles):
            raise BadInput(f"{s}: no candles in the requested span")
        rep = check_series(candles, step)
        if rep.duplicates or rep.out_of_order or rep.bad_rows:
            first = (rep.duplicates or rep.out_of_order or rep.bad_rows)[0]
            raise BadInput(f"{s}: {rep.describe()} (first at {iso_utc(first)});"
                           " fix the series first (cab-data import --fix)")
        if rep.gaps:
            a, b = rep.gaps[0]
            err.print(f"[yellow]warning[/]: {s}: {len(rep.gaps)} gap(s), first from {iso_utc(a)}"
                      f" to {iso_utc(b)}; decisions carry across them", highlight=False)
    return series


def _from_db(db: str | None, symbols: list[str], timeframe: str, start: int | None,
             end: int | None) -> dict[str, CandleSeries]:
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database
    from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories

    if db is None:
        from crypto_ai_bot.config import load_settings

        db = load_settings().db_path
    if db != ":memory:" and not Path(db).exists():
        raise BadInput(f"database {db} does not exist; give --data or import with cab-data")
    database = open_database(db)
    try:
        repo = SqliteRepositories(database).market_data
        return {s: CandleSeries.of(repo.candles(s, timeframe, start, end)) for s in symbols}
    finally:
        database.close()


def _run(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    out = Console()
    try:
        step = timeframe_ms(args.timeframe)
        start = parse_date_ms(args.start) if args.start else None
        end = parse_date_ms(args.end) if args.end else None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if start is not None and end is not None and end <= start:
        raise BadInput("--to must be after --from")
    money = {
        "stop_pct": _decimal("--stop-pct", args.stop_pct),
        "trailing_pct": _decimal("--trailing-pct", args.trailing_pct),
        "fee_pct": _decimal("--fee-pct", args.fee_pct),
        "stake": _decimal("--stake", args.stake, positive=True),
        "start_quote": _decimal("--start-quote", args.start_quote, positive=True),
    }
    if money["stop_pct"] >= 100 or money["trailing_pct"] >= 100 or money["fee_pct"] >= 100:
        raise BadInput("percentages must be below 100")
    if args.cooldown_sec < 0:
        raise BadInput("--cooldown-sec must be zero or more")
    params = _params(args.param)
    if args.record and Path(args.record).exists():
        raise BadInput(f"--record {args.record}: the file exists; name a new one")
    series = _load(args, step, start, end, err)
    gc.freeze()  # the candles live to the end: the cycle collector need not walk them again
    total = sum(len(c) for c in series.values())
    began = time.perf_counter()
    # A run makes no cyclic garbage to speak of (bench/backtest_speed.py --all peaks at the same
    # memory either way), and the collector's passes over its short-lived records cost ~5 %.
    gc.disable()
    try:
        with Progress(TextColumn("backtest"), BarColumn(), TaskProgressColumn(),
                      TimeElapsedColumn(), console=err, transient=True,
                      disable=args.no_progress) as bar:
            task = bar.add_task("candles", total=total)
            result = run_backtest(
                series, strategy=args.strategy, params=params, timeframe_ms=step,
                risk=RiskConfig(cooldown_sec=args.cooldown_sec),
                progress=lambda done, _all: bar.update(task, completed=done),
                stop_pct=money["stop_pct"], trailing_pct=money["trailing_pct"],
                fee_pct=money["fee_pct"], stake=money["stake"],
                start_quote=money["start_quote"], record=args.record,
            )
    finally:
        # What the run made lives to the end too: frozen first, or re-enabling the collector
        # soon walks all of it (about a second for ten pairs).
        gc.freeze()
        gc.enable()
    elapsed = time.perf_counter() - began
    _print_summary(out, result, elapsed, total)
    if args.out:
        _write(Path(args.out), result, args, out, err)
    return 0


def _write(d: Path, result: BacktestResult, args: argparse.Namespace, out: Console,
           err: Console) -> None:
    try:
        d.mkdir(parents=True, exist_ok=True)
        write_trades_csv(d / "trades.csv", result)
        write_summary_json(d / "summary.json", result, {"symbols": list(
            result.summary.per_symbol), "timeframe": args.timeframe})
        wrote = ["trades.csv", "summary.json"]
        if not args.no_plot:
            title = f"{', '.join(result.summary.per_symbol)} {args.timeframe} {args.strategy}"
            if write_equity_png(d / "equity.png", result, title):
                wrote.append("equity.png")
            else:
                err.print("equity.png skipped: matplotlib is not installed"
                          " (pip install 'crypto-ai-bot[plot]')")
    except OSError as exc:
        raise BadInput(f"cannot write to {d}: {exc.strerror or exc}") from None
    out.print(f"wrote {', '.join(wrote)} to {d}", highlight=False)


def _print_summary(out: Console, result: BacktestResult, elapsed: float, candles: int) -> None:
    s = result.summary
    t = Table(title=f"backtest {iso_utc(s.first_ts_ms)} → {iso_utc(s.last_ts_ms)} UTC",
              show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")

    def f(x: float | None, unit: str = "") -> str:
        return "n/a" if x is None else f"{x:,.2f}{unit}"

    rows = [
        ("trades", f"{s.trades} ({s.wins} won, {s.losses} lost)"),
        ("win rate", f(s.win_rate_pct, " %")),
        ("total return", f(s.total_return_pct, " %")),
        ("PnL", f"{s.pnl_quote:,.2f}"),
        ("final balance", f"{s.final_quote:,.2f} (from {s.start_quote:,.2f})"),
        ("max drawdown", f(s.max_drawdown_pct, " %")),
        ("Sharpe (annualised)", f(s.sharpe)),
        ("Sortino (annualised)", f(s.sortino)),
        ("profit factor", f(s.profit_factor)),
        ("exposure", f(s.exposure_pct, " %")),
        ("fees paid", f"{s.fees_quote:,.2f}"),
        ("buy and hold", f(s.buy_hold_return_pct, " %")),
        ("speed", f"{candles:,} candles in {elapsed:.2f} s"),
    ]
    for name, value in rows:
        t.add_row(name, value)
    out.print(t)
    if len(s.per_symbol) > 1:
        p = Table(title="per symbol")
        for col in ("symbol", "trades", "win rate %", "PnL", "fees", "exposure %", "B&H %"):
            p.add_column(col, justify="left" if col == "symbol" else "right")
        for sym in s.per_symbol.values():
            p.add_row(sym.symbol, str(sym.trades), f(sym.win_rate_pct), f"{sym.pnl_quote:,.2f}",
                      f"{sym.fees_quote:,.2f}", f(sym.exposure_pct), f(sym.buy_hold_return_pct))
        out.print(p)


if __name__ == "__main__":
    raise SystemExit(main())
