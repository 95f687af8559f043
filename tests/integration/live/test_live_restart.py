"""Crashes and restarts: SIGKILL inside create_order; a stop that fires while the bot is down."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.model import Action, Intent, OrderStatus

from .conftest import SYMBOL, ContainerFactory, decision, sim_balance, ticker

SCRIPT = Path(__file__).with_name("bot_proc.py")
SRC = Path(__file__).resolve().parents[3] / "src"


def start_bot(sim: SimServer, db: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), sim.base_url, str(db)], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for_order(sim: SimServer, proc: subprocess.Popen[str], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not sim.state()["orders"]:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the bot never sent its order"
        time.sleep(0.05)


async def test_sigkill_inside_create_order_then_restart_no_duplicate(
    sim: SimServer, make_container: ContainerFactory, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    sim.set_faults(lose_next_orders=1, lose_delay_ms=60_000)  # executed; the answer hangs
    proc = start_bot(sim, db)
    try:
        wait_for_order(sim, proc)
        await asyncio.sleep(0.2)
        assert proc.poll() is None  # still inside create_order
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    [sent] = sim.state()["orders"]

    # a second instance on the same database, inside the same idempotency bucket
    c = await make_container(idempotency_bucket_ms=3_600_000)
    [rec] = c.repos.orders.not_final(SYMBOL)
    assert rec.client_order_id == sent["text"] and rec.status is OrderStatus.PENDING_SUBMIT
    report = await c.orchestrator.reconcile_once(startup=True)
    assert report.ok, report.as_dict()
    rec2 = c.repos.orders.get(rec.client_order_id)
    assert rec2 is not None and rec2.status is OrderStatus.FILLED
    again = await c.executor.enter(SYMBOL, "same decision after restart")
    assert again.outcome == "duplicate"
    assert len(sim.state()["orders"]) == 1  # no duplicate on the exchange
    assert c.repos.positions.get(SYMBOL).base_amount == sim_balance(sim, "BTC") > 0


async def test_stop_fires_while_the_bot_is_down_and_restart_records_the_exit(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    t = await ticker(c)
    result = await c.pipelines[SYMBOL].act(decision(Action.BUY, t.last), t)
    assert result is not None and result.outcome == "sent"
    stop_id = c.repos.positions.get(SYMBOL).stop_order_id
    assert stop_id
    await c.close()  # the bot goes down ...

    sim.set_price(SYMBOL, "59000")  # ... the price falls through the stop (59400)
    [trig] = [x for x in sim.state()["trigger_orders"] if str(x["id"]) == stop_id]
    assert trig["status"] == "finish" and trig["fired_order_id"]
    assert sim_balance(sim, "BTC") < Decimal("0.00001")  # sold on the exchange

    c2 = await make_container()  # restart on the same database
    report = await c2.orchestrator.reconcile_once(startup=True)
    assert report.ok, report.as_dict()
    pos = c2.repos.positions.get(SYMBOL)
    assert pos.base_amount == sim_balance(sim, "BTC") and pos.stop_order_id == ""
    assert pos.realized_pnl < 0
    exit_rec = c2.repos.orders.get(f"stop-{stop_id}")
    assert exit_rec is not None and exit_rec.intent is Intent.EXIT
    assert exit_rec.status is OrderStatus.FILLED
    assert exit_rec.exchange_order_id == str(trig["fired_order_id"])
    # settled once: a second pass changes nothing
    report = await c2.orchestrator.reconcile_once()
    assert report.ok and c2.repos.positions.get(SYMBOL).realized_pnl == pos.realized_pnl
