"""Reconcile settles an order that finished hours before the restart. Gate finds a client id
only while the order is open ("can only be checked in pending orders"): the bot finds it in
the finished orders (or its trades) instead. Real ccxt against the emulator, real SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal

from tests.integration.live.conftest import SYMBOL, ContainerFactory, decision, sim_balance, ticker

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.model import Action, OrderStatus

TWO_HOURS_MS = 2 * 3600 * 1000


async def test_an_entry_finished_two_hours_before_the_restart_is_settled(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await make_container(http_timeout_ms=1000)
    sim.set_faults(lose_next_orders=1, lose_delay_ms=2500)  # it fills; the answer is lost
    t = await ticker(c)
    result = await c.pipelines[SYMBOL].act(decision(Action.BUY, t.last), t)
    assert result is not None and result.outcome != "sent"
    [pending] = c.repos.orders.not_final(SYMBOL)
    cid = pending.client_order_id
    await asyncio.sleep(1.6)
    await c.close()  # the bot is down for two hours: the order, its trades and our record age
    ex = sim.exchange
    with ex.lock:
        [order] = [o for o in ex.engine.orders.values() if o.text == cid]
        order.create_ms -= TWO_HOURS_MS
        order.update_ms -= TWO_HOURS_MS
        for trade in ex.engine.trades:
            if trade.order_id == order.id:
                trade.create_ms -= TWO_HOURS_MS
    with sqlite3.connect(c.settings.db_path) as db:
        db.execute("UPDATE orders SET created_ms = created_ms - ?, updated_ms = updated_ms - ?",
                   (TWO_HOURS_MS, TWO_HOURS_MS))
    again = await make_container()
    gate = again.broker.exchange
    lookup = await gate.fetch_open_orders(SYMBOL)
    assert all(o["clientOrderId"] != cid for o in lookup)  # no longer open: no client-id look-up
    report = await again.orchestrator.reconcile_once(startup=True)
    assert report.ok and report.orders[SYMBOL].settled == [cid], report.as_dict()
    settled = again.repos.orders.get(cid)
    assert settled is not None and settled.status is OrderStatus.FILLED
    assert settled.exchange_order_id == str(order.id)
    pos = again.repos.positions.get(SYMBOL)
    assert pos.base_amount == sim_balance(sim, "BTC") > Decimal(0)
