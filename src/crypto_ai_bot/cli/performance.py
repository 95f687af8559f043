"""cab-perf: fills and realised PnL for today (UTC) by symbol, or the last N days (then also
one row per day). The table fits 80 columns, with money to the cent.

`--json` prints an object with fills, buys, sells, realized_pnl_quote, fees_quote (fees in
quote), by_symbol, by_day, from_ms and to_ms; money is given as exact decimal strings, and
each `display` beside them has it to the cent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crypto_ai_bot.application.performance import (
    PerformanceReport,
    SymbolPerformance,
    performance,
    period_ms,
)
from crypto_ai_bot.bootstrap import open_storage
from crypto_ai_bot.cli._common import EXIT_CONFIG, EXIT_OK, fail, print_table, settings_or_exit
from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.errors import DatabaseCorrupt, StorageError
from crypto_ai_bot.utils.time import MS_PER_DAY, iso_utc, now_ms


def _days(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cab-perf", description="Trades and PnL by symbol.")
    p.add_argument("--db", metavar="PATH", help="database file (default: DB_PATH)")
    p.add_argument("--days", type=_days, default=1, metavar="N",
                   help="the last N UTC days, today included (default 1: today)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="show info logs on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Print the performance report; 0 done, 1 no database, 2 bad configuration or a
    database that fails its integrity check."""
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {"db_path": args.db} if args.db else {}
    settings = settings_or_exit(verbose=args.verbose, **overrides)
    if not Path(settings.db_path).is_file():
        return fail(f"no database at {settings.db_path} (run the bot first, or pass --db)")
    start, end = period_ms(now_ms(), args.days)
    try:
        with open_storage(settings.db_path) as repos:
            report = performance(repos.trades, start, end)
    except DatabaseCorrupt as exc:  # the way back is the operator's: as bad input, exit 2
        print(f"cab-perf: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    return EXIT_OK


def _fees(s: SymbolPerformance) -> str:
    return display.money(s.fees_quote) + "".join(
        f" + {v} {c}" for c, v in s.fees_other.items())


def _print_report(r: PerformanceReport) -> None:
    days = (r.to_ms - r.from_ms) // MS_PER_DAY
    span = iso_utc(r.from_ms)[:10] if days == 1 else (
        f"{iso_utc(r.from_ms)[:10]} .. {iso_utc(r.to_ms - 1)[:10]}")
    title = f"Fills and PnL, {span} UTC (money in quote)"
    cols = ["symbol", "fills", "buys", "sells", "bought", "sold", "realised PnL", "fees"]
    rows: list[list[object]] = []
    for symbol, s in sorted(r.by_symbol.items()):
        rows.append([symbol, s.fills, s.buys, s.sells, display.money(s.bought_quote),
                     display.money(s.sold_quote), display.money(s.realized_pnl_quote), _fees(s)])
    if len(rows) != 1:
        rows.append(["total", r.fills, r.buys, r.sells, "", "",
                     display.money(r.realized_pnl_quote), display.money(r.fees_quote)])
    print_table(title, cols, rows, right=cols[1:], width=80)
    if days > 1:
        day_cols = ["day (UTC)", "fills", "buys", "sells", "realised PnL", "fees"]
        day_rows = [[iso_utc(day)[:10], s.fills, s.buys, s.sells,
                     display.money(s.realized_pnl_quote), _fees(s)]
                    for day, s in sorted(r.days().items())]
        print_table("By day", day_cols, day_rows, right=day_cols[1:], width=80)


if __name__ == "__main__":
    raise SystemExit(main())
