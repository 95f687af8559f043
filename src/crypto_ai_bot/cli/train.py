"""cab-train: train the AI strategy's model with walk-forward evaluation and save it.

    cab-train --symbol BTC/USDT --timeframe 5m (--data FILE | --from DATE [--to DATE] [--db PATH])
              --out MODEL_DIR [--horizon 12] [--fee-pct 0.1] [--train-days 90 --test-days 30]
              [--enter 0.6 --exit 0.45] [--rounds 300] [--seed 42] [--no-backtest]

Prints each fold's out-of-sample metrics beside buy-and-hold over the same span and, when the
backtest runner is there, backtests of the fold's model and of the ema_cross baseline over that
span; then the overall figures. Bad input exits 2, as does a series too short for one fold.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from crypto_ai_bot.adapters.candle_files import load_candles
from crypto_ai_bot.adapters.ml.training import (
    Metrics,
    TrainConfig,
    TrainResult,
    oos_spans,
    save_model_dir,
    walk_forward,
)
from crypto_ai_bot.cli._common import BadInput, guarded
from crypto_ai_bot.domain.candles import check_series
from crypto_ai_bot.domain.model import Candle
from crypto_ai_bot.ports.clock import SystemClock
from crypto_ai_bot.utils.time import iso_utc, parse_date_ms, timeframe_ms

PROG = "cab-train"
BT_STAKE = 1000  # the backtest runner's defaults: 1000 quote a trade out of 10000
BT_STOP_PCT = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return guarded(PROG, lambda: _run(args), interrupted="interrupted; nothing saved")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Train the AI strategy's model.")
    p.add_argument("--symbol", required=True, help="e.g. BTC/USDT")
    p.add_argument("--timeframe", required=True, help="e.g. 5m")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="candle file (.csv, .csv.gz, .feather)")
    src.add_argument("--from", dest="start", help="first candle time, from the database")
    p.add_argument("--to", dest="end", help="end time (exclusive), with --from")
    p.add_argument("--db", help="SQLite database (default: DB_PATH from the settings)")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--horizon", type=int, default=12, help="label horizon in candles")
    p.add_argument("--fee-pct", type=float, default=0.1, help="fee per fill, percent")
    p.add_argument("--train-days", type=float, default=90.0)
    p.add_argument("--test-days", type=float, default=30.0)
    p.add_argument("--enter", type=float, default=0.6, help="buy when P(up) >= this")
    p.add_argument("--exit", type=float, default=0.45, help="sell when P(up) < this")
    p.add_argument("--rounds", type=int, default=300, help="boosting rounds")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-backtest", action="store_true",
                   help="skip the per-fold ai and ema_cross backtests")
    return p


def _run(args: argparse.Namespace) -> int:
    symbol = _symbol(args.symbol)
    try:
        step = timeframe_ms(args.timeframe)
        cfg = TrainConfig(
            symbol=symbol, timeframe=args.timeframe, horizon=args.horizon, fee_pct=args.fee_pct,
            train_days=args.train_days, test_days=args.test_days, enter=args.enter,
            exit=args.exit, rounds=args.rounds, seed=args.seed,
        )
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    candles = _load(args, symbol, step)
    try:
        result = _train(candles, cfg)
    except ImportError as exc:
        raise BadInput(f"training needs the ai extra ({exc.name} missing):"
                       " pip install 'crypto-ai-bot[ai]'") from None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    backtests = None if args.no_backtest else _backtest_folds(candles, result, cfg)
    out = save_model_dir(args.out, result)
    _report(result, out, backtests)
    return 0


def _symbol(text: str) -> str:
    parts = text.strip().upper().split("/")
    if len(parts) != 2 or not all(p.isalnum() for p in parts):
        raise BadInput(f"--symbol {text!r}: use BASE/QUOTE, e.g. BTC/USDT")
    return "/".join(parts)


def _date(flag: str, text: str) -> int:
    try:
        return parse_date_ms(text)
    except ValueError as exc:
        raise BadInput(f"{flag}: {exc}") from None


def _load(args: argparse.Namespace, symbol: str, step: int) -> list[Candle]:
    """Candles from --data or the database; refuses series with duplicates or disorder."""
    if args.data:
        if args.end:
            raise BadInput("--to goes with --from (the database), not with --data")
        source = args.data
        candles = load_candles(args.data)
    else:
        from crypto_ai_bot.bootstrap import open_storage

        start = _date("--from", args.start)
        end = _date("--to", args.end) if args.end else None
        db = args.db
        if db is None:
            from crypto_ai_bot.config import load_settings

            db = load_settings().db_path
        if not Path(db).exists():
            raise BadInput(f"no database at {db}")
        source = f"{db} ({symbol} {args.timeframe})"
        with open_storage(db) as repos:
            candles = repos.market_data.candles(symbol, args.timeframe, start, end)
    if not candles:
        raise BadInput(f"{source}: no candles")
    rep = check_series(candles, step)
    if rep.duplicates or rep.out_of_order or rep.bad_rows:
        raise BadInput(f"{source}: {rep.describe()}; clean it first (cab-data import --fix)")
    print(f"{source}: {rep.describe()}; {iso_utc(candles[0].ts_ms)} .. "
          f"{iso_utc(candles[-1].ts_ms)}")
    return candles


def _train(candles: list[Candle], cfg: TrainConfig) -> TrainResult:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("training", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        return walk_forward(candles, cfg, created_ms=SystemClock().now_ms(), progress=progress)


def _report(result: TrainResult, out: Path, backtests: list[tuple[float, float]] | None) -> None:
    from rich.console import Console
    from rich.table import Table

    meta = result.meta
    columns = ["fold", "test span (UTC)", "rows", "pos %", "accuracy", "AUC",
               f"signals ≥{meta['thresholds']['enter']:g}", "precision", "buy&hold %"]
    if backtests is not None:
        columns += ["ai %", "ema_cross %"]
    table = Table(*columns, title="walk-forward, out of sample")
    # "all" adds the folds' returns in every column: the strategies' PnL is a % of a fixed
    # stake per trade, which adds up, so buy & hold holds a fixed stake over each span too
    total_pct = [0.0, 0.0, 0.0]
    for k, f in enumerate(result.folds):
        total_pct[0] += f.buy_hold_pct
        cells = [str(f.index), f"{iso_utc(f.test[0])[:10]} .. {iso_utc(f.test[1])[:10]}",
                 *_metric_cells(f.metrics), f"{f.buy_hold_pct:+.2f}"]
        if backtests is not None:
            ai, ema = backtests[k]
            total_pct[1] += ai
            total_pct[2] += ema
            cells += [f"{ai:+.2f}", f"{ema:+.2f}"]
        table.add_row(*cells)
    table.add_section()
    total = ["all", f"{len(result.folds)} folds", *_metric_cells(result.overall),
             f"{total_pct[0]:+.2f}"]
    if backtests is not None:
        total += [f"{total_pct[1]:+.2f}", f"{total_pct[2]:+.2f}"]
    table.add_row(*total)
    console = Console(width=160)
    console.print(table)
    if backtests is None:
        console.print(f"ai and ema_cross backtests not run; the {len(oos_spans(meta))} "
                      "out-of-sample spans are in meta.json (training.oos_spans)")
    else:
        console.print(f"ai / ema_cross: backtest PnL as % of a {BT_STAKE} stake per trade, "
                      f"hard stop {BT_STOP_PCT} %, fee {meta['fee_pct']:g} % per fill; each fold "
                      "uses the model trained before its span; 'all' adds the folds' returns")
    span = meta["training_span"]
    console.print(f"saved {meta['model']['backend']} model to {out} (trained on "
                  f"{iso_utc(span['first_ts'])} .. {iso_utc(span['last_ts'])},"
                  f" {span['rows']} rows)")


def _metric_cells(m: Metrics) -> list[str]:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v * 100:.1f}"

    return [str(m.rows), pct(m.positive_rate), pct(m.accuracy),
            "-" if m.auc is None else f"{m.auc:.3f}", str(m.signals), pct(m.precision_at_enter)]


def _backtest_folds(
    candles: list[Candle], result: TrainResult, cfg: TrainConfig
) -> list[tuple[float, float]] | None:
    """(ai %, ema_cross %) per fold from the backtest runner, over each fold's test span.

    The AI runs on the fold's own model (trained before the span), the baseline on its defaults.
    Each gets just enough earlier candles to warm up, so neither can act before the span starts.
    None when crypto_ai_bot.drivers.backtest.runner is not there.
    """
    if importlib.util.find_spec("crypto_ai_bot.drivers.backtest.runner") is None:
        return None
    import copy
    import tempfile

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    from crypto_ai_bot.adapters.ml.training import save_predictor
    from crypto_ai_bot.application.strategies.ema_cross import EmaCross
    from crypto_ai_bot.bootstrap import run_backtest
    from crypto_ai_bot.domain.features import WARMUP_CANDLES
    from crypto_ai_bot.utils.logging import configure_logging

    configure_logging("WARNING", "console", stream=sys.stderr)  # the pipeline logs every order
    index = {c.ts_ms: i for i, c in enumerate(candles)}
    money: dict[str, Any] = {"symbol": cfg.symbol, "fee_pct": str(cfg.fee_pct),
                             "stake": BT_STAKE, "stop_pct": BT_STOP_PCT}
    out: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="cab-train-") as tmp, Progress(
        "backtests", BarColumn(), MofNCompleteColumn(), console=Console(stderr=True)
    ) as bar:
        task = bar.add_task("backtests", total=len(result.folds))
        for f, model in zip(result.folds, result.fold_predictors, strict=True):
            first, last = index[f.test[0]], index[f.test[1]]
            fold_dir = save_predictor(Path(tmp) / f"fold{f.index}", model,
                                      copy.deepcopy(result.meta))
            ai = run_backtest(candles[max(0, first - (WARMUP_CANDLES - 1)): last + 1],
                              strategy="ai", params={"model_path": str(fold_dir)}, **money)
            ema = run_backtest(candles[max(0, first - (EmaCross().warmup_candles - 1)): last + 1],
                               strategy="ema_cross", **money)
            out.append((float(ai.summary.pnl_quote) / BT_STAKE * 100.0,
                        float(ema.summary.pnl_quote) / BT_STAKE * 100.0))
            bar.advance(task)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
