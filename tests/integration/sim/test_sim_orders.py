"""Spot orders through real ccxt: fills, fees, balances, queries and cancels."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from cab_exchange_sim.testing import SimServer

pytestmark = pytest.mark.asyncio


def D(value: Any) -> Decimal:
    return Decimal(str(value))


def balance(sim: SimServer, code: str) -> tuple[Decimal, Decimal]:
    row = sim.state()["balances"].get(code, {"available": "0", "locked": "0"})
    return D(row["available"]), D(row["locked"])


async def test_market_buy_by_cost_pays_fee_in_base(gate: Any, sim: SimServer) -> None:
    order = await gate.create_order("BTC/USDT", "market", "buy", None, None,
                                    {"cost": 120, "clientOrderId": "t-buy-1"})
    assert order["status"] == "closed"
    assert order["clientOrderId"] == "t-buy-1"
    assert order["info"]["fee_currency"] == "BTC"
    assert order["cost"] == 120 and order["average"] == 60000
    assert order["filled"] == pytest.approx(0.002)
    filled = D(order["info"]["filled_amount"])
    fee = D(order["info"]["fee"])
    assert filled == D("0.002") and fee == filled * D("0.002")
    assert balance(sim, "BTC") == (filled - fee, D(0))
    assert balance(sim, "USDT") == (D("10000") - D("120"), D(0))
    same = await gate.create_market_buy_order_with_cost("BTC/USDT", 60)
    assert same["status"] == "closed" and same["filled"] == pytest.approx(0.001)


async def test_market_sell_pays_fee_in_quote(gate: Any, sim: SimServer) -> None:
    sim.set_balances(BTC="0.01")
    order = await gate.create_order("BTC/USDT", "market", "sell", 0.005)
    assert order["status"] == "closed" and order["filled"] == pytest.approx(0.005)
    assert order["info"]["fee_currency"] == "USDT"
    assert balance(sim, "BTC") == (D("0.005"), D(0))
    assert balance(sim, "USDT") == (D("10000") + D("300") - D("0.6"), D(0))
    trades = await gate.fetch_my_trades("BTC/USDT")
    assert trades[0]["side"] == "sell" and trades[0]["fee"]["currency"] == "USDT"


async def test_limit_rests_then_fills_when_price_crosses(gate: Any, sim: SimServer) -> None:
    order = await gate.create_order("BTC/USDT", "limit", "buy", 0.01, 59000,
                                    {"clientOrderId": "t-rest-1"})
    assert order["status"] == "open" and order["remaining"] == pytest.approx(0.01)
    assert balance(sim, "USDT") == (D("9410"), D("590"))
    by_text = await gate.fetch_order("t-rest-1", "BTC/USDT")
    assert by_text["id"] == order["id"] and by_text["status"] == "open"
    opened = await gate.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in opened] == [order["id"]]
    sim.set_price("BTC/USDT", 59500)
    assert (await gate.fetch_order(order["id"], "BTC/USDT"))["status"] == "open"
    sim.set_price("BTC/USDT", 58950)
    done = await gate.fetch_order(order["id"], "BTC/USDT")
    assert done["status"] == "closed" and done["average"] == 59000  # maker at the limit
    assert done["filled"] == pytest.approx(0.01)
    assert balance(sim, "USDT") == (D("9410"), D(0))
    assert balance(sim, "BTC")[0] == D("0.01") - D("0.01") * D("0.002")
    with pytest.raises(ccxt.OrderNotFound):
        await gate.fetch_order("t-rest-1", "BTC/USDT")  # text lookups work only while open
    closed = await gate.fetch_closed_orders("BTC/USDT")
    assert order["id"] in [o["id"] for o in closed]
    assert await gate.fetch_open_orders("BTC/USDT") == []
    trades = await gate.fetch_my_trades("BTC/USDT")
    assert trades[-1]["order"] == order["id"] and trades[-1]["info"]["text"] == "t-rest-1"
    assert trades[-1]["takerOrMaker"] == "maker"


async def test_crossing_limit_fills_at_market_price(gate: Any, sim: SimServer) -> None:
    order = await gate.create_order("ETH/USDT", "limit", "buy", 0.5, 3100)
    assert order["status"] == "closed" and order["average"] == 3000
    assert balance(sim, "USDT") == (D("8500"), D(0))  # the surplus lock is released


async def test_order_not_found_after_finish_by_text(gate: Any, sim: SimServer) -> None:
    await gate.create_order("BTC/USDT", "market", "buy", None, None,
                            {"cost": 50, "clientOrderId": "t-gone"})
    with pytest.raises(ccxt.OrderNotFound):
        await gate.fetch_order("t-gone", "BTC/USDT")


async def test_cancel_and_cancel_all(gate: Any, sim: SimServer) -> None:
    a = await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
    b = await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 51000)
    c = await gate.create_order("ETH/USDT", "limit", "buy", 0.01, 2000)
    cancelled = await gate.cancel_order(a["id"], "BTC/USDT")
    assert cancelled["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await gate.cancel_order(a["id"], "BTC/USDT")
    rest = await gate.cancel_all_orders("BTC/USDT")
    assert [o["id"] for o in rest] == [b["id"]]
    assert [o["id"] for o in await gate.fetch_open_orders()] == [c["id"]]
    batch = {o["id"]: o for o in await gate.cancel_orders([c["id"], "123"], "ETH/USDT")}
    assert batch[c["id"]]["status"] == "canceled" and batch["123"]["status"] == "rejected"
    assert balance(sim, "USDT") == (D("10000"), D(0))


async def test_repeated_text_is_accepted(gate: Any, sim: SimServer) -> None:
    first = await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 50000,
                                    {"clientOrderId": "t-same"})
    second = await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 50000,
                                     {"clientOrderId": "t-same"})
    assert first["id"] != second["id"] and int(second["id"]) > int(first["id"])
    texts = [o["text"] for o in sim.state()["orders"]]
    assert texts.count("t-same") == 2


async def test_partial_fill_fault(gate: Any, sim: SimServer) -> None:
    sim.set_faults(partial_fill_ratio="0.5")
    market = await gate.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 600})
    assert market["status"] == "canceled" and market["info"]["finish_as"] == "ioc"
    assert D(market["info"]["filled_amount"]) == D("0.005")
    assert D(market["info"]["filled_total"]) == D("300")
    limit = await gate.create_order("BTC/USDT", "limit", "buy", 0.01, 60000)
    assert limit["status"] == "open" and limit["filled"] == pytest.approx(0.005)
    assert limit["remaining"] == pytest.approx(0.005)
    sim.set_faults(partial_fill_ratio="1")
    sim.set_price("BTC/USDT", 59990)
    done = await gate.fetch_order(limit["id"], "BTC/USDT")
    assert done["status"] == "closed" and done["filled"] == pytest.approx(0.01)


async def test_edit_order_amends_price(gate: Any, sim: SimServer) -> None:
    order = await gate.create_order("BTC/USDT", "limit", "buy", 0.002, 55000)
    edited = await gate.edit_order(order["id"], "BTC/USDT", "limit", "buy", 0.003, 56000)
    assert edited["id"] == order["id"] and edited["price"] == 56000
    assert edited["amount"] == pytest.approx(0.003)
    assert balance(sim, "USDT") == (D("10000") - D("168"), D("168"))
