"""Live scale: the real bot in live mode against the Gate emulator, with N symbols.

    PYTHONPATH=src python bench/live_scale.py --symbols 100 --seconds 120

The emulator (a subprocess) lists and ticks Gate's first N USDT markets and counts every request
per endpoint and rate-limit class; the bot (another subprocess, the HTTP server as deployed:
`uvicorn crypto_ai_bot.api.server:app`) trades them on 10 s (or 1 m) candles (EMA 3/8, a 1 % stop
and a 0.5 % trailing stop, the exchange-side stops, the countdown cancel-all), real ccxt over
loopback, while this process sends /health a bounded load (500 requests/s by default) and
samples the bot's CPU and memory. At the end it reads the bot's own figures: the audit's
`order.sent` records (candle close -> decision -> request), its Prometheus histograms
(in-process time, event-loop lag), its loops' beats and the dead man's switch, the candles each
symbol evaluated; and the emulator's request counts. Printed: a table, then one line
`live_scale: symbols=N close_to_order_p99_ms=... tick_to_order_p99_ms=... loop_lag_p99_ms=...
rss_mb=... http_429=... missed_candles=...`.
Not a test: a benchmark that prints figures (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from cab_exchange_sim.catalog import GATE_USDT_BASES, gate_usdt_markets  # noqa: E402
from cab_exchange_sim.testing import free_port, start_sim_process  # noqa: E402

KEY, SECRET, TOKEN = "scale-key", "scale-secret", "scale-token"
GATE_LIMITS = {"public": (200, "10 s per endpoint"), "private": (200, "10 s per endpoint"),
               "orders": (10, "1 s per market"), "cancels": (2000, "10 s")}


def bot_env(api_url: str, db: str, symbols: tuple[str, ...], port: int,
            extra: dict[str, str], timeframe_s: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env.update({
        "PYTHONPATH": str(SRC), "MODE": "live", "EXCHANGE_API_URL": api_url, "API_KEY": KEY,
        "API_SECRET": SECRET, "API_TOKEN": TOKEN, "SYMBOLS": ",".join(symbols),
        "PRICE_FEED": "live", "TIMEFRAME": "10s" if timeframe_s == 10 else "1m", "AUTOSTART": "1",
        "DB_PATH": db, "FIXED_AMOUNT": "20", "STRATEGY": "ema_cross", "EMA_FAST": "3",
        "EMA_SLOW": "8", "RISK_COOLDOWN_SEC": "0", "RISK_MAX_ORDERS_PER_HOUR": "0",
        "RISK_DAILY_LOSS_LIMIT_QUOTE": "0", "RISK_MAX_SPREAD_PCT": "1",
        "EXITS_HARD_STOP_PCT": "1", "EXITS_TRAILING_PCT": "0.5", "IDEMPOTENCY_BUCKET_MS": "2000",
        "LOG_LEVEL": "WARNING", "PORT": str(port),
    })
    env.update(extra)
    return env


# sampling the bot process ------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int, key: str = "VmHWM") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# the /health load ------------------------------------------------------------------------

async def health_load(port: int, rate: int, stop: asyncio.Event, out: list[float],
                      errors: list[int], connections: int = 50) -> None:
    """`rate` GET /health a second over keep-alive connections, never more (a slow answer
    delays that connection's next request rather than piling requests up)."""
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    every = connections / rate

    async def worker(offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        next_at = time.perf_counter() + offset
        try:
            while not stop.is_set():
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at = max(next_at + every, time.perf_counter())
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                out.append(time.perf_counter() - began)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors.append(int(head[9:12]))
        finally:
            writer.close()

    await asyncio.gather(*(worker(i * every / connections) for i in range(connections)))


# reading the bot's figures ---------------------------------------------------------------

def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def histogram(text: str, name: str, labels: str = "") -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of a Prometheus histogram in the text format."""
    rows = []
    pattern = re.compile(rf'^{name}_bucket\{{{labels}[,]?le="([^"]+)"\}} ([0-9.e+]+)$', re.M)
    for le, count in pattern.findall(text):
        rows.append((float("inf") if le == "+Inf" else float(le), float(count)))
    return rows


def histogram_quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """As Prometheus computes it: linear within the bucket that holds the quantile."""
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0)
        lower, below = upper, count
    return lower


def sent_records(db: str, since_ms: int) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT ts_ms, payload FROM audit WHERE topic='order.sent' "
                            "AND ts_ms >= ?", (since_ms,)).fetchall()
    return [dict(json.loads(p), ts_ms=ts) for ts, p in rows]


def candle_positions(status: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """symbol -> (candles evaluated, newest candle's opening time)."""
    out = {}
    for symbol, p in status["positions"].items():
        signal_ = p.get("last_signal") or {}
        out[symbol] = (int(p["candles_evaluated"]), int(signal_.get("candle_ts_ms") or 0))
    return out


def missed_candles(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
                   until_ms: int, step: int) -> int:
    """Candles that closed between the two snapshots (up to `until_ms`, a little before the
    second) and were not evaluated."""
    missed = 0
    for symbol, (count_a, newest_a) in before.items():
        count_b, _ = after.get(symbol, (count_a, newest_a))
        last_closed = until_ms // step * step - step  # the newest candle closed by until_ms
        expected = max(0, (last_closed - newest_a) // step)
        missed += max(0, expected - (count_b - count_a))
    return missed


# the run ---------------------------------------------------------------------------------

@contextlib.contextmanager
def bot_process(env: dict[str, str], cwd: str, port: int,
                log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--host",
             "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_running(http: httpx.Client, proc: subprocess.Popen[bytes], log: Path,
                 timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the bot exited with {proc.returncode}: "
                             f"{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            status: dict[str, Any] = http.get("/orchestrator/status").json()
            if status.get("running") and all(
                    p["candles_evaluated"] for p in status["positions"].values()):
                return status
        time.sleep(0.5)
    raise SystemExit(f"the bot did not start trading within {timeout_s:.0f} s")


def run(args: argparse.Namespace) -> dict[str, Any]:
    symbols = gate_usdt_markets(args.symbols)
    with tempfile.TemporaryDirectory(prefix="live-scale-", dir=args.db_dir) as tmp, \
            start_sim_process(
        None, "--markets", str(args.symbols), "--tick-ms", str(args.tick_ms),
        "--balances", "USDT=10000000", "--api-key", KEY, "--api-secret", SECRET,
        timeout_s=60,
    ) as sim:
        port = free_port()
        db = str(Path(tmp) / "bot.sqlite3")
        extra = dict(kv.split("=", 1) for kv in args.env)
        log = Path(tmp) / "bot.log"
        with bot_process(bot_env(sim.base_url, db, symbols, port, extra, args.timeframe_s),
                         tmp, port, log) as proc, \
                httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                             headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            wait_running(http, proc, log, args.startup_s)
            # measure from the next close on: the warm-up (100 candles a symbol) is behind
            step_s = args.timeframe_s
            time.sleep(step_s - time.time() % step_s + 1)
            stats_before = sim.clear_stats()
            start_ms = int(time.time() * 1000)
            snap_a = candle_positions(http.get("/orchestrator/status").json())
            cpu_a, wall_a = cpu_seconds(proc.pid), time.monotonic()
            sim_cpu_a, load_a = cpu_seconds(sim.process.pid), os.getloadavg()[0]
            health_ms: list[float] = []
            health_errors: list[int] = []

            async def measure() -> None:
                stop = asyncio.Event()
                load = asyncio.create_task(health_load(port, args.health_rate, stop,
                                                       health_ms, health_errors))
                await asyncio.sleep(args.seconds)
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(load, 10)

            asyncio.run(measure())
            end_ms = int(time.time() * 1000)
            cpu_b, wall_b = cpu_seconds(proc.pid), time.monotonic()
            sim_cpu_b, load_b = cpu_seconds(sim.process.pid), os.getloadavg()[0]
            status = http.get("/orchestrator/status").json()
            health = http.get("/health").json()
            metrics = http.get("/metrics").text
            snap_b = candle_positions(status)
            stats_after = sim.stats()
            peak_kb = rss_kb(proc.pid)
            sent = sent_records(db, start_ms)
            died = proc.poll()
        if died is not None:
            raise SystemExit(f"the bot exited during the run: {log.read_text()[-2000:]}")
    return {
        "symbols": args.symbols, "seconds": args.seconds, "start_ms": start_ms,
        "end_ms": end_ms, "sent": sent, "metrics": metrics, "status": status, "health": health,
        "health_ms": health_ms, "health_errors": health_errors,
        "cpu_pct": 100 * (cpu_b - cpu_a) / (wall_b - wall_a), "rss_mb": peak_kb / 1024,
        "sim_cpu_pct": 100 * (sim_cpu_b - sim_cpu_a) / (wall_b - wall_a),
        "load": (load_a, load_b), "cores": os.cpu_count(),
        "missed": missed_candles(snap_a, snap_b, end_ms - 1500, args.timeframe_s * 1000),
        "timeframe_s": args.timeframe_s,
        "stats_before": stats_before, "stats_after": stats_after,
        "elapsed_s": (end_ms - start_ms) / 1000,
    }


def report(r: dict[str, Any]) -> str:
    step = r["timeframe_s"] * 1000
    # the candles that closed while it measured: one that closed before (the start-up's last,
    # read through the same public budget as the warm-up of every symbol) is not counted
    acted = [s for s in r["sent"] if s["cause"] == "signal" and s["candle_ts_ms"]]
    signals = [s for s in acted if s["candle_ts_ms"] + step >= r["start_ms"]]
    close_dec = [s["decided_ms"] - (s["candle_ts_ms"] + step) for s in signals]
    dec_sent = [s["ts_ms"] - s["decided_ms"] for s in signals]
    close_sent = [s["ts_ms"] - (s["candle_ts_ms"] + step) for s in signals]
    in_proc = {c: [s["in_process_us"] / 1000 for s in r["sent"] if s["cause"] == c]
               for c in ("signal", "stop")}
    text = r["metrics"]
    lag = histogram(text, "cab_event_loop_lag_seconds")
    lag_p99 = histogram_quantile(lag, 0.99) * 1000
    lines = [f"live_scale: {r['symbols']} symbols, {r['elapsed_s']:.0f} s measured, "
             f"{r['timeframe_s']} s candles ({r['elapsed_s'] / r['timeframe_s']:.0f} closes), "
             f"{len(r['sent'])} orders sent"]
    if len(acted) > len(signals):
        lines.append(f"  (not counted below: {len(acted) - len(signals)} orders on candles that "
                     f"closed before the measuring began)")
    lines.append("")

    def row(name: str, values: list[float], unit: str = "ms") -> str:
        if not values:
            return f"  {name:<38} (none)"
        return (f"  {name:<38} n={len(values):<5} p50={quantile(values, .5):9.2f} "
                f"p99={quantile(values, .99):9.2f} max={max(values):9.2f} {unit}")

    lines += ["latency (from the audit's order.sent records)",
              row("candle close -> decision", close_dec),
              row("decision -> order request", dec_sent),
              row("candle close -> order request", close_sent),
              row("in process: signal -> request", in_proc["signal"]),
              row("in process: stop breached -> request", in_proc["stop"]), ""]
    before, after = r["stats_before"], r["stats_after"]
    lines.append("requests to the emulator during the run (Gate's limits)")
    lines.append(f"  {'class':<9} {'requests':>9} {'per s':>8} {'fullest window':>15} "
                 f"{'limit':>22} {'429s':>6}")
    total_429 = 0
    for klass, row_after in after["classes"].items():
        n = row_after["requests"] - before["classes"][klass]["requests"]
        refused = row_after["http_429"] - before["classes"][klass]["http_429"]
        total_429 += refused
        limit, per = GATE_LIMITS[klass]
        lines.append(f"  {klass:<9} {n:>9} {n / r['elapsed_s']:>8.1f} "
                     f"{row_after['peak_window']:>15} {f'{limit} per {per}':>22} {refused:>6}")
    busiest = sorted(after["endpoints"].items(), key=lambda kv: -kv[1]["requests"])[:8]
    for endpoint, e in busiest:
        n = e["requests"] - before["endpoints"].get(endpoint, {"requests": 0})["requests"]
        lines.append(f"    {endpoint:<40} {n:>7} ({n / r['elapsed_s']:.1f}/s, fullest 10 s "
                     f"window {e['peak_window']})")
    beats = r["health"]["loops"]
    stale = [n for n, b in beats.items() if b["stale"]]
    cycles = r["status"]["loops"]
    oldest_name, oldest = max(((n, b["age_ms"]) for n, b in cycles.items()),
                              key=lambda nb: nb[1], default=("", 0))
    health = [x * 1000 for x in r["health_ms"]]
    lines += ["", "process",
              f"  CPU {r['cpu_pct']:.0f} % of one core, peak RSS {r['rss_mb']:.0f} MB, "
              f"event-loop lag p99 {lag_p99:.1f} ms (histogram), "
              f"p50 {histogram_quantile(lag, .5) * 1000:.1f} ms",
              f"  loops {len(beats)}, stale {len(stale)} {' '.join(stale)}, oldest beat "
              f"{oldest} ms ago ({oldest_name}), "
              f"dead man's switch tripped: {r['health']['dms_tripped']}, "
              f"/health status {r['health']['status']}",
              f"  missed candles {r['missed']}",
              f"  machine: {r['cores']} cores, load average {r['load'][0]:.1f} at the start, "
              f"{r['load'][1]:.1f} at the end; the emulator used {r['sim_cpu_pct']:.0f} % of a "
              f"core",
              row("/health under load", health) + f" ({len(health) / r['elapsed_s']:.0f}/s, "
              f"{len(r['health_errors'])} not 200)"]
    tick_p99 = quantile(in_proc["stop"] + in_proc["signal"], .99)
    lines += ["", f"live_scale: symbols={r['symbols']} "
                  f"close_to_order_p99_ms={quantile(close_sent, .99):.0f} "
                  f"tick_to_order_p99_ms={tick_p99:.2f} loop_lag_p99_ms={lag_p99:.1f} "
                  f"rss_mb={r['rss_mb']:.0f} http_429={total_429} missed_candles={r['missed']}"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100,
                        help=f"how many of Gate's USDT markets (1..{len(GATE_USDT_BASES)})")
    parser.add_argument("--seconds", type=float, default=120, help="how long to measure")
    parser.add_argument("--health-rate", type=int, default=500, help="/health requests a second")
    parser.add_argument("--tick-ms", type=int, default=200, help="the emulator's price step")
    parser.add_argument("--timeframe", choices=("10s", "1m"), default="10s",
                        help="the candles traded (10 s: many closes in a short run)")
    parser.add_argument("--startup-s", type=float, default=180)
    parser.add_argument("--db-dir", default=None,
                        help="where the bot's database goes (default: the temporary directory; "
                             "/dev/shm takes the disk's fsync out of the figures)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the bot (repeatable), e.g. EVAL_INTERVAL_SEC=1")
    args = parser.parse_args()
    if not 1 <= args.symbols <= len(GATE_USDT_BASES):
        parser.error(f"--symbols: between 1 and {len(GATE_USDT_BASES)}")
    if args.seconds <= 0 or args.health_rate < 0:
        parser.error("--seconds must be positive and --health-rate not negative")
    if any("=" not in kv for kv in args.env):
        parser.error("--env: NAME=VALUE")
    args.timeframe_s = 10 if args.timeframe == "10s" else 60
    print(report(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
