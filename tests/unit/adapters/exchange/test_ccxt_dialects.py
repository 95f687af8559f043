"""ccxt unified orders and trades as domain reports; Gate's dialect; the lagging-fills rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import pytest

from crypto_ai_bot.adapters.exchange.ccxt.broker import CcxtBroker
from crypto_ai_bot.adapters.exchange.ccxt.dialects import (
    ExchangeDialect,
    GateDialect,
    dialect_for,
    order_status,
    parse_order,
    parse_stop,
    parse_trade,
)
from crypto_ai_bot.domain.model import OrderStatus, Side
from crypto_ai_bot.domain.orders import OrderEvent, report_event
from crypto_ai_bot.ports.clock import ManualClock

# as ccxt 4.5 parses a Gate market buy for 100 USDT at 60000 (see ccxt gate.parse_order)
MARKET_BUY: dict[str, Any] = {
    "id": "300000000001", "clientOrderId": "t-cab0123456789abcdef0123456", "timestamp": 1000,
    "lastTradeTimestamp": 2000, "status": "closed", "symbol": "BTC/USDT", "type": "market",
    "side": "buy", "price": 60000.0, "average": 60000.0, "amount": 0.001666666666666666,
    "cost": 100.0, "filled": 0.0016660000000000001, "remaining": 6.66666666666e-07,
    "fee": None, "fees": [{"currency": "GT", "cost": 0.0}, {"currency": "BTC", "cost": 3.332e-06}],
    "info": {"id": "300000000001", "text": "t-cab0123456789abcdef0123456", "amount": "100",
             "left": "0.04", "filled_amount": "0.001666", "filled_total": "99.96",
             "avg_deal_price": "60000", "fee": "0.000003332", "fee_currency": "BTC",
             "status": "closed", "finish_as": "filled"},
}
TRADE: dict[str, Any] = {
    "id": "9000000001", "timestamp": 2000, "symbol": "BTC/USDT", "order": "300000000001",
    "side": "buy", "price": 60000.0, "amount": 0.001666, "cost": 99.96,
    "fee": {"currency": "BTC", "cost": 3.332e-06}, "fees": [{"currency": "BTC", "cost": 3.332e-06}],
    "info": {"id": "9000000001", "order_id": "300000000001",
             "text": "t-cab0123456789abcdef0123456"},
}


@pytest.mark.parametrize(("status", "ours"), [
    ("open", OrderStatus.OPEN), ("closed", OrderStatus.FILLED),
    ("canceled", OrderStatus.CANCELED), ("expired", OrderStatus.EXPIRED),
    ("rejected", OrderStatus.REJECTED),
    # Gate finish_as values that ccxt passes through unchanged: final
    ("small", OrderStatus.CANCELED), ("depth_not_enough", OrderStatus.CANCELED),
    ("stp", OrderStatus.CANCELED), ("unknown", OrderStatus.CANCELED),
    (None, OrderStatus.OPEN),
])
def test_status_mapping(status: str | None, ours: OrderStatus) -> None:
    assert order_status(status) is ours


def test_gate_market_buy_takes_gates_exact_figures_not_ccxts_derived_ones() -> None:
    r = parse_order("BTC/USDT", MARKET_BUY, GateDialect())
    assert (r.filled, r.cost, r.amount) == (Decimal("0.001666"), Decimal("99.96"),
                                           Decimal("0.001666"))
    assert (r.fee, r.fee_currency) == (Decimal("0.000003332"), "BTC")  # not the zero GT fee
    assert r.status is OrderStatus.FILLED and r.side is Side.BUY
    assert r.client_order_id == "t-cab0123456789abcdef0123456" and r.ts_ms == 2000


def test_generic_dialect_uses_unified_fields() -> None:
    order = dict(MARKET_BUY, info={}, filled=0.5, cost=30000.0)
    r = parse_order("BTC/USDT", order, ExchangeDialect())
    assert (r.filled, r.cost) == (Decimal("0.5"), Decimal("30000.0"))


def test_trade_keeps_its_order_and_gate_text() -> None:
    f = parse_trade("BTC/USDT", TRADE, GateDialect())
    assert (f.trade_id, f.exchange_order_id, f.client_order_id) == (
        "9000000001", "300000000001", "t-cab0123456789abcdef0123456")
    assert (f.price, f.amount, f.fee, f.fee_currency) == (
        Decimal("60000.0"), Decimal("0.001666"), Decimal("0.000003332"), "BTC")
    assert parse_trade("BTC/USDT", TRADE, ExchangeDialect()).client_order_id == ""


def test_gate_stop_status_and_fired_order() -> None:
    fired = {"id": "70000001", "status": "closed", "triggerPrice": 59000.0, "amount": 0.001,
             "info": {"status": "finish", "fired_order_id": 300000000002}}
    failed = dict(fired, status="canceled", info={"status": "failed", "fired_order_id": 0})
    s = parse_stop("BTC/USDT", fired, GateDialect())
    assert (s.status, s.fired_order_id, s.trigger_price, s.amount) == (
        "finished", "300000000002", Decimal("59000.0"), Decimal("0.001"))
    assert (parse_stop("BTC/USDT", failed, GateDialect()).status,
            parse_stop("BTC/USDT", failed, GateDialect()).fired_order_id) == ("failed", "")
    assert parse_stop("BTC/USDT", fired, ExchangeDialect()).fired_order_id == "70000001"


async def test_gate_dialect_prepares_ccxt_options() -> None:
    ex = ccxt.gate()
    try:
        assert isinstance(dialect_for("gateio"), GateDialect)
        GateDialect().prepare(ex)
        assert ex.options["createMarketBuyOrderRequiresPrice"] is False
        # Gate refuses 0 ("trigger.expiration invalid range"): ccxt's default stays, and
        # CcxtBroker.place_stop sends EXCHANGE_STOP_EXPIRATION_SEC
        assert ex.options["createOrder"]["expiration"] == 86400
    finally:
        await ex.close()


class _FakeGate:
    """Just enough of a ccxt client for CcxtBroker.fetch_order."""

    id = "gate"

    def __init__(self, trades: list[dict[str, Any]]) -> None:
        self.options: dict[str, Any] = {}
        self.trades = trades

    async def fetch_order(self, order_id: str, symbol: str, params: dict[str, Any]) -> Any:
        return MARKET_BUY

    async def fetch_order_trades(self, order_id: str, symbol: str, since: Any,
                                 limit: int) -> list[dict[str, Any]]:
        return self.trades


@pytest.mark.parametrize(("trades", "event"), [
    ([], OrderEvent.PARTIALLY_FILLED),  # filled, but no trade known yet: look again later
    ([dict(TRADE, amount=0.001)], OrderEvent.PARTIALLY_FILLED),
    ([TRADE], OrderEvent.FILLED),
])
async def test_lagging_fills_keep_a_final_order_open(trades: list[dict[str, Any]],
                                                     event: OrderEvent) -> None:
    """The adapter reports what Gate says (filled) with the trades it found; the order's
    transition table keeps it open while they fall short."""
    broker = CcxtBroker(_FakeGate(trades), ManualClock())
    report = await broker.fetch_order("BTC/USDT", exchange_order_id="300000000001")
    assert report is not None and report.status is OrderStatus.FILLED
    assert report_event(report) is event
    assert [f.trade_id for f in report.fills] == [t["id"] for t in trades]
