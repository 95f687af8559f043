"""An order's history, the trading state's one writer, and what the dead man's switch cancels."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.model import (
    Intent,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    TradingState,
)
from crypto_ai_bot.domain.orders import OrderEvent


async def test_an_order_keeps_its_history(paper) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    res = await c.executor.enter("BTC/USDT", "test")
    history = c.repos.orders.events(res.client_order_id)
    assert [(e.event, e.status) for e in history] == [
        (OrderEvent.RECORDED, OrderStatus.PENDING_SUBMIT),
        (OrderEvent.FILLED, OrderStatus.FILLED),
    ]
    assert history[-1].filled == res.order.filled > 0
    # an older answer after the order is final is history only: the record stays
    stale = OrderReport(res.order.exchange_order_id, res.client_order_id, "BTC/USDT", Side.BUY,
                        OrderType.MARKET, OrderStatus.CANCELED, D(1), D(0), D(0), None, D(0),
                        "", 0)
    assert c.executor.apply_report(stale) == c.repos.orders.get(res.client_order_id)
    assert c.repos.orders.get(res.client_order_id).status is OrderStatus.FILLED
    assert c.repos.orders.events(res.client_order_id)[-1].event is OrderEvent.CANCELED


async def test_every_trading_state_change_is_stored_and_audited(paper) -> None:
    c = paper()
    c.bus.handle(SetTradingState(TradingState.REDUCING, "maintenance"))
    assert c.repos.state.trading_state() is TradingState.REDUCING
    assert c.repos.state.trading_state_reason() == "operator: maintenance"
    c.orchestrator.on_dms_trip(["evaluate:BTC/USDT"], "halt")  # no loop: nothing to cancel
    assert c.states.current is TradingState.HALTED and c.orchestrator.dms.tripped is False
    c.orchestrator.dms.tripped = True
    c.bus.handle(SetTradingState(TradingState.ACTIVE, "checked"))
    assert c.orchestrator.dms.tripped is False  # the operator's resume re-arms the switch
    changes = [r.payload for r in reversed(c.repos.audit.recent(10, "trading_state.changed"))]
    assert [(p["state"], p["reason"]) for p in changes] == [
        ("REDUCING", "operator: maintenance"),
        ("HALTED", "dead man's switch: silent loops evaluate:BTC/USDT"),
        ("ACTIVE", "operator: checked"),
    ]


class _Resting:
    """The paper venue with orders resting on its book: cancels are recorded and answered."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.cancelled: list[str] = []

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> None:
        self.cancelled.append(exchange_order_id)

    async def fetch_order(self, symbol: str, *, exchange_order_id: str = "",
                          client_order_id: str = "") -> OrderReport:
        return OrderReport(exchange_order_id, client_order_id, symbol, Side.BUY,
                           OrderType.LIMIT, OrderStatus.CANCELED, D(1), D(0), D(0), None, D(0),
                           "", 0)


async def test_the_dead_mans_switch_cancels_entries_only_and_records_them(paper) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    resting = _Resting(c.broker)
    c.executor._broker = resting
    now = c.clock.now_ms()
    for cid, intent, side in (("entry-1", Intent.ENTRY, Side.BUY),
                              ("exit-1", Intent.EXIT, Side.SELL)):
        c.repos.orders.insert(OrderEvent.RECORDED, client_order_id=cid, symbol="BTC/USDT",
                              side=side, type=OrderType.LIMIT, intent=intent, amount=D(1),
                              cost=None, price=D(99), idempotency_key=cid, reason="",
                              now_ms=now)
        c.repos.orders.apply(cid, OrderEvent.ACCEPTED, now, exchange_order_id=f"x-{cid}")
    c.orchestrator.loop = asyncio.get_running_loop()
    await asyncio.to_thread(c.orchestrator.on_dms_trip, ["reconcile"], "halt")
    for _ in range(50):
        if c.repos.orders.get("entry-1").status.is_final:
            break
        await asyncio.sleep(0.01)
    assert resting.cancelled == ["x-entry-1"]  # a fired stop's resting sell keeps working
    assert c.repos.orders.get("entry-1").status is OrderStatus.CANCELED
    assert c.repos.orders.get("exit-1").status is OrderStatus.OPEN
    assert c.states.current is TradingState.HALTED
