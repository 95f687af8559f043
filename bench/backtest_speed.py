"""Backtest speed and memory: the reference run as a whole `cab-backtest` process.

    python bench/backtest_speed.py          # BTC/USDT 5m, EMA 12/26, 2 % stop, 0.1 % fee
    python bench/backtest_speed.py --all    # all ten 5m pairs in one run

Prints candles per second, wall time of the whole process (imports and loading included) and
its peak resident memory. Targets: one pair <= 1.5 s and <= 250 MB; ten pairs <= 10 s.
Figures, not assertions: this is a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "ohlcv" / "binance"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--all", action="store_true", help="all 5m pairs in one run")
    p.add_argument("--data-dir", default=str(DATA))
    args = p.parse_args()
    data = Path(args.data_dir)
    files = sorted(data.glob("*-5m.feather")) if args.all else [data / "BTC_USDT-5m.feather"]
    files = [f for f in files if f.exists()]
    if not files:
        print(f"no 5m feather files in {data}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "crypto_ai_bot.cli.backtest", "--no-progress",
               "--strategy", "ema_cross", "--param", "fast=12", "--param", "slow=26",
               "--stop-pct", "2", "--fee-pct", "0.1", "--out", out, "--no-plot",
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
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return r.returncode
        import json

        summary = json.loads((Path(out) / "summary.json").read_text())["summary"]
    candles = sum(s["candles"] for s in summary["per_symbol"].values())
    print(f"pairs:        {len(files)}")
    print(f"candles:      {candles:,}")
    print(f"trades:       {summary['trades']:,}")
    print(f"wall:         {wall:.2f} s (whole process)")
    print(f"candles/s:    {candles / wall:,.0f}")
    print(f"peak memory:  {peak_mb:,.0f} MB")
    print(f"total return: {summary['total_return_pct']:.2f} %"
          f"  max drawdown: {summary['max_drawdown_pct']:.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
