"""cab-backtest: run the live pipeline over stored or file candles and report the result.

    cab-backtest --symbol BTC/USDT --timeframe 5m [--from 2025-01-01 --to 2025-06-01]
                 [--data FILE ...] [--db PATH] [--strategy ema_cross --param fast=12 ...]
                 [--stop-pct 2] [--trailing-pct 1] [--fee-pct 0.2] [--stake 100]
                 [--start-quote 10000] [--cooldown-sec 10] [--no-risk] [--out DIR]
                 [--force] [--no-plot] [--record FILE] [--candle-cache DIR|off]
    cab-backtest --compare data/bot.sqlite3 [--out DIR]

With no flags it simulates the configured bot: the strategy (STRATEGY and its variables), the
stake (FIXED_AMOUNT), the fee (PAPER_FEE_PCT), the stops (EXITS_*), the start balance
(PAPER_START_QUOTE) and the risk limits (RISK_*) come from the settings, as `make run` reads
them; each flag overrides its setting, and the run prints what it simulated. --strategy NAME
takes NAME's own defaults and the --param given.

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
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from crypto_ai_bot.adapters import candle_cache
from crypto_ai_bot.adapters.candle_files import load_series
from crypto_ai_bot.application.execution import ExecutionConfig
from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.risk import RiskConfig
from crypto_ai_bot.application.strategies import registry
from crypto_ai_bot.bootstrap import backtest_engine, fast_check, open_storage, strategy_exits
from crypto_ai_bot.cli._common import (
    BadInput,
    check_symbol,
    decimal_arg,
    guarded,
    param_values,
    symbol_from_file,
)
from crypto_ai_bot.cli._params_from import apply_params_from
from crypto_ai_bot.domain.candles import CandleSeries, check_series
from crypto_ai_bot.domain.venue import VenueConfig
from crypto_ai_bot.drivers.backtest.engine import BacktestConfig
from crypto_ai_bot.drivers.backtest.runner import infer_timeframe_ms, run
from crypto_ai_bot.reports.output import analyse, out_dir_problem, print_report, write_outputs
from crypto_ai_bot.utils.logging import configure_logging
from crypto_ai_bot.utils.time import TIMEFRAME_MS, iso_utc, parse_date_ms, timeframe_ms

if TYPE_CHECKING:  # pydantic-settings costs ~0.15 s to import: read only when a flag is missing
    from crypto_ai_bot.config import Settings

PROG = "cab-backtest"


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    args = _parser(listing="-h" in given or "--help" in given).parse_args(given)
    configure_logging("WARNING", stream=sys.stderr, once=True)
    rc = guarded(PROG, lambda: _run(args))
    gc.freeze()  # the process ends now: its final collection need not walk what is left
    return rc


def _parser(*, listing: bool = True) -> argparse.ArgumentParser:
    """listing: name every registered strategy in --help, the installed packages' too (it
    reads their metadata, which a run needs only for a name it does not know)."""
    strategies = "; ".join(f"{e.name}: {e.summary}" for e in registry().values()) if listing else (
        "see --help")
    p = argparse.ArgumentParser(
        prog=PROG, description="Backtest a strategy on candles, as the configured bot would"
        " trade it (each flag overrides its setting).")
    p.add_argument("--symbol", action="append", default=[], help="e.g. BTC/USDT (repeatable)")
    p.add_argument("--timeframe", help="5m, 1h, ... (default: the file's own, else TIMEFRAME)")
    p.add_argument("--from", dest="start", help="YYYY-MM-DD[THH:MM] or epoch ms (UTC), inclusive")
    p.add_argument("--to", dest="end", help="exclusive end, same forms as --from")
    p.add_argument("--data", action="append", default=[],
                   help="candle file (.csv, .csv.gz, .feather); repeatable, paired with --symbol")
    p.add_argument("--db", help="database to read candles from (default: DB_PATH setting)")
    p.add_argument("--strategy", help="default STRATEGY; a registered name, path/to/file.py:Class"
                   f" or package.module:Class (docs/strategies.md); registered: {strategies}")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="strategy parameter, e.g. fast=12 (repeatable)")
    p.add_argument("--params-from", metavar="OPTIMIZE_JSON",
                   help="strategy, parameters and stops from cab-optimize's optimize.json")
    p.add_argument("--stop-pct", "--exits-hard-stop-pct", dest="stop_pct",
                   help="hard stop below the entry, %% (0 = off; EXITS_HARD_STOP_PCT)")
    p.add_argument("--trailing-pct", "--exits-trailing-pct", dest="trailing_pct",
                   help="trailing stop below the peak, %% (0 = off; EXITS_TRAILING_PCT)")
    p.add_argument("--fee-pct", "--paper-fee-pct", dest="fee_pct",
                   help="fee on every fill, %% (PAPER_FEE_PCT)")
    p.add_argument("--stake", "--fixed-amount", dest="stake",
                   help="quote spent per entry (FIXED_AMOUNT)")
    p.add_argument("--start-quote", "--paper-start-quote", dest="start_quote",
                   help="initial quote balance (PAPER_START_QUOTE)")
    p.add_argument("--cooldown-sec", "--risk-cooldown-sec", dest="cooldown_sec", type=int,
                   help="risk cooldown between a symbol's orders (RISK_COOLDOWN_SEC)")
    p.add_argument("--max-spread-pct", help="RISK_MAX_SPREAD_PCT (0 = off)")
    p.add_argument("--max-position-base", help="RISK_MAX_POSITION_BASE (0 = off)")
    p.add_argument("--max-orders-per-hour", type=int, help="RISK_MAX_ORDERS_PER_HOUR (0 = off)")
    p.add_argument("--daily-loss-limit-quote", help="RISK_DAILY_LOSS_LIMIT_QUOTE (0 = off)")
    p.add_argument("--no-risk", action="store_true",
                   help="no risk limit and no cooldown (the reference conditions)")
    p.add_argument("--out", help="directory for trades.csv, summary.json, equity.png, price.png"
                   " and report.html (a directory not empty is refused without --force)")
    p.add_argument("--force", action="store_true", help="replace the report files in --out")
    p.add_argument("--no-plot", action="store_true",
                   help="skip the charts: equity.png, price.png and report.html")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--compare", metavar="DB",
                   help="line up the trades the bot made (its database, e.g. data/bot.sqlite3)"
                   " with a backtest of its latest session's settings and candles")
    p.add_argument("--record", metavar="FILE",
                   help="keep the run's orders and fills in this new SQLite file")
    p.add_argument("--no-check", action="store_true",
                   help="skip the fast strategy check (lookahead ...; cab-strategy check)")
    p.add_argument("--candle-cache", metavar="DIR",
                   help="where feather files are kept converted for fast reloading (default:"
                   " ~/.cache/crypto-ai-bot/candles; 'off': none)")
    return p


def _load(args: argparse.Namespace, step: int, start: int | None, end: int | None,
          err: Console, settings: _Defaults) -> dict[str, CandleSeries]:
    symbols: list[str] = list(args.symbol)
    for s in symbols:
        check_symbol(s)
    if args.data:
        if symbols and len(symbols) != len(args.data):
            raise BadInput(f"{len(symbols)} --symbol for {len(args.data)} --data: pair them")
        symbols = symbols or [symbol_from_file(d) for d in args.data]
        cache = _candle_cache(args.candle_cache)
        series = {s: load_series(d, cache).span(start, end)
                  for s, d in zip(symbols, args.data, strict=True)}
    else:
        if not symbols:
            raise BadInput("name at least one --symbol (or give --data)")
        series = _from_db(args.db or settings().db_path, symbols, args.timeframe, start, end)
    if len(set(symbols)) != len(symbols):
        raise BadInput("a symbol appears twice")
    for s, candles in series.items():
        if not len(candles):
            raise BadInput(f"{s}: no candles in the requested span")
        rep = check_series(candles, step)
        if args.timeframe is None:  # the series' own timeframe: its gaps are its gaps
            step = infer_timeframe_ms(candles.bars) if len(candles) > 1 else step
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


def _candle_cache(flag: str | None) -> Path | None:
    if flag == "off":
        return None
    return Path(flag) if flag else candle_cache.default_dir()


def _from_db(db: str, symbols: list[str], timeframe: str, start: int | None,
             end: int | None) -> dict[str, CandleSeries]:
    if db != ":memory:" and not Path(db).exists():
        raise BadInput(f"database {db} does not exist; give --data or import with cab-data")
    with open_storage(db) as repos:
        return {s: CandleSeries.of(repos.market_data.candles(s, timeframe, start, end))
                for s in symbols}


class _Defaults:
    """The settings, read once and only when a flag leaves something to them."""

    def __init__(self) -> None:
        self._settings: Settings | None = None

    def __call__(self) -> Settings:
        if self._settings is None:
            from crypto_ai_bot.cli._common import settings_or_exit

            self._settings = settings_or_exit()
        return self._settings


def _config(args: argparse.Namespace, step: int, settings: _Defaults) -> BacktestConfig:
    """The run's config: each flag, else its setting."""

    def pct(flag: str, value: str | None, default: Callable[[], Decimal]) -> Decimal:
        got = default() if value is None else decimal_arg(flag, value)
        if got >= 100:
            raise BadInput(f"{flag}: percentages must be below 100")
        return got

    stop = pct("--stop-pct", args.stop_pct, lambda: settings().exits_hard_stop_pct)
    trailing = pct("--trailing-pct", args.trailing_pct, lambda: settings().exits_trailing_pct)
    fee = pct("--fee-pct", args.fee_pct, lambda: settings().paper_fee_pct)
    enabled = True if args.stop_pct is not None and args.trailing_pct is not None else (
        settings().exits_enabled)
    stake = (settings().fixed_amount if args.stake is None
             else decimal_arg("--stake", args.stake, positive=True))
    start_quote = (settings().paper_start_quote if args.start_quote is None
                   else decimal_arg("--start-quote", args.start_quote, positive=True))
    if args.strategy is None:
        strategy = settings().strategy
        params = {**settings().strategy_kwargs, **param_values(args.param)}
    else:
        strategy, params = args.strategy, param_values(args.param)
    exits = ExitsConfig(enabled=enabled, hard_stop_pct=stop, trailing_pct=trailing)
    try:  # a strategy's own stoploss, trailing_stop*, minimal_roi; the flags given win
        exits = strategy_exits(strategy, exits, {k: v for k, v, flag in (
            ("hard_stop_pct", stop, args.stop_pct), ("trailing_pct", trailing, args.trailing_pct),
        ) if flag is not None})
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return BacktestConfig(
        execution=ExecutionConfig(fixed_amount_quote=stake),
        exits=exits,
        risk=_risk(args, settings),
        venue=VenueConfig(fee_pct=fee, start_quote=start_quote),
        strategy=strategy, params=params, timeframe_ms=step,
    )


def _risk(args: argparse.Namespace, settings: Callable[[], Settings]) -> RiskConfig:
    given = {
        "cooldown_sec": args.cooldown_sec,
        "max_spread_pct": None if args.max_spread_pct is None
        else decimal_arg("--max-spread-pct", args.max_spread_pct),
        "max_position_base": None if args.max_position_base is None
        else decimal_arg("--max-position-base", args.max_position_base),
        "max_orders_per_hour": args.max_orders_per_hour,
        "daily_loss_limit_quote": None if args.daily_loss_limit_quote is None
        else decimal_arg("--daily-loss-limit-quote", args.daily_loss_limit_quote),
    }
    for name in ("cooldown_sec", "max_orders_per_hour"):
        if given[name] is not None and given[name] < 0:
            raise BadInput(f"--{name.replace('_', '-')} must be zero or more")
    if args.no_risk:
        return RiskConfig(**{k: v for k, v in given.items() if v is not None})
    if all(v is not None for v in given.values()):
        return RiskConfig(**given)
    configured = settings().risk_config
    return RiskConfig(**{k: getattr(configured, k) if v is None else v
                         for k, v in given.items()})


def _timeframe_name(step: int) -> str:
    names = [name for name, ms in TIMEFRAME_MS.items() if ms == step]
    return names[0] if names else f"{step}ms"


def _print_config(out: Console, cfg: BacktestConfig, timeframe: str) -> None:
    """What the run simulates, on one line: the settings it used."""
    r = cfg.risk
    out.print(
        f"simulating: {cfg.strategy} {dict(cfg.params)} on {timeframe}, stake {cfg.stake},"
        f" fee {cfg.venue.fee_pct} %, hard stop {cfg.exits.hard_stop_pct} %, trailing"
        f" {cfg.exits.trailing_pct} %{'' if cfg.exits.enabled else ' (exits off)'}, start"
        f" {cfg.start_quote}; risk: cooldown {r.cooldown_sec} s, spread {r.max_spread_pct} %,"
        f" max position {r.max_position_base}, {r.max_orders_per_hour} orders/h, daily loss"
        f" {r.daily_loss_limit_quote} (0 = off)", highlight=False, soft_wrap=True)


def _run(args: argparse.Namespace) -> int:
    apply_params_from(args)
    err = Console(stderr=True)
    out = Console()
    try:
        step = timeframe_ms(args.timeframe or "5m")
        start = parse_date_ms(args.start) if args.start else None
        end = parse_date_ms(args.end) if args.end else None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if start is not None and end is not None and end <= start:
        raise BadInput("--to must be after --from")
    if args.out and (problem := out_dir_problem(Path(args.out), args.force)):
        raise BadInput(problem)
    if args.compare:  # everything it needs is in that database
        if args.data or args.symbol or args.strategy or args.param or args.record:
            raise BadInput("--compare reads the symbols, candles, strategy and settings from"
                           " the bot's database: drop --data, --symbol, --strategy, --param")
        from crypto_ai_bot.cli._compare import run_compare

        return run_compare(args.compare, out_dir=Path(args.out) if args.out else None,
                           plot=not args.no_plot, out=out, err=err)
    if args.record and Path(args.record).exists():
        raise BadInput(f"--record {args.record}: the file exists; name a new one")
    settings = _Defaults()
    if args.timeframe is None and not args.data:  # the stored candles of the bot's timeframe
        args.timeframe = settings().timeframe
        step = timeframe_ms(args.timeframe)
    series = _load(args, step, start, end, err, settings)
    if args.timeframe is None:
        step = infer_timeframe_ms(next(iter(series.values())).bars)
        args.timeframe = _timeframe_name(step)
    config = _config(args, step, settings)
    _print_config(out, config, args.timeframe)
    if _checked(args, config, series, err):
        return 1
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
            try:
                engine = backtest_engine(
                    series, config, record=args.record,
                    progress=lambda done, _all: bar.update(task, completed=done))
            except ValueError as exc:
                raise BadInput(str(exc)) from None
            result = run(engine)
    finally:
        # What the run made lives to the end too: frozen first, or re-enabling the collector
        # soon walks all of it (about a second for ten pairs).
        gc.freeze()
        gc.enable()
    elapsed = time.perf_counter() - began
    report = analyse(result, series)  # after the run: the report costs the run nothing
    print_report(out, result, report, elapsed, total)
    if args.out:
        try:
            wrote = write_outputs(Path(args.out), result, series, report,
                                  plot=not args.no_plot, err=err)
        except OSError as exc:
            raise BadInput(f"cannot write to {args.out}: {exc.strerror or exc}") from None
        out.print(f"wrote {', '.join(wrote)} to {args.out}", highlight=False)
    return 0


def _checked(args: argparse.Namespace, config: BacktestConfig, series: dict[str, CandleSeries],
             err: Console) -> bool:
    """The fast strategy check before the run (cab-strategy check has it all); True when it
    failed and the run is refused. --no-check skips it, loudly."""
    if args.no_check:
        err.print("warning: --no-check: the strategy check is skipped; lookahead is not ruled"
                  " out", markup=False, soft_wrap=True)
        return False
    try:
        report = fast_check(config.strategy, config.params, next(iter(series.values())).bars,
                            list(args.data or ()))
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if not report.ok:
        err.print(f"{PROG}: the strategy check failed: {report.summary()}; `cab-strategy check`"
                  " shows it all, --no-check overrides", markup=False, soft_wrap=True)
    return not report.ok


if __name__ == "__main__":
    raise SystemExit(main())
