"""Faults in live mode: lost answers, 429 and 5xx, rejections, partial fills."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.errors import CircuitOpen
from crypto_ai_bot.domain.model import (
    Action,
    MarketInfo,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)

from .conftest import SYMBOL, ContainerFactory, decision, sim_balance, ticker


async def test_timeout_after_accept_is_unknown_then_settled_by_client_id(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container(http_timeout_ms=500)
    sim.set_faults(lose_next_orders=1, lose_delay_ms=1500)
    result = await c.executor.enter(SYMBOL, "test")
    assert result.outcome == "unknown"
    rec = c.repos.orders.get(result.client_order_id)
    assert rec is not None and rec.status is OrderStatus.UNKNOWN
    assert c.repos.positions.get(SYMBOL).base_amount == 0

    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
    assert report.orders[SYMBOL].settled == [result.client_order_id]
    rec = c.repos.orders.get(result.client_order_id)
    assert rec is not None and rec.status is OrderStatus.FILLED
    orders = sim.state()["orders"]
    assert [o["text"] for o in orders] == [result.client_order_id]  # exactly one, never resent
    assert c.repos.positions.get(SYMBOL).base_amount == sim_balance(sim, "BTC") > 0


async def test_reads_back_off_through_429_and_5xx(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    sim.set_faults(rate_limit_next=2)
    balances = await c.broker.fetch_balance()  # two 429s, then an answer
    assert balances["USDT"].free == Decimal("10000")
    assert sim.state()["faults"]["rate_limit_next"] == 0

    sim.set_faults(error_rate=1)  # every request a 5xx ...
    task = asyncio.create_task(c.broker.fetch_ticker(SYMBOL))
    await asyncio.sleep(0.3)
    sim.clear_faults()  # ... until the exchange recovers
    t = await task
    assert t.last == Decimal("60000")
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()


async def test_persistent_5xx_fails_reconcile_closed_and_opens_the_breaker(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    sim.set_faults(error_rate=1)
    report = await c.orchestrator.reconcile_once()  # 2 reads x 4 attempts: breaker opens
    assert report.errors and not report.ok
    assert c.pipelines[SYMBOL].entries_blocked_reason  # fail closed: no new entries
    with pytest.raises(CircuitOpen):
        await c.broker.fetch_balance()
    result = await c.executor.enter(SYMBOL, "test")  # refused before sending
    assert result.outcome == "unknown" and "circuit open" in result.detail
    sim.clear_faults()
    assert sim.state()["orders"] == []


async def test_insufficient_funds_is_a_clear_rejection_and_not_retried(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    sim.set_balances(USDT="50")
    result = await c.executor.enter(SYMBOL, "test")  # straight to the broker, past risk
    assert result.outcome == "rejected" and "InsufficientFunds" in result.detail
    rec = c.repos.orders.get(result.client_order_id)
    assert rec is not None and rec.status is OrderStatus.REJECTED
    assert sim.state()["orders"] == []
    # the key was released: a corrected decision in the same bucket may act
    sim.set_balances(USDT="10000")
    again = await c.executor.enter(SYMBOL, "test")
    assert again.outcome == "sent"
    assert len(sim.state()["orders"]) == 1


async def test_precision_and_minimums_refused_before_or_by_the_exchange(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container(fixed_amount="2")
    result = await c.executor.enter(SYMBOL, "test")  # 2 USDT < min cost 3: never sent
    assert result.outcome == "rejected" and "minimum" in result.detail
    # a stale market (finer steps than the exchange's): the exchange refuses the precision
    broker = c.broker
    stale: MarketInfo = replace(broker.market(SYMBOL), price_step=Decimal("0.001"))
    broker._markets[SYMBOL] = stale  # type: ignore[attr-defined]
    # ccxt rounds to its own copy of the market (loaded with ours): stale it the same way
    broker.exchange.markets[SYMBOL]["precision"]["price"] = 0.001  # type: ignore[attr-defined]
    c.executor.config = replace(c.executor.config, fixed_amount_quote=Decimal("100.005"))
    sim.set_faults(order_rate_limit=0)
    result = await c.executor.enter(SYMBOL, "test")
    assert result.outcome == "rejected", result
    assert "InvalidOrder" in result.detail and "precision" in result.detail.lower()
    assert sim.state()["orders"] == []  # nothing reached the book, nothing was retried


async def test_429_on_create_is_a_rejection_that_releases_the_key(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    await c.broker.fetch_ticker(SYMBOL)
    sim.set_faults(rate_limit_next=1)
    result = await c.executor.enter(SYMBOL, "test")
    assert result.outcome == "rejected" and "TOO_MANY_REQUESTS" in result.detail
    assert sim.state()["orders"] == []
    again = await c.executor.enter(SYMBOL, "test")
    assert again.outcome == "sent"
    assert len(sim.state()["orders"]) == 1


async def test_partial_fill_position_is_filled_minus_base_fee(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    sim.set_faults(partial_fill_ratio="0.5")
    p = c.pipelines[SYMBOL]
    t = await ticker(c)
    result = await p.act(decision(Action.BUY, t.last), t)
    assert result is not None and result.outcome == "sent" and result.order is not None
    [order] = sim.state()["orders"]
    filled, fee = Decimal(order["filled_amount"]), Decimal(order["fee"])
    assert order["finish_as"] == "ioc" and filled > 0
    assert result.order.filled == filled and result.order.status is OrderStatus.CANCELED
    pos = c.repos.positions.get(SYMBOL)
    assert pos.base_amount == filled - fee == sim_balance(sim, "BTC")
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()


async def test_the_pace_keeps_orders_under_the_exchange_limit(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    """The emulator refuses a third order placement within a sliding second, as Gate does past
    its own limit; a bot told that limit (EXCHANGE_ORDERS_PER_SEC) spaces five buys so that
    none is refused."""
    c = await make_container(exchange_orders_per_sec=2)
    await c.broker.fetch_ticker(SYMBOL)
    sim.set_faults(order_rate_limit=2)
    for n in range(5):
        request = OrderRequest(SYMBOL, Side.BUY, OrderType.MARKET, f"t-cabpace{n}",
                               cost=Decimal(10))
        report = await c.broker.create_order(request)
        assert report.status is OrderStatus.FILLED
    assert len(sim.state()["orders"]) == 5
