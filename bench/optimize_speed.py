"""Optimiser throughput: `cab-optimize` trials of ema_cross fast/slow/stop on one year of
BTC/USDT 5m candles, as a whole process.

    python bench/optimize_speed.py                # 1,000 trials, 2 jobs
    python bench/optimize_speed.py --trials 100   # fewer, extrapolated to 1,000
    python bench/optimize_speed.py --jobs 1

One search over the last 365 days of the shared BTC/USDT 5m series (no walk-forward windows:
every trial is a backtest of the whole year), fast 5:50, slow 20:200, hard stop 0.5:10 %,
trailing off, Sharpe, at least 10 trades, TPE. Prints the trials per second of the search,
the wall time of the whole process (interpreter start, imports, loading the candles in every
worker included), what 1,000 trials would take at that rate, and the CPU time a trial costs
(what it would take on idle cores: the figure to read on a shared, loaded machine).
Target: 1,000 trials in at most 5 minutes on two cores. Figures, not assertions: a
benchmark, never a test.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "ohlcv" / "binance" / "BTC_USDT-5m.feather"
YEAR_DAYS = 365
_RATE = re.compile(r"(\d+) trials in ([\d.]+) s \(([\d.]+) trials/s\)")


def _loop_seconds() -> float:
    """A fixed pure-Python workload: the machine's speed at the moment."""
    began = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return time.perf_counter() - began


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the command and its workers)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _year_start(path: Path) -> str:
    sys.path.insert(0, str(REPO / "src"))
    from crypto_ai_bot.adapters.candle_files import load_series

    bars = load_series(path).bars
    return str(bars[-1].ts_ms + 300_000 - YEAR_DAYS * 86_400_000)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if not DATA.exists():
        print(f"no shared data at {DATA}", file=sys.stderr)
        return 2
    loop = _loop_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "crypto_ai_bot.cli.optimize", "--no-progress",
               "--data", str(DATA), "--symbol", "BTC/USDT", "--from", _year_start(DATA),
               "--strategy", "ema_cross", "--space", "fast=5:50", "--space", "slow=20:200",
               "--space", "stop_pct=0.5:10", "--param", "trailing_pct=0",
               "--objective", "sharpe", "--min-trades", "10",
               "--train-days", str(YEAR_DAYS), "--test-days", "0",
               "--trials", str(args.trials), "--jobs", str(args.jobs), "--seed", str(args.seed),
               "--out", str(Path(tmp) / "out"), "--no-plot"]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
        cpu0 = _children_cpu()
        began = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - began
        cpu = _children_cpu() - cpu0
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-2000:], sep="\n", file=sys.stderr)
        return 1
    m = _RATE.search(r.stdout)
    if m is None:
        print("no rate in the output:\n" + r.stdout[-2000:], file=sys.stderr)
        return 1
    n, search_s, rate = int(m.group(1)), float(m.group(2)), float(m.group(3))
    best = next((line for line in r.stdout.splitlines() if line.startswith("best parameters")),
                "")
    print(f"ema_cross fast/slow/stop, BTC/USDT 5m, last {YEAR_DAYS} days, {args.jobs} job(s),"
          f" {os.cpu_count()} CPU(s); pure-Python loop {loop:.3f} s (the machine's speed now)")
    print(f"{n} trials: search {search_s:.1f} s ({rate:.2f} trials/s), whole process"
          f" {wall:.1f} s")
    print(f"1,000 trials at this rate: {1000 / rate:.0f} s"
          f" ({1000 / rate / 60:.1f} min; target <= 5 min)")
    # CPU time counts little of what other processes take from a shared machine: what one
    # trial costs, whatever the load (the whole process's start-up included)
    per_trial = cpu / n
    print(f"CPU {cpu:.1f} s in all, {per_trial:.3f} s a trial: on {args.jobs} idle core(s)"
          f" 1,000 trials would take about {1000 * per_trial / args.jobs:.0f} s")
    print(best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
