"""Exchange-side stops (price-triggered orders) and countdown cancel-all through real ccxt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from cab_exchange_sim.testing import SimServer

pytestmark = pytest.mark.asyncio


async def test_stop_loss_fires_on_price_drop_and_sells(gate: Any, sim: SimServer) -> None:
    sim.set_balances(BTC="0.01")
    stop = await gate.create_order("BTC/USDT", "limit", "sell", 0.01, 58800,
                                   {"stopLossPrice": 59000})
    raw = await gate.private_spot_get_price_orders_order_id({"order_id": stop["id"]})
    assert raw["trigger"] == {"price": "59000", "rule": "<=", "expiration": 86400}
    assert raw["put"]["account"] == "normal" and raw["status"] == "open"
    opened = await gate.fetch_open_orders("BTC/USDT", None, None, {"trigger": True})
    assert [o["id"] for o in opened] == [stop["id"]]
    fetched = await gate.fetch_order(stop["id"], "BTC/USDT", {"trigger": True})
    assert fetched["status"] == "open" and fetched["triggerPrice"] == 59000
    assert fetched["side"] == "sell" and fetched["price"] == 58800
    sim.set_price("BTC/USDT", 59100)
    assert (await gate.fetch_order(stop["id"], "BTC/USDT", {"stop": True}))["status"] == "open"
    sim.set_price("BTC/USDT", 58900)  # crosses 59000: the put order fills at the market
    fired = await gate.fetch_order(stop["id"], "BTC/USDT", {"trigger": True})
    assert fired["status"] == "closed" and fired["info"]["status"] == "finish"
    sell_id = str(fired["info"]["fired_order_id"])
    sell = await gate.fetch_order(sell_id, "BTC/USDT")
    assert sell["side"] == "sell" and sell["status"] == "closed" and sell["average"] == 58900
    state = sim.state()
    assert state["balances"]["BTC"] == {"available": "0", "locked": "0"}
    proceeds = Decimal("0.01") * 58900
    assert Decimal(state["balances"]["USDT"]["available"]) == 10000 + proceeds * Decimal("0.998")
    finished = await gate.fetch_closed_orders("BTC/USDT", None, None, {"trigger": True})
    assert [o["id"] for o in finished] == [stop["id"]]
    sim.set_price("BTC/USDT", 58000)  # a trigger fires once
    assert len([o for o in sim.state()["orders"] if o["side"] == "sell"]) == 1


async def test_trigger_fails_without_balance_and_can_be_cancelled(gate: Any,
                                                                  sim: SimServer) -> None:
    lonely = await gate.create_order("BTC/USDT", "limit", "sell", 0.01, 58800,
                                     {"triggerPrice": 59000})
    kept = await gate.create_order("ETH/USDT", "limit", "sell", 0.1, 2900,
                                   {"stopLossPrice": 2950})
    sim.set_price("BTC/USDT", 58000)
    failed = await gate.fetch_order(lonely["id"], "BTC/USDT", {"trigger": True})
    assert failed["info"]["status"] == "failed" and failed["status"] == "canceled"
    assert failed["info"]["fired_order_id"] == 0
    cancelled = await gate.cancel_order(kept["id"], "ETH/USDT", {"trigger": True})
    assert cancelled["info"]["status"] == "cancelled"
    with pytest.raises(ccxt.InvalidOrder, match="ORDER_CANCELLED"):  # as Gate can answer
        await gate.cancel_order(kept["id"], "ETH/USDT", {"trigger": True})
    with pytest.raises(ccxt.OrderNotFound):
        await gate.cancel_order("79999999", "ETH/USDT", {"trigger": True})
    again = await gate.create_order("ETH/USDT", "limit", "sell", 0.1, 2900,
                                    {"stopLossPrice": 2950})
    gone = await gate.cancel_all_orders("ETH/USDT", {"trigger": True})
    assert [o["id"] for o in gone] == [again["id"]]


async def test_trigger_on_wrong_side_of_price_is_refused(gate: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder):
        await gate.create_order("BTC/USDT", "limit", "sell", 0.01, 60500,
                                {"stopLossPrice": 61000})


async def test_countdown_cancel_all(gate: Any, sim: SimServer) -> None:
    btc = await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
    eth = await gate.create_order("ETH/USDT", "limit", "buy", 0.01, 2000)
    before = gate.milliseconds()
    armed = await gate.private_spot_post_countdown_cancel_all(
        {"timeout": 30, "currency_pair": "BTC_USDT"})
    assert before + 29_000 <= int(armed["triggerTime"]) <= gate.milliseconds() + 31_000
    assert list(sim.state()["countdown"]) == ["BTC_USDT"]
    with pytest.raises(ccxt.BadRequest):
        await gate.private_spot_post_countdown_cancel_all({"timeout": 2})
    assert sim.fire_countdown() == [btc["id"]]  # expire it now instead of waiting 30 s
    assert (await gate.fetch_order(btc["id"], "BTC/USDT"))["status"] == "canceled"
    assert (await gate.fetch_order(eth["id"], "ETH/USDT"))["status"] == "open"
    await gate.private_spot_post_countdown_cancel_all({"timeout": 10})
    disarmed = await gate.private_spot_post_countdown_cancel_all({"timeout": 0})
    assert disarmed == {"triggerTime": "0"} and sim.state()["countdown"] == {}
    assert sim.fire_countdown() == []


async def test_a_price_order_answers_as_real_gate_without_the_text_sent(
    gate: Any, sim: SimServer
) -> None:
    """Gate's SpotPriceTrigger has price, rule and expiration only, and put.text is the
    order's source: a client id sent as trigger.text never comes back (ccxt: None)."""
    stop = await gate.create_order("BTC/USDT", "limit", "sell", 0.01, 58800,
                                   {"stopLossPrice": 59000, "clientOrderId": "t-mine"})
    raw = await gate.private_spot_get_price_orders_order_id({"order_id": stop["id"]})
    assert set(raw["trigger"]) == {"price", "rule", "expiration"}
    assert raw["put"]["text"] == "api"
    fetched = await gate.fetch_order(stop["id"], "BTC/USDT", {"trigger": True})
    assert fetched["clientOrderId"] is None
    listed = await gate.fetch_open_orders("BTC/USDT", None, None, {"trigger": True})
    assert [o["clientOrderId"] for o in listed] == [None]
    sim.set_faults(echo_trigger_text=1)  # the opt-in experiment keeps the echo
    echoed = await gate.fetch_order(stop["id"], "BTC/USDT", {"trigger": True})
    assert echoed["clientOrderId"] == "t-mine"


@pytest.mark.parametrize("expiration", [0, -60])
async def test_an_expiration_of_zero_or_less_is_refused_with_gates_label(
    gate: Any, expiration: int
) -> None:
    with pytest.raises(ccxt.BadRequest, match=r"trigger\.expiration invalid range"):
        await gate.create_order("BTC/USDT", "limit", "sell", 0.01, 58800,
                                {"stopLossPrice": 59000, "expiration": expiration})


async def test_a_price_order_expires_after_its_expiration(gate: Any, sim: SimServer) -> None:
    stop = await gate.create_order("BTC/USDT", "limit", "sell", 0.01, 58800,
                                   {"stopLossPrice": 59000, "expiration": 60})
    ex = sim.exchange
    wall = ex.clock
    with ex.lock:  # a minute passes on the exchange's clock
        ex.clock = lambda: wall() + 61_000
        try:
            ex.tick(0)
        finally:
            ex.clock = wall
    fetched = await gate.fetch_order(stop["id"], "BTC/USDT", {"trigger": True})
    assert fetched["info"]["status"] == "expired"
    sim.set_price("BTC/USDT", 58000)  # an expired trigger never fires
    assert [o for o in sim.state()["orders"] if o["side"] == "sell"] == []
