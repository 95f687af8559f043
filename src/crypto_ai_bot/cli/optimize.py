"""cab-optimize: search a strategy's parameters and stops, judged walk-forward.

    cab-optimize --symbol BTC/USDT --timeframe 5m --data FILE --strategy ema_cross
                 [--space fast=5:50 --space slow=20:200] [--param trailing_pct=0]
                 [--objective sharpe|sortino|profit|calmar|module:function[,...]]
                 [--min-trades 10] [--trials 100] [--jobs 2] [--train-days 90]
                 [--test-days 30] [--anchored] [--holdout-days 30] [--seed 1]
                 [--storage FILE|URL --study NAME] [--out DIR]

Each walk-forward window runs its own search (--trials trials) on its train span; its best
parameters are then backtested on the test span that follows, beside the default parameters
and buy-and-hold. A final search on the span before the hold-out gives `best_params`; the
hold-out (--holdout-days, the end of the data) is backtested last, and no search sees it.
--test-days 0: no windows, the final search alone. Trials run in the reference conditions
(--fee-pct 0.1, --stake 1000, --start-quote 10000, no risk limits), as cab-backtest --no-risk.

--jobs N runs N worker processes; --storage (a journal file, sqlite:///FILE, or a PostgreSQL /
MySQL URL) and --study NAME let processes on several machines add trials to the same studies
(each adds its own --trials). Bad input prints one line on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crypto_ai_bot.adapters.candle_files import load_series
from crypto_ai_bot.application.strategies import entry
from crypto_ai_bot.bootstrap import backtest_result, reference_config
from crypto_ai_bot.cli._common import (
    BadInput,
    check_symbol,
    decimal_arg,
    guarded,
    param_values,
    symbol_from_file,
)
from crypto_ai_bot.domain.candles import check_series
from crypto_ai_bot.drivers.backtest.runner import infer_timeframe_ms
from crypto_ai_bot.drivers.optimize.objectives import resolve
from crypto_ai_bot.drivers.optimize.search import (
    SAMPLERS,
    OptunaMissing,
    Searcher,
    optuna_module,
    redacted,
)
from crypto_ai_bot.drivers.optimize.space import EXITS, build_space, parse_range
from crypto_ai_bot.drivers.optimize.trials import Setup, Trials
from crypto_ai_bot.drivers.optimize.walkforward import Outcome, walk_forward
from crypto_ai_bot.drivers.optimize.windows import Span, plan
from crypto_ai_bot.reports.optimize import (
    optimize_document,
    write_history_png,
    write_oos_png,
    write_optimize_json,
)
from crypto_ai_bot.utils.logging import configure_logging
from crypto_ai_bot.utils.time import iso_utc, parse_date_ms, timeframe_ms

PROG = "cab-optimize"

# a number flag at or above this is refused: no stake, fee, balance or stop is that large
_TOO_BIG = Decimal(10**12)

def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    configure_logging("WARNING", stream=sys.stderr, once=True)
    return guarded(PROG, lambda: _run(args))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Optimise a strategy's parameters and stops with Optuna,"
        " judged walk-forward out of sample, with a hold-out no search sees.")
    p.add_argument("--symbol", action="append", default=[], help="e.g. BTC/USDT (repeatable)")
    p.add_argument("--timeframe", help="5m, 1h, ... (default: the file's own)")
    p.add_argument("--data", action="append", default=[], required=True,
                   help="candle file (.csv, .csv.gz, .feather); repeatable, paired with --symbol")
    p.add_argument("--from", dest="start", help="YYYY-MM-DD[THH:MM] or epoch ms (UTC), inclusive")
    p.add_argument("--to", dest="end", help="exclusive end, same forms as --from")
    p.add_argument("--strategy", default="ema_cross",
                   help="a registered name, path/to/file.py:Class or package.module:Class")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="hold a parameter at a value, not searched (stop_pct and trailing_pct"
                   " too); repeatable")
    p.add_argument("--space", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="search KEY in [LOW, HIGH] (default: its declared range; stop_pct"
                   " 0.5:10, trailing_pct 0:10); repeatable")
    p.add_argument("--objective", default="sharpe",
                   help="sharpe, sortino, profit, calmar or module:function / file.py:function"
                   " (given the BacktestResult, returns a float; higher is better); several"
                   " separated by commas: multi-objective (the first picks the best)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe",
                   help="Optuna's sampler: tpe (default), random, nsga2 (multi-objective)")
    p.add_argument("--min-trades", type=int, default=10,
                   help="a trial with fewer trades fails (default 10)")
    p.add_argument("--trials", type=int, default=100, help="trials per search (default 100)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--train-days", type=float, default=90, help="train span (default 90)")
    p.add_argument("--test-days", type=float, default=30,
                   help="test span and step (default 30; 0: no walk-forward windows)")
    p.add_argument("--anchored", action="store_true",
                   help="every train span starts at the first candle (default: rolling)")
    p.add_argument("--holdout-days", type=float, default=0,
                   help="final span no search sees, backtested last (default 0: none)")
    p.add_argument("--stop-pct", default="2", help="the default parameters' hard stop, %% (2)")
    p.add_argument("--trailing-pct", default="0",
                   help="the default parameters' trailing stop, %% (0 = off)")
    p.add_argument("--fee-pct", default="0.1", help="fee on every fill, %% (0.1)")
    p.add_argument("--stake", default="1000", help="quote spent per entry (1000)")
    p.add_argument("--start-quote", default="10000", help="initial quote balance (10000)")
    p.add_argument("--seed", type=int, help="the sampler's seed (repeatable searches)")
    p.add_argument("--storage", help="Optuna storage the studies live in: a journal file,"
                   " sqlite:///FILE, postgresql://... or mysql://... (shared by processes and"
                   " machines; default: DIR/optuna.journal with --out, else memory)")
    p.add_argument("--study", help="study name prefix (default from strategy, symbols and"
                   " timeframe); processes giving the same --storage and --study join")
    p.add_argument("--top", type=int, default=10, help="rows of the top-trials table (10)")
    p.add_argument("--out", help="new directory for optimize.json and the pictures")
    p.add_argument("--no-plot", action="store_true", help="skip the PNGs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _symbols(args: argparse.Namespace) -> list[str]:
    symbols: list[str] = list(args.symbol)
    if symbols and len(symbols) != len(args.data):
        raise BadInput(f"{len(symbols)} --symbol for {len(args.data)} --data: pair them")
    if not symbols:
        symbols = [symbol_from_file(d) for d in args.data]
    for s in symbols:
        check_symbol(s)
    if len(set(symbols)) != len(symbols):
        raise BadInput("a symbol appears twice")
    return symbols


def _check(args: argparse.Namespace) -> None:
    for flag, value, low in (("--trials", args.trials, 0), ("--jobs", args.jobs, 1),
                             ("--min-trades", args.min_trades, 0), ("--top", args.top, 0)):
        if value < low:
            raise BadInput(f"{flag} must be {low} or more")
    if args.out and Path(args.out).exists():
        raise BadInput(f"--out {args.out}: it exists; name a new directory")


def _run(args: argparse.Namespace) -> int:
    _check(args)
    err = Console(stderr=True)
    out = Console(width=None if sys.stdout.isatty() else 150)  # tables whole in a file or a pipe
    try:
        optuna_module()
    except OptunaMissing as exc:
        raise BadInput(str(exc)) from None
    symbols = _symbols(args)
    try:
        start = parse_date_ms(args.start) if args.start else None
        end = parse_date_ms(args.end) if args.end else None
        step = timeframe_ms(args.timeframe) if args.timeframe else None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    try:
        e = entry(args.strategy)
        objectives = tuple(o.strip() for o in args.objective.split(",") if o.strip())
        for o in objectives:
            resolve(o)
        fixed = param_values(args.param)
        ranges = dict(parse_range(r) for r in args.space)
        space = build_space(e.params, fixed, ranges)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if not objectives:
        raise BadInput("--objective: name at least one")
    files = dict(zip(symbols, args.data, strict=True))
    span = None if start is None and end is None else Span(
        -(2**62) if start is None else start, 2**62 if end is None else end)
    stop = decimal_arg("--stop-pct", args.stop_pct, below=_TOO_BIG)
    trailing = decimal_arg("--trailing-pct", args.trailing_pct, below=_TOO_BIG)
    config = reference_config(
        step or 300_000, strategy=args.strategy, params={k: v for k, v in fixed.items()
                                                         if k not in EXITS},
        stop_pct=stop, trailing_pct=trailing,
        fee_pct=decimal_arg("--fee-pct", args.fee_pct, below=_TOO_BIG),
        stake=decimal_arg("--stake", args.stake, positive=True, below=_TOO_BIG),
        start_quote=decimal_arg("--start-quote", args.start_quote, positive=True, below=_TOO_BIG))
    setup = Setup(files, load_series, backtest_result, config, space, objectives,
                  args.min_trades, span, fixed)
    trials = Trials(setup)  # this process's candles: the test spans and the hold-out
    first, last_end, step = _data_span(trials, step)
    setup = _with_step(setup, step)
    trials.setup = setup
    try:
        e_defaults = {k: p.default for k, p in e.params.items()}
        defaults = {**e_defaults, **fixed, "stop_pct": float(stop), "trailing_pct": float(trailing)}
        trials.run({}, Span(first, min(last_end, first + 200 * step)))  # the defaults run at all
        p = plan(first, last_end, train_days=args.train_days, test_days=args.test_days,
                 holdout_days=args.holdout_days, anchored=args.anchored)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    study = args.study or f"cab-{e.name}-{'-'.join(s.replace('/', '') for s in symbols)}"
    settings = _settings(args, symbols, step, space, fixed, objectives, study)
    fingerprint = hashlib.sha256(json.dumps(
        {k: settings[k] for k in ("strategy", "symbols", "timeframe_ms", "objectives", "space",
                                  "fixed", "min_trades", "fee_pct", "stake", "start_quote",
                                  "from_ms", "to_ms", "train_days", "test_days", "anchored",
                                  "holdout_days")}, sort_keys=True, default=str
    ).encode()).hexdigest()[:16]
    outdir = Path(args.out) if args.out else None
    storage = args.storage
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if outdir is not None:
        try:
            outdir.mkdir(parents=True)
        except OSError as exc:
            raise BadInput(f"--out {outdir}: {exc.strerror or exc}") from None
    if storage is None and outdir is not None:
        storage = str(outdir / "optuna.journal")
    elif storage is None and args.jobs > 1:
        scratch = tempfile.TemporaryDirectory(prefix="cab-optimize-")
        storage = str(Path(scratch.name) / "optuna.journal")
    searcher = Searcher(setup, trials, storage, jobs=args.jobs, seed=args.seed,
                        sampler=args.sampler, fingerprint=fingerprint)
    out.print(f"optimising {e.name} on {', '.join(symbols)} {iso_utc(first)} → "
              f"{iso_utc(last_end)}: {len(p.windows)} window(s) + the final search,"
              f" {args.trials} trials each, {args.jobs} job(s); space "
              f"{' '.join(d.describe() for d in space)}; objective {','.join(objectives)};"
              f" {args.sampler}; min {args.min_trades} trades;"
              f" storage {_redacted(storage) or 'memory'}",
              highlight=False, soft_wrap=True)
    began = time.perf_counter()
    try:
        with _removed_on_bad_input(outdir), Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} best {task.fields[best]}"),
                      TimeElapsedColumn(), console=err, transient=True,
                      disable=args.no_progress) as bar, searcher.started():
            def progress(label: str) -> Any:
                task = bar.add_task(label, total=args.trials, best="-")

                def tick(done: int, _n: int, best: float | None) -> None:
                    bar.update(task, completed=done,
                               best="-" if best is None else f"{best:.4g}")
                return tick

            outcome = walk_forward(searcher, p, trials=args.trials, study=study,
                                   defaults={}, top=args.top, progress=progress)
    finally:
        if scratch is not None:
            scratch.cleanup()
    elapsed = time.perf_counter() - began
    outcome.default_values = defaults
    ran = args.trials * (len(p.windows) + 1)
    _print(out, outcome, objectives, settings)
    out.print(f"{ran} trials in {elapsed:.1f} s ({ran / elapsed if elapsed else 0:.2f} trials/s)"
              f" with {args.jobs} job(s)", highlight=False)
    if outdir is not None:
        _write(outdir, outcome, settings, objectives, args, out, err)
    if outcome.final.best_params is None:
        reasons = sorted(outcome.final.failures)
        print(f"{PROG}: every trial of the final search failed ({'; '.join(reasons[:3])})",
              file=sys.stderr)
        return 1
    return 0


@contextmanager
def _removed_on_bad_input(outdir: Path | None) -> Iterator[None]:
    """A run refused before it searched (a study of other settings, a storage that cannot be
    opened) leaves no --out behind to be refused next time."""
    try:
        yield
    except ValueError:
        if outdir is not None and not any(
                f.stat().st_size for f in outdir.iterdir() if f.name != "optuna.journal"):
            journal = outdir / "optuna.journal"
            if not journal.exists() or journal.stat().st_size == 0:
                shutil.rmtree(outdir, ignore_errors=True)
        raise


def _data_span(trials: Trials, step: int | None) -> tuple[int, int, int]:
    """First candle, end of the last, and the timeframe; BadInput for unusable series."""
    for s, cs in trials.whole.items():
        if not len(cs):
            raise BadInput(f"{s}: no candles in the requested span")
    if step is None:
        series = next(iter(trials.whole.values()))
        if len(series) < 2:
            raise BadInput("cannot tell the timeframe from one candle: give --timeframe")
        step = infer_timeframe_ms(series.bars)
    for s, cs in trials.whole.items():
        rep = check_series(cs, step)
        if rep.duplicates or rep.out_of_order or rep.bad_rows:
            raise BadInput(f"{s}: {rep.describe()}; fix the series first (cab-data import --fix)")
    first = min(cs.bars[0].ts_ms for cs in trials.whole.values())
    last_end = max(cs.bars[-1].ts_ms for cs in trials.whole.values()) + step
    return first, last_end, step


def _with_step(setup: Setup, step: int) -> Setup:
    return replace(setup, config=replace(setup.config, timeframe_ms=step))


def _redacted(url: str | None) -> str | None:
    return None if url is None else redacted(url)


def _settings(args: argparse.Namespace, symbols: list[str], step: int, space: Any,
              fixed: dict[str, Any], objectives: tuple[str, ...], study: str) -> dict[str, Any]:
    return {
        "strategy": args.strategy, "symbols": symbols, "timeframe_ms": step,
        "data": list(args.data), "from_ms": parse_date_ms(args.start) if args.start else None,
        "to_ms": parse_date_ms(args.end) if args.end else None,
        "objectives": list(objectives), "min_trades": args.min_trades,
        "space": {d.name: [d.low, d.high] for d in space}, "fixed": fixed,
        "trials": args.trials, "jobs": args.jobs, "seed": args.seed, "sampler": args.sampler,
        "train_days": args.train_days, "test_days": args.test_days, "anchored": args.anchored,
        "holdout_days": args.holdout_days, "default_stop_pct": args.stop_pct,
        "default_trailing_pct": args.trailing_pct, "fee_pct": args.fee_pct,
        "stake": args.stake, "start_quote": args.start_quote, "study": study,
        "storage": _redacted(args.storage),
    }


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.2f}{unit}"
    return f"{x}{unit}"


def _params_text(values: dict[str, Any] | None) -> str:
    if values is None:
        return "none (every trial failed)"
    return " ".join(f"{k}={round(v, 4) if isinstance(v, float) else v}"
                    for k, v in values.items())


def _print(out: Console, o: Outcome, objectives: tuple[str, ...], settings: dict[str, Any]) -> None:
    start = float(settings["start_quote"])
    if o.windows:
        t = Table(title="walk-forward: each window's best on its test span (out of sample)")
        for col in ("window", "train", "test", "best params", f"train {objectives[0]}",
                    "test return %", "test trades", "default %", "B&H %"):
            t.add_column(col, justify="left" if col in ("train", "test", "best params")
                         else "right", no_wrap=col in ("train", "test"))
        for w, pw in zip(o.windows, o.plan.windows, strict=True):
            t.add_row(str(w.index + 1), f"{iso_utc(pw.train.start_ms)[:10]}→"
                      f"{iso_utc(pw.train.end_ms)[:10]}", f"{iso_utc(pw.test.start_ms)[:10]}→"
                      f"{iso_utc(pw.test.end_ms)[:10]}", _params_text(w.search.best_params),
                      _fmt(w.search.best_values[0] if w.search.best_values else None),
                      _fmt(w.test and w.test["total_return_pct"]),
                      _fmt(w.test and w.test["trades"]),
                      _fmt(w.default and w.default["total_return_pct"]),
                      _fmt(w.default and w.default["buy_hold_return_pct"]))
        out.print(t)
        out.print(f"out of sample, stitched: best of each window "
                  f"{_fmt(o.oos.return_pct(start), ' %')}, default parameters "
                  f"{_fmt(o.oos_default.return_pct(start), ' %')}, buy and hold "
                  f"{_fmt(o.oos_buy_hold.return_pct(start), ' %')}", highlight=False)
    top = Table(title=f"top trials of the final search ({o.final.trials} trials,"
                f" {o.final.failed} failed)")
    for col in ("#", *objectives, "trades", "return %", "max DD %", "params"):
        top.add_column(col, justify="left" if col == "params" else "right")
    for row in o.final.top:
        r = row["result"] or {}
        top.add_row(str(row["number"]), *(_fmt(v) for v in row["values"]), _fmt(r.get("trades")),
                    _fmt(r.get("total_return_pct")), _fmt(r.get("max_drawdown_pct")),
                    _params_text(row["params"]))
    out.print(top)
    if o.importance:
        imp = Table(title="parameter importance (Optuna, final search)")
        imp.add_column("parameter")
        imp.add_column("importance", justify="right")
        for k, v in o.importance.items():
            imp.add_row(k, f"{v:.3f}")
        out.print(imp)
    out.print(f"best parameters: {_params_text(o.final.best_params)} (defaults:"
              f" {_params_text(o.default_values)})", highlight=False)
    if o.holdout is not None:
        best, default = o.holdout["best"], o.holdout["default"]
        out.print(
            f"hold-out {iso_utc(o.holdout['from_ms'])} → {iso_utc(o.holdout['to_ms'])} (never "
            f"searched): best {_fmt(best and best['total_return_pct'], ' %')} "
            f"({_fmt(best and best['trades'])} trades), default "
            f"{_fmt(default and default['total_return_pct'], ' %')}, buy and hold "
            f"{_fmt(o.holdout['buy_hold_return_pct'], ' %')}", highlight=False)


def _write(d: Path, o: Outcome, settings: dict[str, Any], objectives: tuple[str, ...],
           args: argparse.Namespace, out: Console, err: Console) -> None:
    try:
        write_optimize_json(d / "optimize.json", optimize_document(o, settings))
        wrote = ["optimize.json"]
        if not args.no_plot:
            ok = write_history_png(d / "history.png", o.final, objectives[0])
            if ok:
                write_oos_png(d / "oos_equity.png", o, float(settings["start_quote"]),
                              f"{', '.join(settings['symbols'])} {settings['strategy']}:"
                              " out of sample")
                wrote += ["history.png", "oos_equity.png"]
            else:
                err.print("pictures skipped: matplotlib is not installed"
                          " (pip install 'crypto-ai-bot[plot]')", markup=False, soft_wrap=True)
    except OSError as exc:
        raise BadInput(f"cannot write to {d}: {exc.strerror or exc}") from None
    out.print(f"wrote {', '.join(wrote)} to {d}", highlight=False)


if __name__ == "__main__":
    raise SystemExit(main())
