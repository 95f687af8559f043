"""Gate API v4 JSON (orders, trades, price-triggered orders) as the bot's domain reports.

Numbers arrive as strings (or ccxt floats) and become Decimal here, at the boundary.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crypto_ai_bot.core.domain import (
    ZERO,
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    StopOrderReport,
)

_STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED,
           "cancelled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED}
_STOP_STATUS = {"finish": "finished"}


def d(value: Any) -> Decimal:
    """A ccxt/Gate number (float, int or string) as Decimal; missing is zero."""
    if value is None or value == "":
        return ZERO
    return Decimal(str(value))


def _ms(value: Any) -> int:
    return int(d(value))


def parse_order(symbol: str, info: dict[str, Any], fills: tuple[FillReport, ...]) -> OrderReport:
    """A Gate v4 order (raw JSON) as an OrderReport; amounts in base."""
    side = Side(info["side"])
    filled, cost = d(info.get("filled_amount")), d(info.get("filled_total"))
    avg = d(info.get("avg_deal_price")) or None
    market_buy = info.get("type") == "market" and side is Side.BUY
    status = _STATUS.get(str(info.get("status")), OrderStatus.CANCELED)  # unknown: final
    return OrderReport(
        exchange_order_id=str(info["id"]), client_order_id=str(info.get("text") or ""),
        symbol=symbol, side=side, type=OrderType(info.get("type") or "limit"), status=status,
        amount=filled if market_buy and status.is_final else d(info.get("amount")),
        filled=filled, cost=cost, avg_price=avg, fee=d(info.get("fee")),
        fee_currency=str(info.get("fee_currency") or ""),
        ts_ms=_ms(info.get("update_time_ms") or info.get("create_time_ms")), fills=fills,
    )


def parse_trade(symbol: str, r: dict[str, Any]) -> FillReport:
    return FillReport(
        trade_id=str(r["id"]), symbol=symbol, side=Side(r["side"]), price=d(r["price"]),
        amount=d(r["amount"]), fee=d(r.get("fee")), fee_currency=str(r.get("fee_currency", "")),
        ts_ms=_ms(r.get("create_time_ms")), exchange_order_id=str(r.get("order_id", "")),
        client_order_id=str(r.get("text") or ""),
    )


def parse_stop(symbol: str, info: dict[str, Any]) -> StopOrderReport:
    raw = str(info.get("status", ""))
    fired = info.get("fired_order_id")
    return StopOrderReport(
        str(info["id"]), symbol, d(info.get("trigger", {}).get("price")),
        d(info.get("put", {}).get("amount")), _STOP_STATUS.get(raw, raw),
        "" if fired in (None, 0, "0", "") else str(fired),
    )


def with_status(r: OrderReport, status: OrderStatus) -> OrderReport:
    return OrderReport(r.exchange_order_id, r.client_order_id, r.symbol, r.side, r.type, status,
                       r.amount, r.filled, r.cost, r.avg_price, r.fee, r.fee_currency, r.ts_ms,
                       r.fills)
