"""Backtest speed and memory: the reference run as a whole `cab-backtest` process.

    python bench/backtest_speed.py             # BTC/USDT 5m, EMA 12/26, 2 % stop, 0.1 % fee
    python bench/backtest_speed.py --all       # all ten 5m pairs in one run
    python bench/backtest_speed.py --runs 9    # more runs (default 5; --all: 3)

Prints candles per second, wall time of the whole process (interpreter start, imports, loading
and exit included) and its peak resident memory. Targets: one pair <= 1.5 s and <= 250 MB;
ten pairs <= 10 s. Figures, not assertions: this is a benchmark, never a test.

Each run is a fresh process; the source is byte-compiled first, as an installed package is.
The fastest and the median run are shown, with a pure-Python loop timed beside them: shared
machines change speed from minute to minute, and the loop says how fast this one was.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "ohlcv" / "binance"


def _loop_seconds() -> float:
    """A fixed pure-Python workload: the machine's speed at the moment."""
    began = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return time.perf_counter() - began


def _run(files: list[Path], out: str) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    cmd = [sys.executable, "-m", "crypto_ai_bot.cli.backtest", "--no-progress",
           "--strategy", "ema_cross", "--param", "fast=12", "--param", "slow=26",
           "--stop-pct", "2", "--trailing-pct", "0", "--fee-pct", "0.1", "--stake", "1000",
           "--no-risk", "--out", out, "--force", "--no-plot",
           # 10,000 quote per pair: each pair can always pay its 1,000 stake
           "--start-quote", str(10_000 * len(files))]
    for f in files:
        cmd += ["--data", str(f)]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    began = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return wall, peak_mb, r


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--all", action="store_true", help="all 5m pairs in one run")
    p.add_argument("--runs", type=int, help="fresh processes to time (default 5, --all 3)")
    p.add_argument("--data-dir", default=str(DATA))
    args = p.parse_args()
    data = Path(args.data_dir)
    files = sorted(data.glob("*-5m.feather")) if args.all else [data / "BTC_USDT-5m.feather"]
    files = [f for f in files if f.exists()]
    if not files:
        print(f"no 5m feather files in {data}", file=sys.stderr)
        return 2
    runs = args.runs or (3 if args.all else 5)
    compileall.compile_dir(REPO / "src", quiet=1)
    walls: list[float] = []
    loops: list[float] = []
    peak = 0.0
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            loops.append(_loop_seconds())
            wall, peak, r = _run(files, out)
            if r.returncode != 0:
                print(r.stderr, file=sys.stderr)
                return r.returncode
            walls.append(wall)
            print(f"  run {len(walls)}: {wall:.2f} s", file=sys.stderr)
        summary = json.loads((Path(out) / "summary.json").read_text())["summary"]
    candles = sum(s["candles"] for s in summary["per_symbol"].values())
    best, median = min(walls), statistics.median(walls)
    print(f"pairs:        {len(files)}")
    print(f"candles:      {candles:,}")
    print(f"trades:       {summary['trades']:,}")
    print(f"wall:         {best:.2f} s fastest, {median:.2f} s median of {runs}"
          " (whole process)")
    print(f"candles/s:    {candles / best:,.0f} fastest, {candles / median:,.0f} median")
    print(f"peak memory:  {peak:,.0f} MB")
    print(f"machine:      {min(loops):.3f} s fastest, {statistics.median(loops):.3f} s median"
          " for the reference Python loop (smaller is faster)")
    print(f"total return: {summary['total_return_pct']:.2f} %"
          f"  max drawdown: {summary['max_drawdown_pct']:.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
