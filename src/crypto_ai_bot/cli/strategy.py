"""cab-strategy: check a strategy before it trades.

    cab-strategy check FILE.py:Class --data CANDLES [--param KEY=VALUE ...] [--cuts 20] [--fast]
    cab-strategy check ema_cross --data BTC_USDT-5m.feather
    cab-strategy list

`check` runs the strategy on the whole series and on truncated copies (lookahead: a value at
or before a cut that changes; a strategy that opens the candle file itself), with only its
startup history (recursive bias, and the startup count that removes it), twice
(determinism), and as live recomputes it (the last startup_candle_count + 1 candles), and
measures its cost a candle. Exit 0 when clean, 1 with a table of what is wrong, 2 on bad
input (no such file, unknown strategy or parameter). --fast is what cab-backtest and the live
start-up run before they trade.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from crypto_ai_bot.adapters.candle_files import load_series
from crypto_ai_bot.application.strategies import registry
from crypto_ai_bot.application.strategies.check import Report, check
from crypto_ai_bot.bootstrap import strategy_context
from crypto_ai_bot.cli._common import (
    EXIT_FAIL,
    EXIT_OK,
    BadInput,
    guarded,
    param_values,
    symbol_from_file,
)
from crypto_ai_bot.utils.logging import configure_logging
from crypto_ai_bot.utils.time import iso_utc

PROG = "cab-strategy"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    configure_logging("WARNING", stream=sys.stderr, once=True)
    if args.command == "list":
        return guarded(PROG, _list)
    return guarded(PROG, lambda: _check(args))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Check a strategy before it trades.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="lookahead, recursive bias, determinism, live = backtest,"
                       " speed")
    c.add_argument("strategy", help="a registered name, path/to/file.py:Class or"
                   " package.module:Class")
    c.add_argument("--data", required=True, help="candle file (CSV or feather)")
    c.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="strategy parameter (repeatable)")
    c.add_argument("--symbol", help="the pair the strategy is told (default: from the file name)")
    c.add_argument("--cuts", type=int, default=20, help="cut points of the lookahead check")
    c.add_argument("--fast", action="store_true",
                   help="the fast part only (what cab-backtest runs before a backtest)")
    sub.add_parser("list", help="the registered strategies")
    return p


def _list() -> int:
    for e in registry().values():
        print(f"{e.name}: {e.summary}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    if args.cuts < 1:
        raise BadInput("--cuts must be 1 or more")
    if not Path(args.data).is_file():
        raise BadInput(f"--data {args.data}: no such file")
    series = load_series(args.data)
    if len(series) < 3:
        raise BadInput(f"--data {args.data}: {len(series)} candles; the check needs at least 3")
    symbol = args.symbol
    if symbol is None:
        try:
            symbol = symbol_from_file(args.data)
        except BadInput:
            symbol = ""
    context = replace(strategy_context(), symbol=symbol)
    report = check(args.strategy, series.bars, params=param_values(args.param), data=[args.data],
                   cuts=args.cuts, fast=args.fast, context=context)
    _print(Console(), report, args.data)
    return EXIT_OK if report.ok else EXIT_FAIL


def _print(out: Console, r: Report, data: str) -> None:
    out.print(f"{r.strategy} ({r.kind}) on {r.candles:,} candles of {data}, {r.cuts} cuts",
              highlight=False, soft_wrap=True)
    if r.problems:
        t = Table(title="problems")
        for col in ("check", "candle (UTC)", "column", "whole series / backtest",
                    "cut / live / 2nd run", "note"):
            t.add_column(col)
        for p in r.problems:
            t.add_row(p.check, iso_utc(p.candle_ms) if p.candle_ms is not None else "-",
                      p.column, p.expected, p.got, p.note)
        out.print(t)
    m = Table(show_header=False, title="measures")
    m.add_column("what")
    m.add_column("value", justify="right")
    m.add_row("backtest, a candle", f"{r.backtest_us:,.2f} µs")
    if r.live_us is not None:
        m.add_row("live recomputation, a candle", f"{r.live_us:,.0f} µs")
    if r.startup_needed is not None:
        m.add_row("startup candles without recursive bias", f"{r.startup_needed}")
    out.print(m)
    for note in r.notes:
        out.print(f"note: {note}", highlight=False, soft_wrap=True)
    ran = ["no lookahead", "deterministic"] + (
        ["live = backtest"] if r.kind == "vectorised" else []) + (
        ["no recursive bias"] if r.startup_needed is not None else [])
    out.print(f"clean: {', '.join(ran)}" if r.ok
              else f"{len(r.problems)} problem(s): {r.summary()}", highlight=False,
              soft_wrap=True, markup=False)


if __name__ == "__main__":
    raise SystemExit(main())
