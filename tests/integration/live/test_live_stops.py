"""The exchange-side backstop in the awkward cases: it fires while the bot runs, or fires
into a gap and rests unfilled. Real ccxt against the emulator."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tests.integration.live.conftest import (
    SYMBOL,
    ContainerFactory,
    decision,
    sim_balance,
    ticker,
)

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.model import Action, OrderStatus

DUST = Decimal("0.00001")


def triggers(sim: SimServer) -> list[dict[str, object]]:
    return list(sim.state()["trigger_orders"])


async def test_a_stop_that_fired_is_recorded_not_replaced(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    p = c.pipelines[SYMBOL]
    t = await ticker(c)
    assert (await p.act(decision(Action.BUY, t.last), t)).outcome == "sent"  # type: ignore[union-attr]
    stop_id = c.repos.positions.get(SYMBOL).stop_order_id
    sim.set_price(SYMBOL, "59000")  # a wick through the backstop (59103): it fires and fills
    assert sim_balance(sim, "BTC") < DUST
    sim.set_price(SYMBOL, "61000")  # and the price is back up before any reconcile pass
    await p.protect()  # the trailing stop would move the backstop: the keeper looks first
    pos = c.repos.positions.get(SYMBOL)
    assert pos.base_amount == sim_balance(sim, "BTC") and pos.stop_order_id == ""
    fired = c.repos.orders.get(f"stop-{stop_id}")
    assert fired is not None and fired.status is OrderStatus.FILLED
    assert [x["status"] for x in triggers(sim)] == ["finish"]  # no new stop for a sold position
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()


async def test_a_fired_stop_resting_in_a_gap_is_replaced_by_a_market_exit(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    c.executor.config = dataclasses.replace(c.executor.config, exit_retry_ms=0)
    p = c.pipelines[SYMBOL]
    t = await ticker(c)
    assert (await p.act(decision(Action.BUY, t.last), t)).outcome == "sent"  # type: ignore[union-attr]
    stop_id = c.repos.positions.get(SYMBOL).stop_order_id
    held = sim_balance(sim, "BTC")
    sim.set_price(SYMBOL, "58000")  # gaps under the stop's limit (58512): its sell rests
    assert sim_balance(sim, "BTC") == held  # locked in the resting sell, not sold
    await c.orchestrator.reconcile_once()  # records the fired stop's sell, still open
    fired = c.repos.orders.get(f"stop-{stop_id}")
    assert fired is not None and fired.status is OrderStatus.OPEN
    result = await p.protect()  # the client stop (59400) is far behind: get out at market
    assert result is not None and result.outcome == "sent", result
    assert sim_balance(sim, "BTC") < DUST
    fired = c.repos.orders.get(f"stop-{stop_id}")
    assert fired is not None and fired.status is OrderStatus.CANCELED
    pos = c.repos.positions.get(SYMBOL)
    assert pos.base_amount == sim_balance(sim, "BTC")
    sells = [o for o in sim.state()["orders"] if o["side"] == "sell"]
    assert [(o["type"], o["status"]) for o in sells] == [("limit", "cancelled"),
                                                        ("market", "closed")]
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
