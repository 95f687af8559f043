"""Backtest speed and memory: the reference run as a whole `cab-backtest` process, beside the
yardstick (bench/yardstick.py) timed at the same moment, and optionally freqtrade.

    python bench/backtest_speed.py             # BTC/USDT 5m, then the ten 5m pairs
    python bench/backtest_speed.py --one       # BTC/USDT 5m only (--all: the ten pairs only)
    python bench/backtest_speed.py --runs 9    # more runs (default 5 for one pair, 3 for ten)
    python bench/backtest_speed.py --freqtrade /work/ft-venv/bin/python   # freqtrade beside

The reference run: EMA 12/26, 2 % stop, 0.1 % fee, 1,000 a trade, no risk limits, no trailing
stop. Each run is a fresh process (interpreter start, imports, loading, the loop, the report
and exit included); the source is byte-compiled first, as an installed package is, and one
untimed run first fills the candle cache and the page cache.

The yardstick is the same backtest as a bare Python loop; it travels between machines, and a
shared machine's speed changes from minute to minute, so each of our runs is paired with one of
its runs and the bot's time is printed as a multiple of it (the fastest of ours over the fastest
of its): the target is at most 3x, which is 10x freqtrade. Its trades.csv must equal ours to
the byte, or the bench stops. Peak memory is each process's own (wait4). Figures, not
assertions: this is a benchmark, never a test.

--freqtrade PYTHON times `freqtrade backtesting` of the same strategy (bench/freqtrade/) on the
same feather files, run by that interpreter (a venv with freqtrade installed), whole process,
in a user_data directory laid out in a temporary directory, with --cache none (each run does
the whole backtest); its runs follow ours, so compare them on a quiet machine.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "ohlcv" / "binance"
YARDSTICK = REPO / "bench" / "yardstick.py"
FREQTRADE = REPO / "bench" / "freqtrade"
TARGET = 3.0  # the bot's whole process at most 3x the yardstick's: 10x freqtrade


@dataclass
class Timed:
    walls: list[float] = field(default_factory=list)
    peak_mb: float = 0.0

    @property
    def best(self) -> float:
        return min(self.walls)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def _timed(cmd: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
           ) -> tuple[float, float]:
    """Run cmd to its end; (wall seconds, its own peak RSS in MB). Exits on failure."""
    with log.open("w") as out:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-3000:])
        raise SystemExit(f"{cmd[1]} failed with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


def _ours(files: list[Path], out: Path) -> list[str]:
    cmd = [sys.executable, "-m", "crypto_ai_bot.cli.backtest", "--no-progress",
           "--strategy", "ema_cross", "--param", "fast=12", "--param", "slow=26",
           "--stop-pct", "2", "--trailing-pct", "0", "--fee-pct", "0.1", "--stake", "1000",
           "--no-risk", "--out", str(out), "--force", "--no-plot",
           # 10,000 quote per pair: each pair can always pay its 1,000 stake
           "--start-quote", str(10_000 * len(files))]
    for f in files:
        cmd += ["--data", str(f)]
    return cmd


# trades.csv's first columns are the yardstick's; the later ones (ISO times, fees, duration,
# return %) are for people and derived from them
YARDSTICK_COLUMNS = 8


def _columns(csv_text: str, n: int) -> str:
    """The first n columns of every line (no field of trades.csv holds a comma)."""
    return "".join(",".join(line.split(",")[:n]) + "\n" for line in csv_text.splitlines())


def _yardstick(files: list[Path], out: Path) -> list[str]:
    cmd = [sys.executable, str(YARDSTICK), "--out", str(out)]
    for f in files:
        cmd += ["--data", str(f)]
    return cmd


def _freqtrade(python: str, files: list[Path], work: Path) -> list[str]:
    """freqtrade's command, its user_data laid out under work (the data linked, not copied)."""
    user = work / "user_data"
    (user / "strategies").mkdir(parents=True, exist_ok=True)
    shutil.copy(FREQTRADE / "EmaCross.py", user / "strategies" / "EmaCross.py")
    (user / "data").mkdir(exist_ok=True)
    link = user / "data" / "binance"
    if not link.exists():
        link.symlink_to(files[0].parent.resolve(), target_is_directory=True)
    pairs = [f.name.split("-")[0].replace("_", "/") for f in files]
    config = {
        "max_open_trades": len(files), "stake_currency": "USDT", "stake_amount": 1000,
        "dry_run": True, "dry_run_wallet": 10_000 * len(files), "timeframe": "5m",
        "trading_mode": "spot", "fee": 0.001,
        "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": pairs,
                     "pair_blacklist": []},
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "dataformat_ohlcv": "feather", "user_data_dir": str(user), "strategy": "EmaCross",
    }
    path = work / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return [python, str(FREQTRADE / "ft_offline.py"), "backtesting", "-c", str(path),
            "--cache", "none", "--export", "none"]


def _freqtrade_trades(log: Path) -> str:
    for line in log.read_text().splitlines():
        if line.startswith("│") and "TOTAL" in line:
            return line.split("│")[2].strip()
    return "?"


def bench(files: list[Path], runs: int, ft_python: str | None, ft_runs: int) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    ours, stick, ft = Timed(), Timed(), Timed()
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        out_ours, out_stick = work / "ours", work / "yardstick"
        log = work / "run.log"
        _timed(_ours(files, out_ours), env, log)  # fills the candle cache and the page cache
        _timed(_yardstick(files, out_stick), env, log)
        ours_trades = _columns((out_ours / "trades.csv").read_text(), YARDSTICK_COLUMNS)
        if ours_trades != (out_stick / "trades.csv").read_text():
            raise SystemExit("the yardstick's trades differ from the bot's: compare "
                             f"{out_ours}/trades.csv and {out_stick}/trades.csv")
        for k in range(runs):
            ws, ps = _timed(_yardstick(files, out_stick), env, log)
            wo, po = _timed(_ours(files, out_ours), env, log)
            stick.walls.append(ws)
            ours.walls.append(wo)
            stick.peak_mb, ours.peak_mb = max(stick.peak_mb, ps), max(ours.peak_mb, po)
            ratios.append(wo / ws)
            print(f"  run {k + 1}: ours {wo:.2f} s, yardstick {ws:.2f} s ({wo / ws:.2f}x)",
                  file=sys.stderr)
        summary = json.loads((out_ours / "summary.json").read_text())["summary"]
        ft_trades = ""
        if ft_python:
            cmd = _freqtrade(ft_python, files, work / "ft")
            ft_log = work / "ft.log"
            for k in range(ft_runs):
                wf, pf = _timed(cmd, env, ft_log, cwd=work / "ft")
                ft.walls.append(wf)
                ft.peak_mb = max(ft.peak_mb, pf)
                print(f"  freqtrade run {k + 1}: {wf:.2f} s", file=sys.stderr)
            ft_trades = _freqtrade_trades(ft_log)
    candles = sum(s["candles"] for s in summary["per_symbol"].values())
    signal = ours_trades.count(",signal\n")
    best = ours.best / stick.best
    print(f"pairs:        {len(files)}")
    print(f"candles:      {candles:,}")
    print(f"trades:       {summary['trades']:,} ({signal:,} signal exits), the yardstick's to"
          " the byte (its columns)")
    print(f"ours:         {ours.best:.2f} s fastest, {ours.median:.2f} s median of {runs}"
          f" (whole process); {candles / ours.best:,.0f} candles/s; peak {ours.peak_mb:,.0f} MB")
    print(f"yardstick:    {stick.best:.2f} s fastest, {stick.median:.2f} s median;"
          f" peak {stick.peak_mb:,.0f} MB")
    print(f"ratio:        {best:.2f}x the yardstick (fastest over fastest; paired runs"
          f" {min(ratios):.2f}x-{max(ratios):.2f}x, median {statistics.median(ratios):.2f}x);"
          f" target <= {TARGET:.0f}x")
    if ft.walls:
        print(f"freqtrade:    {ft.best:.2f} s fastest, {ft.median:.2f} s median of {ft_runs};"
              f" peak {ft.peak_mb:,.0f} MB; {ft_trades} trades")
        print(f"vs freqtrade: ours {ft.best / ours.best:.1f}x faster; freqtrade"
              f" {ft.best / stick.best:.1f}x the yardstick")
    print(f"total return: {summary['total_return_pct']:.2f} %"
          f"  max drawdown: {summary['max_drawdown_pct']:.2f} %")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = p.add_mutually_exclusive_group()
    which.add_argument("--one", action="store_true", help="BTC/USDT 5m only")
    which.add_argument("--all", action="store_true", help="the ten 5m pairs only")
    p.add_argument("--runs", type=int, help="paired runs to time (default 5 one pair, 3 ten)")
    p.add_argument("--freqtrade", metavar="PYTHON",
                   help="also time freqtrade, run by this interpreter (a venv with freqtrade)")
    p.add_argument("--freqtrade-runs", type=int, default=3)
    p.add_argument("--data-dir", default=str(DATA))
    args = p.parse_args()
    data = Path(args.data_dir)
    one = [f for f in [data / "BTC_USDT-5m.feather"] if f.exists()]
    ten = sorted(data.glob("*-5m.feather"))
    sets = [one] if args.one else [ten] if args.all else [one, ten]
    if not all(sets):
        print(f"no 5m feather files in {data}", file=sys.stderr)
        return 2
    compileall.compile_dir(REPO / "src", quiet=1)
    for k, files in enumerate(sets):
        if k:
            print()
        bench(files, args.runs or (5 if len(files) == 1 else 3), args.freqtrade,
              args.freqtrade_runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
