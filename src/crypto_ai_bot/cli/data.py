"""cab-data: download, import, list and export the candles stored in the bot's database.

    cab-data download --symbol BTC/USDT --timeframe 5m --since 2025-01-01 [--until …] [--db PATH]
    cab-data import FILE [--symbol S --timeframe TF] [--fix] [--db PATH]
    cab-data list [--db PATH]
    cab-data export --symbol S --timeframe TF --out FILE.csv[.gz] [--from …] [--to …] [--db PATH]

Bad input (missing or corrupt file, bad date, unknown timeframe or symbol) and configuration
errors print one line on stderr and exit 2; exchange failures exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from crypto_ai_bot.adapters.candle_files import load_candles, write_csv
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.bootstrap import open_storage
from crypto_ai_bot.cli._common import BadInput, guarded
from crypto_ai_bot.domain.candles import SeriesReport, check_series, clean_series
from crypto_ai_bot.ports.clock import SystemClock
from crypto_ai_bot.ports.storage import MarketDataRepository
from crypto_ai_bot.utils.time import iso_utc, parse_date_ms, timeframe_ms

if TYPE_CHECKING:
    from crypto_ai_bot.adapters.exchange.ccxt.download import DownloadResult
    from crypto_ai_bot.config import Settings

PROG = "cab-data"
# freqtrade names its files PAIR-TIMEFRAME[-CANDLETYPE].ext, e.g. BTC_USDT-5m.feather
_FREQTRADE_NAME = re.compile(
    r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)-(\d+[mhdwM])(?:-[a-z_]+)?\.(?:feather|csv|csv\.gz)$"
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return guarded(PROG, lambda: handler(args),
                   interrupted="interrupted; what was stored stays stored")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Manage the candles in the bot's database.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("download", help="fetch closed candles from the exchange (resumes)")
    _series_args(d, required=True)
    d.add_argument("--since", required=True, help="YYYY-MM-DD[THH:MM] or epoch ms (UTC)")
    d.add_argument("--until", help="exclusive end (default: the last closed candle)")
    _db_arg(d)
    d.set_defaults(handler=_cmd_download)

    i = sub.add_parser("import", help="store a CSV or freqtrade feather file")
    i.add_argument("file")
    _series_args(i, required=False)
    i.add_argument("--fix", action="store_true", help="drop duplicates and bad rows, sort")
    _db_arg(i)
    i.set_defaults(handler=_cmd_import)

    ls = sub.add_parser("list", help="show the stored series")
    _db_arg(ls)
    ls.set_defaults(handler=_cmd_list)

    e = sub.add_parser("export", help="write a stored series to CSV (.csv or .csv.gz)")
    _series_args(e, required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--from", dest="start", help="first candle time (inclusive)")
    e.add_argument("--to", dest="end", help="end time (exclusive)")
    _db_arg(e)
    e.set_defaults(handler=_cmd_export)
    return p


def _series_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--symbol", required=required, help="e.g. BTC/USDT")
    p.add_argument("--timeframe", required=required, help="e.g. 5m, 1h")


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="SQLite database (default: DB_PATH from the settings)")


# commands ----------------------------------------------------------------------------------


def _cmd_download(args: argparse.Namespace) -> int:
    from crypto_ai_bot.config import load_settings

    symbol, tf = _symbol(args.symbol), _timeframe(args.timeframe)
    since = _date("--since", args.since)
    until = _date("--until", args.until) if args.until else None
    if until is not None and until <= since:
        raise BadInput("--until must be later than --since")
    settings = load_settings()
    with _storage(args.db or settings.db_path, create=True) as repos:
        result = asyncio.run(_download(settings, repos.market_data, symbol, tf, since, until))
    if result.resumed_after is not None:
        print(f"resumed after the stored candle at {iso_utc(result.resumed_after)}")
    span = f"{iso_utc(result.start_ms)} .. {iso_utc(result.end_ms)}"
    last = f"; newest {iso_utc(result.last_ts)}" if result.last_ts is not None else ""
    print(f"{symbol} {tf}: stored {result.stored} closed candle(s) for {span}"
          f" in {result.requests} request(s){last}")
    if result.gaps:
        print(f"gaps: {_gap_text(result.gaps, timeframe_ms(tf))} (stored as they are)")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    symbol, tf = _file_series(path, args.symbol, args.timeframe)
    step = timeframe_ms(tf)
    lines: list[int] = []
    candles = load_candles(path, lines)
    if not candles:
        raise BadInput(f"{path}: no candles in the file")
    rep = check_series(candles, step)
    print(f"{path.name}: {rep.describe()}")
    if rep.duplicates or rep.out_of_order or rep.bad_rows:
        if rep.bad_rows and not args.fix:
            i = next(i for i, c in enumerate(candles) if not c.low <= c.open <= c.high
                     or not c.low <= c.close <= c.high)
            c = candles[i]
            raise BadInput(f"{path}:{lines[i]}: refusing to import: high {c.high}, low "
                           f"{c.low}, open {c.open}, close {c.close} are no candle "
                           f"({_problems(rep)}); rerun with --fix to drop such rows")
        if not args.fix:
            raise BadInput(f"{path}: refusing to import: {_problems(rep)}; "
                           "rerun with --fix to sort, drop duplicates and inconsistent rows")
        bad = set(rep.bad_rows)
        fixed = clean_series([c for c in candles if c.ts_ms not in bad])
        print(f"--fix: dropped {len(candles) - len(fixed)} row(s), "
              f"sorted {len(rep.out_of_order)} out-of-order row(s)")
        candles = fixed
        rep = check_series(candles, step)
    if rep.gaps:
        print(f"gaps: {_gap_text(rep.gaps, step)} (stored as they are)")
    with _storage(args.db, create=True) as repos:
        n = repos.market_data.upsert(symbol, tf, candles)
    print(f"stored {n} candle(s) as {symbol} {tf}: "
          f"{iso_utc(candles[0].ts_ms)} .. {iso_utc(candles[-1].ts_ms)}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    with _storage(args.db, create=False) as repos:
        summaries = repos.market_data.series()
        if not summaries:
            print("no candles stored")
            return 0
        table = Table("symbol", "timeframe", "first", "last", "count", "gaps")
        for s in summaries:
            gaps = _count_gaps(repos.market_data.timestamps(s.symbol, s.timeframe), s.timeframe)
            table.add_row(s.symbol, s.timeframe, iso_utc(s.first_ms), iso_utc(s.last_ms),
                          str(s.count), gaps)
    Console(width=120).print(table)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    symbol, tf = _symbol(args.symbol), _timeframe(args.timeframe)
    start = _date("--from", args.start) if args.start else None
    end = _date("--to", args.end) if args.end else None
    out = Path(args.out)
    if not (out.name.endswith(".csv") or out.name.endswith(".csv.gz")):
        raise BadInput(f"--out {out}: use a .csv or .csv.gz file name")
    with _storage(args.db, create=False) as repos:
        candles = repos.market_data.candles(symbol, tf, start, end)
    if not candles:
        raise BadInput(f"no stored candles for {symbol} {tf} in that span")
    try:
        write_csv(out, candles)
    except OSError as exc:
        raise BadInput(f"--out {out}: cannot write: {exc.strerror}") from None
    print(f"wrote {len(candles)} candle(s) to {out}")
    return 0


# helpers -----------------------------------------------------------------------------------


def _storage(db: str | None, *, create: bool) -> AbstractContextManager[SqliteRepositories]:
    if db is None:
        from crypto_ai_bot.config import load_settings

        db = load_settings().db_path
    if not create and not Path(db).exists():
        raise BadInput(f"no database at {db}")
    return open_storage(db)


def _symbol(text: str) -> str:
    parts = text.strip().upper().split("/")
    if len(parts) != 2 or not all(p.isalnum() for p in parts):
        raise BadInput(f"--symbol {text!r}: use BASE/QUOTE, e.g. BTC/USDT")
    return "/".join(parts)


def _timeframe(text: str) -> str:
    try:
        timeframe_ms(text)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return text


def _date(flag: str, text: str) -> int:
    try:
        return parse_date_ms(text)
    except ValueError as exc:
        raise BadInput(f"{flag}: {exc}") from None


def _file_series(path: Path, symbol: str | None, timeframe: str | None) -> tuple[str, str]:
    """Symbol and timeframe as given, else read from a freqtrade-style file name."""
    m = _FREQTRADE_NAME.match(path.name)
    if symbol is None:
        if m is None:
            raise BadInput(f"cannot tell the symbol from {path.name!r}; give --symbol")
        symbol = f"{m.group(1)}/{m.group(2)}"
    if timeframe is None:
        if m is None:
            raise BadInput(f"cannot tell the timeframe from {path.name!r}; give --timeframe")
        timeframe = m.group(3)
    return _symbol(symbol), _timeframe(timeframe)


def _problems(rep: SeriesReport) -> str:
    parts = []
    for label, items in (("duplicate(s)", rep.duplicates), ("row(s) out of order",
                         rep.out_of_order), ("inconsistent OHLC row(s)", rep.bad_rows)):
        if items:
            parts.append(f"{len(items)} {label} (first at {iso_utc(items[0])})")
    return ", ".join(parts)


def _gap_text(gaps: list[tuple[int, int]], step: int) -> str:
    a, b = max(gaps, key=lambda g: g[1] - g[0])
    missing = (b - a) // step - 1
    return (f"{len(gaps)} gap(s); largest {missing} missing candle(s) "
            f"between {iso_utc(a)} and {iso_utc(b)}")


def _count_gaps(ts: list[int], timeframe: str) -> str:
    try:
        step = timeframe_ms(timeframe)
    except ValueError:
        return "?"
    return str(sum(1 for a, b in itertools.pairwise(ts) if b - a > step))


async def _download(
    settings: Settings, repo: MarketDataRepository, symbol: str, tf: str, since: int,
    until: int | None,
) -> DownloadResult:
    """Build the exchange client from the settings, check the market, download with a bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from crypto_ai_bot.adapters.exchange.ccxt.download import CcxtOhlcvSource, download_candles
    from crypto_ai_bot.bootstrap import download_client

    ex = download_client(settings)
    try:
        source = CcxtOhlcvSource(ex)
        try:
            await source.check_market(symbol, tf)
        except ValueError as exc:
            raise BadInput(f"{settings.exchange}: {exc}") from None
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=Console(stderr=True),
        ) as bar:
            task = bar.add_task(f"{symbol} {tf}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await download_candles(
                source, repo, symbol, tf, since_ms=since, until_ms=until, clock=SystemClock(),
                progress=progress,
            )
    finally:
        await ex.close()


if __name__ == "__main__":
    raise SystemExit(main())
