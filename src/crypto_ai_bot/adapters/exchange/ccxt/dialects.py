"""ccxt's unified orders and trades as domain reports, and the exchange dialects.

CcxtBroker talks to ccxt's unified methods only; the few things they cannot express live in a
dialect. `ExchangeDialect` is the default for any ccxt exchange; `GateDialect` holds Gate's raw
fields (exact fill figures, a trade's `text`, a fired stop's `fired_order_id`, finished-order
pages) and its countdown cancel-all, the one raw call left. Another exchange gets a subclass.
ccxt's floats become Decimal here, at the boundary, with `Decimal(str(x))`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crypto_ai_bot.domain.model import (
    ZERO,
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    StopOrderReport,
)

_STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED,
           "canceled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED,
           "rejected": OrderStatus.REJECTED}
_STOP_STATUS = {"open": "open", "closed": "finished", "canceled": "cancelled",
                "expired": "expired", "rejected": "failed"}


def d(value: Any) -> Decimal:
    """A ccxt/exchange number (float, int or string) as Decimal; missing is zero."""
    if value is None or value == "":
        return ZERO
    return Decimal(str(value))


def order_status(status: Any) -> OrderStatus:
    """A ccxt unified status as ours; Gate's `finish_as` values ccxt passes through are final."""
    if status is None:
        return OrderStatus.OPEN  # not known yet: reconcile looks again
    return _STATUS.get(str(status), OrderStatus.CANCELED)


def parse_order(symbol: str, o: dict[str, Any], dialect: ExchangeDialect) -> OrderReport:
    """A ccxt unified order as an OrderReport (without fills); amounts in base."""
    side = Side(o["side"])
    status = order_status(o.get("status"))
    filled, cost = dialect.filled_and_cost(o)
    market_buy = o.get("type") == "market" and side is Side.BUY
    fee, fee_currency = _fee(o)
    return OrderReport(
        exchange_order_id=str(o["id"]), client_order_id=str(o.get("clientOrderId") or ""),
        symbol=symbol, side=side, type=OrderType(o.get("type") or "limit"), status=status,
        amount=filled if market_buy and status.is_final else d(o.get("amount")),
        filled=filled, cost=cost, avg_price=d(o.get("average")) or None, fee=fee,
        fee_currency=fee_currency,
        ts_ms=int(o.get("lastTradeTimestamp") or o.get("timestamp") or 0),
    )


def parse_trade(symbol: str, t: dict[str, Any], dialect: ExchangeDialect) -> FillReport:
    fee, fee_currency = _fee(t)
    return FillReport(
        trade_id=str(t["id"]), symbol=symbol, side=Side(t["side"]), price=d(t["price"]),
        amount=d(t["amount"]), fee=fee, fee_currency=fee_currency,
        ts_ms=int(t.get("timestamp") or 0), exchange_order_id=str(t.get("order") or ""),
        client_order_id=dialect.trade_client_id(t),
    )


def parse_stop(symbol: str, o: dict[str, Any], dialect: ExchangeDialect) -> StopOrderReport:
    return StopOrderReport(str(o["id"]), symbol, d(o.get("triggerPrice")), d(o.get("amount")),
                           dialect.stop_status(o), dialect.fired_order_id(o),
                           limit_price=d(o.get("price")), created_ms=int(o.get("timestamp") or 0))


def _fee(item: dict[str, Any]) -> tuple[Decimal, str]:
    """The first non-zero of `fee`/`fees` (ccxt lists Gate's zero GT fee beside the real one)."""
    fees = [item["fee"]] if item.get("fee") else list(item.get("fees") or [])
    charged = [f for f in fees if d(f.get("cost")) != 0] or fees
    if not charged:
        return ZERO, ""
    return d(charged[0].get("cost")), str(charged[0].get("currency") or "")


class ExchangeDialect:
    """Defaults that use ccxt's unified structures only."""

    closed_pages = 1  # finished orders scanned (x100) when looking an order up by client id
    # EXCHANGE_REQUESTS_PER_SEC counts every request together, unless the exchange limits each
    # endpoint on its own (then each endpoint gets that pace)
    paces_per_endpoint = False

    def prepare(self, exchange: Any) -> None:
        """Adjust the ccxt client's options before use."""

    def page_params(self, page: int) -> dict[str, Any]:
        return {}

    def filled_and_cost(self, order: dict[str, Any]) -> tuple[Decimal, Decimal]:
        """An order's filled base amount and spent quote."""
        filled = d(order.get("filled"))
        cost = order.get("cost")
        return filled, d(cost) if cost is not None else filled * d(order.get("average"))

    def trade_client_id(self, trade: dict[str, Any]) -> str:
        return str(trade.get("clientOrderId") or "")

    def stop_status(self, order: dict[str, Any]) -> str:
        return _STOP_STATUS.get(str(order.get("status")), "cancelled")

    def fired_order_id(self, order: dict[str, Any]) -> str:
        """The id of the order a fired stop placed (here: the stop order itself)."""
        return str(order["id"]) if order.get("status") == "closed" else ""

    async def arm_countdown(self, exchange: Any, symbol: str, timeout_sec: int) -> None:
        """No unified dead man's switch: a no-op unless the exchange has one."""

    async def fetch_tickers(self, exchange: Any,
                            symbols: list[str]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """(last, bid, ask) of each symbol, in one request: ccxt's fetch_tickers (one request
        per symbol where the exchange has no such call)."""
        if not (getattr(exchange, "has", None) or {}).get("fetchTickers"):
            rows = {s: await exchange.fetch_ticker(s) for s in symbols}
        else:
            rows = await exchange.fetch_tickers(symbols)
        return {s: (d(t.get("last")), d(t.get("bid")), d(t.get("ask")))
                for s, t in rows.items() if s in symbols}


class GateDialect(ExchangeDialect):
    """Gate.io API v4 spot (GATE_NOTES.md)."""

    closed_pages = 3
    paces_per_endpoint = True  # Gate: 200 requests per 10 s per endpoint (GATE_NOTES.md)

    def prepare(self, exchange: Any) -> None:
        # market buys are sent with params["cost"]; a price order's expiration is sent by
        # CcxtBroker.place_stop (Gate refuses 0: "trigger.expiration invalid range")
        exchange.options["createMarketBuyOrderRequiresPrice"] = False

    def page_params(self, page: int) -> dict[str, Any]:
        return {"page": page}

    def filled_and_cost(self, order: dict[str, Any]) -> tuple[Decimal, Decimal]:
        # ccxt derives a market buy's base amounts by dividing by avg_deal_price and reports the
        # requested quote as its cost; Gate's own figures are exact
        info = order.get("info") or {}
        if "filled_amount" in info and "filled_total" in info:
            return d(info["filled_amount"]), d(info["filled_total"])
        return super().filled_and_cost(order)

    def trade_client_id(self, trade: dict[str, Any]) -> str:
        return str((trade.get("info") or {}).get("text") or "")  # ccxt's trade drops it

    def stop_status(self, order: dict[str, Any]) -> str:
        raw = str((order.get("info") or {}).get("status") or "")  # keeps failed / expired
        return "finished" if raw == "finish" else raw or super().stop_status(order)

    def fired_order_id(self, order: dict[str, Any]) -> str:
        fired = (order.get("info") or {}).get("fired_order_id")
        return "" if fired in (None, 0, "0", "") else str(fired)

    async def arm_countdown(self, exchange: Any, symbol: str, timeout_sec: int) -> None:
        # raw call: ccxt has no unified countdown cancel-all (GATE_NOTES.md)
        timeout = 0 if timeout_sec <= 0 else max(timeout_sec, 5)  # Gate: >= 5 s, 0 disarms
        await exchange.private_spot_post_countdown_cancel_all(
            {"timeout": timeout, "currency_pair": exchange.market(symbol)["id"]})


    async def fetch_tickers(self, exchange: Any,
                            symbols: list[str]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        # GET /spot/tickers answers every market (thousands on Gate): ccxt would parse them all
        # into unified tickers (~0.1 s of the event loop on the real exchange) to keep a few,
        # so the raw rows of the wanted pairs are read here
        ids = {exchange.market(s)["id"]: s for s in symbols}
        rows = await exchange.public_spot_get_tickers({"timezone": "utc0"})
        out = {}
        for row in rows:
            symbol = ids.get(row.get("currency_pair"))
            if symbol is not None:
                out[symbol] = (d(row.get("last")), d(row.get("highest_bid")),
                               d(row.get("lowest_ask")))
        return out


def dialect_for(exchange_id: str) -> ExchangeDialect:
    return GateDialect() if exchange_id.strip().lower() in ("gate", "gateio") else ExchangeDialect()
