"""cab-perf: fills and realised PnL for today (UTC) by symbol, or the last N days.

`--json` prints an object with trades, buys, sells, realized_pnl_quote, fees_quote (fees in
quote), by_symbol, from_ms and to_ms; money is given as exact decimal strings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crypto_ai_bot.application.performance import PerformanceReport, performance, period_ms
from crypto_ai_bot.bootstrap import open_storage
from crypto_ai_bot.cli._common import EXIT_CONFIG, EXIT_OK, fail, print_table, settings_or_exit
from crypto_ai_bot.domain.errors import DatabaseCorrupt, StorageError
from crypto_ai_bot.utils.time import iso_utc, now_ms


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


def _print_report(r: PerformanceReport) -> None:
    title = f"Performance {iso_utc(r.from_ms)} .. {iso_utc(r.to_ms)} UTC"
    cols = ["symbol", "fills", "buys", "sells", "bought (quote)", "sold (quote)",
            "realised PnL", "fees (quote)"]
    rows: list[list[object]] = []
    for symbol, s in sorted(r.by_symbol.items()):
        fees = str(s.fees_quote) + "".join(f" + {v} {c}" for c, v in s.fees_other.items())
        rows.append([symbol, s.trades, s.buys, s.sells, s.bought_quote, s.sold_quote,
                     s.realized_pnl_quote, fees])
    if len(rows) != 1:
        rows.append(["total", r.trades, r.buys, r.sells, "", "", r.realized_pnl_quote,
                     r.fees_quote])
    print_table(title, cols, rows, right=cols[1:])


if __name__ == "__main__":
    raise SystemExit(main())
