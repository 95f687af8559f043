"""The exchange-side stop against Gate's other answers: a lost answer, a price order the bot
cannot account for, expiration and renewal, REPEAT_REQUEST, a trigger already above the last
price, a cancel of a finished stop, a put under the minimum. Real ccxt against the emulator."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from tests.integration.live.conftest import (
    SYMBOL,
    ContainerFactory,
    decision,
    sim_balance,
    ticker,
)

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.errors import InvalidOrder, OrderNotFound
from crypto_ai_bot.domain.model import Action, StopLevel, StopReason

DUST = Decimal("0.00001")


def triggers(sim: SimServer) -> list[dict[str, Any]]:
    return sorted(sim.state()["trigger_orders"], key=lambda t: int(t["id"]))


async def _bought(make_container: ContainerFactory, **overrides: Any) -> Any:
    c = await make_container(**overrides)
    t = await ticker(c)
    result = await c.pipelines[SYMBOL].act(decision(Action.BUY, t.last), t)
    assert result is not None and result.outcome == "sent", result
    assert c.repos.positions.get(SYMBOL).stop_order_id
    return c


async def _drop_stop(c: Any, sim: SimServer) -> None:
    """The position's stop goes (an operator cancelled it); the keeper lets it go."""
    stop_id = c.repos.positions.get(SYMBOL).stop_order_id
    sim.exchange.triggers.cancel(stop_id, sim.exchange.now())
    await c.extras["stop_keeper"].settle_fired(SYMBOL)
    assert c.repos.positions.get(SYMBOL).stop_order_id == ""


async def test_the_bot_sends_a_documented_expiration(sim: SimServer,
                                                     make_container: ContainerFactory) -> None:
    await _bought(make_container)
    assert [t["trigger"]["expiration"] for t in triggers(sim)] == [86400]


async def test_a_stop_whose_answer_was_lost_is_recognised_by_its_fields_and_kept(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await _bought(make_container, http_timeout_ms=1000)
    await _drop_stop(c, sim)
    sim.set_faults(lose_next_orders=1, lose_delay_ms=2500)  # placed; the answer comes late
    p = c.pipelines[SYMBOL]
    await c.extras["stop_keeper"].sync(SYMBOL, c.repos.positions.get(SYMBOL), p.stop_level())
    resting = triggers(sim)[-1]
    assert resting["status"] == "open"
    assert c.repos.positions.get(SYMBOL).stop_order_id == ""  # the bot does not know its id
    [record] = c.repos.stops.active(SYMBOL)
    assert record.exchange_id == "" and record.status == "recorded"
    await asyncio.sleep(1.6)  # the late answer is gone for good
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
    assert c.repos.positions.get(SYMBOL).stop_order_id == str(resting["id"])  # adopted
    assert c.repos.stops.by_exchange_id(str(resting["id"])) is not None
    await p.protect()  # the adopted stop stays: no second one
    assert [t["status"] for t in triggers(sim)] == ["cancelled", "open"]
    assert c.extras["stop_keeper"].unprotected() == {}


@pytest.mark.parametrize("exclusive", [False, True])
async def test_a_price_order_the_bot_cannot_account_for_is_reported(
    sim: SimServer, make_container: ContainerFactory, exclusive: bool,
) -> None:
    c = await _bought(make_container, exchange_stops_exclusive=exclusive)
    foreign = await c.broker.exchange.create_order(  # someone else's, on the same account
        SYMBOL, "limit", "sell", 0.001, 50000, {"stopLossPrice": 51000, "expiration": 3600})
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
    [audit] = c.repos.audit.recent(topic="reconcile.unknown_stop")
    assert audit.payload["stop_id"] == str(foreign["id"])
    assert audit.payload["cancelled"] is exclusive
    assert 'cab_exchange_stops_unknown_total{symbol="BTC/USDT"} 1.0' in c.metrics.render().decode()
    statuses = {str(t["id"]): t["status"] for t in triggers(sim)}
    assert statuses[str(foreign["id"])] == ("cancelled" if exclusive else "open")
    assert statuses[c.repos.positions.get(SYMBOL).stop_order_id] == "open"  # ours stays
    await c.orchestrator.reconcile_once()  # reported once, not at every pass
    assert c.repos.audit.count("reconcile.unknown_stop") == 1


async def test_a_stop_is_renewed_before_it_lapses_new_before_old(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await make_container()
    keeper = c.extras["stop_keeper"]
    keeper.expiration_sec = 4  # renewed at half of it
    t = await ticker(c)
    await c.pipelines[SYMBOL].act(decision(Action.BUY, t.last), t)
    first = c.repos.positions.get(SYMBOL).stop_order_id
    await c.pipelines[SYMBOL].protect()
    assert c.repos.positions.get(SYMBOL).stop_order_id == first  # not due yet
    await asyncio.sleep(2.1)
    await c.pipelines[SYMBOL].protect()
    renewed = c.repos.positions.get(SYMBOL).stop_order_id
    assert renewed != first
    rows = triggers(sim)
    assert [(str(r["id"]), r["status"], r["trigger"]["expiration"]) for r in rows] == [
        (first, "cancelled", 4), (renewed, "open", 4)]
    assert rows[0]["ftime"] >= rows[1]["ctime"]  # the new one was there before the old went


async def test_repeat_request_keeps_the_old_stop_and_is_retried(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await _bought(make_container)
    first = c.repos.positions.get(SYMBOL).stop_order_id
    sim.set_faults(price_order_repeat_ms=60_000)
    sim.set_price(SYMBOL, "61000")  # the trailing stop rises: the keeper moves the stop
    await c.pipelines[SYMBOL].protect()
    assert c.repos.positions.get(SYMBOL).stop_order_id == first  # refused: the old one stays
    assert [t["status"] for t in triggers(sim)] == ["open"]
    assert c.extras["stop_keeper"].unprotected() == {}
    sim.clear_faults()
    await c.pipelines[SYMBOL].protect()  # retried
    assert c.repos.positions.get(SYMBOL).stop_order_id != first
    assert [t["status"] for t in triggers(sim)] == ["cancelled", "open"]


async def test_a_trigger_above_the_last_price_is_a_breached_stop_sold_now(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await _bought(make_container)
    await _drop_stop(c, sim)
    held = sim_balance(sim, "BTC")
    level = StopLevel(Decimal("61000"), StopReason.TRAILING_STOP)  # over the price (60000)
    await c.extras["stop_keeper"].sync(SYMBOL, c.repos.positions.get(SYMBOL), level)
    assert held > DUST > sim_balance(sim, "BTC")  # sold at market
    assert c.repos.positions.get(SYMBOL).base_amount == sim_balance(sim, "BTC")
    assert [t["status"] for t in triggers(sim)] == ["cancelled"]  # none placed
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()


async def test_a_cancel_of_a_finished_stop_is_already_gone(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await make_container()
    sim.set_balances(USDT="10000", BTC="0.01")
    fired = await c.broker.place_stop(SYMBOL, Decimal("0.01"), Decimal("59000"),
                                      Decimal("58800"))
    cancelled = await c.broker.place_stop(SYMBOL, Decimal("0.01"), Decimal("59500"),
                                          Decimal("59400"))
    await c.broker.cancel_stop(SYMBOL, cancelled.id)
    sim.set_price(SYMBOL, "58900")
    with pytest.raises(OrderNotFound, match="ORDER_CLOSED"):
        await c.broker.cancel_stop(SYMBOL, fired.id)
    with pytest.raises(OrderNotFound, match="ORDER_CANCELLED"):
        await c.broker.cancel_stop(SYMBOL, cancelled.id)


async def test_a_stop_under_the_minimum_is_caught_before_it_is_placed(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    """Gate would take it and let it end `failed` when it fires: the bot never sends it."""
    c = await make_container()
    with pytest.raises(InvalidOrder, match="below the minimums"):
        await c.broker.place_stop(SYMBOL, Decimal("0.00002"), Decimal("59000"),
                                  Decimal("58800"))
    assert triggers(sim) == []


async def test_the_stop_of_a_position_closed_by_a_settled_exit_goes_in_the_same_pass(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    c = await _bought(make_container, http_timeout_ms=1000)
    sim.set_faults(lose_next_orders=1, lose_delay_ms=2500)  # the exit sells; its answer is lost
    t = await ticker(c)
    await c.pipelines[SYMBOL].act(decision(Action.SELL, t.last), t)
    assert sim_balance(sim, "BTC") < DUST
    assert [t["status"] for t in triggers(sim)] == ["open"]  # the bot does not know it sold
    await asyncio.sleep(1.6)
    report = await c.orchestrator.reconcile_once()
    assert report.ok and report.orders[SYMBOL].settled, report.as_dict()
    assert [t["status"] for t in triggers(sim)] == ["cancelled"]
    assert c.repos.positions.get(SYMBOL).stop_order_id == ""
