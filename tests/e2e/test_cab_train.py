"""cab-train as a user runs it: `python -m crypto_ai_bot.cli.train …` in a subprocess."""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from crypto_ai_bot.application.strategies import build_strategy
from crypto_ai_bot.bootstrap import strategy_context

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data" / "ohlcv"
STEP = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
QUICK = ("--horizon", "6", "--train-days", "4", "--test-days", "2", "--rounds", "30")


def run(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
           "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", f"crypto_ai_bot.cli.{module}", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def write_synthetic(path: Path, n: int, seed: int = 4) -> None:
    """A seeded random-walk series as a CSV file."""
    rng = random.Random(seed)
    lines, close = ["timestamp_ms,open,high,low,close,volume"], 30_000.0
    for i in range(n):
        o = close
        close = o * math.exp(rng.gauss(0, 0.002))
        hi, lo = max(o, close) * 1.0005, min(o, close) * 0.9995
        lines.append(f"{T0 + i * STEP},{o:.2f},{hi:.2f},{lo:.2f},{close:.2f},"
                     f"{rng.lognormvariate(2, 0.5):.4f}")
    path.write_text("\n".join(lines) + "\n")


def test_train_on_a_generated_file_then_load_the_model(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "s.csv", 3000)
    r = run(tmp_path, "train", "--symbol", "BTC/USDT", "--timeframe", "5m", "--data", "s.csv",
            "--out", "model", *QUICK)
    assert r.returncode == 0, r.stderr
    assert "walk-forward, out of sample" in r.stdout
    assert "│ all " in r.stdout and "buy&hold %" in r.stdout
    assert "saved lightgbm model to model" in r.stdout
    assert "ai %" in r.stdout and "ema_cross %" in r.stdout  # per-fold backtests
    assert "hard stop 2 %, fee 0.1 % per fill" in r.stdout
    # the "all" row adds the folds' returns in every column: buy & hold as the strategies
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in r.stdout.splitlines()
            if line.startswith("│")]
    folds = [row for row in rows if row[0].isdigit()]
    [total] = [row for row in rows if row[0] == "all"]
    for col in (-3, -2, -1):  # buy&hold %, ai %, ema_cross %
        added = sum(float(row[col]) for row in folds)
        assert abs(float(total[col]) - added) <= 0.005 * (len(folds) + 1), (col, total, folds)
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert (tmp_path / "model" / meta["model"]["file"]).is_file()
    assert len(meta["walk_forward"]["folds"]) >= 3
    assert meta["symbol"] == "BTC/USDT" and meta["horizon"] == 6

    strategy = build_strategy("ai", {"model_path": str(tmp_path / "model")}, strategy_context())
    assert strategy.name == "ai"


def test_train_on_a_slice_of_real_btc_data(tmp_path: Path) -> None:
    src = DATA / "BTC_USDT-5m.csv.gz"
    if not src.exists():
        pytest.skip(f"real data not present: {src.resolve()}")
    with gzip.open(src, "rt") as fh:
        head = [next(fh) for _ in range(6001)]  # header + about 21 days
    (tmp_path / "btc.csv").write_text("".join(head))
    r = run(tmp_path, "train", "--symbol", "BTC/USDT", "--timeframe", "5m", "--data",
            "btc.csv", "--out", "m", "--train-days", "10", "--test-days", "5", "--rounds", "40")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert len(meta["walk_forward"]["folds"]) == 2
    assert meta["data_span"]["first_ts"] == 1735603200000
    overall = meta["walk_forward"]["overall"]
    assert overall["auc"] is not None and 0.0 <= overall["accuracy"] <= 1.0


def test_train_from_the_database(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "ETH_USDT-5m.csv", 3000)
    assert run(tmp_path, "data", "import", "ETH_USDT-5m.csv", "--db", "bot.db").returncode == 0
    r = run(tmp_path, "train", "--symbol", "ETH/USDT", "--timeframe", "5m", "--from",
            "2025-01-01", "--db", "bot.db", "--out", "m", "--no-backtest", *QUICK)
    assert r.returncode == 0, r.stderr
    assert "bot.db (ETH/USDT 5m): 3000 candles" in r.stdout
    assert "backtests not run" in r.stdout and "ema_cross %" not in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "missing.csv"], "missing.csv: no such file"),
        (["--data", "short.csv"], "a fold needs train + test days"),
        (["--data", "dupes.csv"], "1 duplicate(s); clean it first"),
        (["--data", "short.csv", "--enter", "0.4", "--exit", "0.5"], "exit <= enter"),
        (["--data", "short.csv", "--to", "2025-02-01"], "--to goes with --from"),
        (["--from", "2025-01-01", "--db", "none.db"], "no database at none.db"),
        (["--from", "last tuesday", "--db", "none.db"], "--from: not a date"),
        (["--data", "short.csv", "--timeframe", "7m"], "unknown timeframe '7m'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    write_synthetic(tmp_path / "short.csv", 400)
    text = (tmp_path / "short.csv").read_text().splitlines()
    (tmp_path / "dupes.csv").write_text("\n".join([*text[:5], text[4], *text[5:]]) + "\n")
    r = run(tmp_path, "train", "--symbol", "BTC/USDT", "--timeframe", "5m", "--out", "m",
            *QUICK, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.startswith("cab-train: ")]
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "m").exists()
