"""Crash drill: SIGKILL a live bot at random moments against the Gate emulator, restart, check.

    PYTHONPATH=src python bench/crash_drill.py [--cycles 50] [--seed 1]

One emulator process serves the whole drill. Each cycle starts a bot process (live mode, fast
trading steps: entries, signal exits, protective exits, exchange-side stops, reconcile) while
the drill moves the price and sometimes makes the emulator lose an order's answer; the bot is
killed with SIGKILL at a random moment; then a fresh container on the same database reconciles
against the emulator and runs one exits check (as the restarted bot's first cycle would). Printed
per cycle and in total: duplicates (two emulator orders with the same client `text`),
mismatches (local position vs emulator base balance beyond dust), orphan stops (price orders
left open beside, or without, the position's own stop) and unprotected positions (an open
position without its resting stop).
Not a test: a benchmark that prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from cab_exchange_sim.testing import SimProcess, start_sim_process  # noqa: E402
from crypto_ai_bot.bootstrap import build_container  # noqa: E402
from crypto_ai_bot.config import Settings, load_settings  # noqa: E402
from crypto_ai_bot.domain.model import Action, Decision  # noqa: E402

KEY, SECRET, SYMBOL = "drill-key", "drill-secret", "BTC/USDT"


def settings(api_url: str, db: str, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        mode="live", exchange_api_url=api_url, api_key=KEY, api_secret=SECRET, db_path=db,
        symbol=SYMBOL, fixed_amount="200", price_feed="live", autostart=False,
        instance_lock="on", http_timeout_ms=1000, risk_cooldown_sec=0,
        risk_max_orders_per_hour=0, risk_daily_loss_limit_quote="0", risk_max_spread_pct="5",
        exits_hard_stop_pct="1.5", exits_trailing_pct="0.8", exchange_countdown_sec=0,
        idempotency_bucket_ms=1500, log_level="WARNING",
    )
    values.update(extra)
    return load_settings(None, **values)


# the bot process --------------------------------------------------------------------------

async def worker(api_url: str, db: str, seed: int) -> None:
    """Trade as fast as the pipeline allows until killed."""
    rng = random.Random(seed)
    c = build_container(settings(api_url, db))
    await c.start()
    keeper = c.extras.get("stop_keeper")
    if keeper is not None:
        keeper.min_interval_ms = 300
    await c.orchestrator.reconcile_once(startup=True)
    p = c.pipelines[SYMBOL]
    step = 0
    while True:
        step += 1
        with contextlib.suppress(Exception):
            t = await c.broker.fetch_ticker(SYMBOL)
            pos = c.repos.positions.get(SYMBOL)
            if not pos.is_open(c.broker.market(SYMBOL).min_amount):
                action = Action.BUY
            else:
                action = Action.SELL if rng.random() < 0.15 else Action.HOLD
            now = c.clock.now_ms()
            await p.act(Decision(SYMBOL, action, "drill", now, t.last, now), t)
            await p.protect()
            if step % 4 == 0:
                await c.orchestrator.reconcile_once()
        await asyncio.sleep(0.03)


# the drill --------------------------------------------------------------------------------

class Check(NamedTuple):
    ok: bool
    local: Decimal
    exchange: Decimal
    notes: str
    orphan_stops: int
    unprotected: int


async def check(api_url: str, db: str, sim: SimProcess) -> Check:
    """Restart on the database, reconcile, run one exits check; then count the stops."""
    c = build_container(settings(api_url, db, http_timeout_ms=5000))
    try:
        await c.start()
        report = await c.orchestrator.reconcile_once(startup=True)
        pos = report.positions.get(SYMBOL)
        local = pos.local if pos else Decimal(-1)
        exchange = pos.exchange if pos else Decimal(-1)
        orders = report.orders.get(SYMBOL)
        notes = "; ".join(report.errors.values())
        if orders is not None and (orders.settled or orders.not_found):
            notes += f" settled_on_restart={len(orders.settled)}"
            notes += f" never_sent={len(orders.not_found)}"
        with contextlib.suppress(Exception):
            await c.pipelines[SYMBOL].protect()
        orphans, unprotected = stop_counts(c, sim)
        return Check(pos is not None and pos.ok, local, exchange, notes.strip(), orphans,
                     unprotected)
    finally:
        await c.close()


def stop_counts(c: Any, sim: SimProcess) -> tuple[int, int]:
    """(price orders open beside or without the position's stop, 1 if the open position has
    no resting stop)."""
    pos = c.repos.positions.get(SYMBOL)
    held = pos.is_open(c.broker.market(SYMBOL).min_amount)
    open_ids = {str(t["id"]) for t in sim.state()["trigger_orders"] if t["status"] == "open"}
    own = {pos.stop_order_id} if held and pos.stop_order_id in open_ids else set()
    return len(open_ids - own), 1 if held and not own else 0


def duplicates(sim: SimProcess) -> int:
    texts = Counter(o["text"] for o in sim.state()["orders"] if o["text"].startswith("t-"))
    return sum(n - 1 for n in texts.values() if n > 1)


def run_cycle(sim: SimProcess, db: str, rng: random.Random, n: int) -> tuple[int, Check, str]:
    if rng.random() < 0.35:  # the next order executes but its answer is lost / late
        sim.set_faults(lose_next_orders=1, lose_delay_ms=rng.randint(300, 3000))
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", sim.base_url, db, str(n)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kill_at = time.monotonic() + 1.6 + rng.uniform(0.1, 3.0)  # ~1.6 s is start-up
    price = Decimal(sim.state()["prices"]["BTC_USDT"])
    while time.monotonic() < kill_at and proc.poll() is None:
        drift = Decimal(str(rng.gauss(0.0002, 0.004)))
        price = max(Decimal("20000"), min(Decimal("120000"), price * (1 + drift)))
        sim.set_price(SYMBOL, price.quantize(Decimal("0.1")))
        time.sleep(0.1)
    died = proc.poll()
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=10)
    sim.clear_faults()
    result = asyncio.run(check(sim.base_url, db, sim))
    dups = duplicates(sim)
    note = f"worker exited early: {err.strip()[-300:]}" if died is not None else ""
    detail = (f"local={result.local} exchange={result.exchange}"
              + (f" {result.notes}" if result.notes else ""))
    return dups, result, (detail + (" " + note if note else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", nargs=3, metavar=("API_URL", "DB", "SEED"))
    args = parser.parse_args()
    if args.worker:
        api_url, db, seed = args.worker
        asyncio.run(worker(api_url, db, int(seed)))
        return 0
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crash-drill-") as tmp, start_sim_process(
        None, "--api-key", KEY, "--api-secret", SECRET, "--balances", "USDT=100000",
        "--symbols", SYMBOL,
    ) as sim:
        db = str(Path(tmp) / "bot.sqlite3")
        total_dups = total_mismatch = total_orphans = total_unprotected = 0
        for n in range(1, args.cycles + 1):
            dups, result, detail = run_cycle(sim, db, rng, n)
            new_dups = dups - total_dups
            total_dups = dups
            total_mismatch += 0 if result.ok else 1
            total_orphans += result.orphan_stops
            total_unprotected += result.unprotected
            print(f"cycle {n:3d}: duplicates={new_dups} mismatch={0 if result.ok else 1}"
                  f" orphan_stops={result.orphan_stops} unprotected={result.unprotected}"
                  f" {detail}", flush=True)
        state = sim.state()
        orders = [o for o in state["orders"] if o["text"].startswith("t-")]
        fired = [t for t in state["trigger_orders"] if t["status"] == "finish"]
        print(f"TOTAL cycles={args.cycles} duplicates={total_dups} mismatches={total_mismatch}"
              f" orphan_stops={total_orphans} unprotected_positions={total_unprotected}"
              f" exchange_orders={len(orders)} stops_fired={len(fired)}"
              f" elapsed={time.monotonic() - started:.0f}s", flush=True)
    return 1 if total_dups or total_mismatch or total_orphans or total_unprotected else 0


if __name__ == "__main__":
    sys.exit(main())
