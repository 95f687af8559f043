"""Spot price-triggered orders (Gate's /spot/price_orders) and their life cycle."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .models import TEXT_RE, GateError, Pair, TriggerOrder, decimals, fmt, to_decimal

FIRST_TRIGGER_ID = 70_000_001
FINISHED = ("cancelled", "finish", "failed", "expired")


class TriggerBook:
    """Holds trigger orders; the exchange fires the ones that `due` returns."""

    def __init__(self) -> None:
        self.orders: dict[int, TriggerOrder] = {}
        self.next_id = FIRST_TRIGGER_ID

    def create(self, pair: Pair, body: Mapping[str, Any], last_price: Decimal,
               now_ms: int, *, repeat_ms: int = 0) -> TriggerOrder:
        """Validate a POST /spot/price_orders body and store the order; with `repeat_ms`, one
        of the same market and rule placed less than that before is refused REPEAT_REQUEST."""
        trigger = body.get("trigger")
        put = body.get("put")
        if not isinstance(trigger, Mapping) or not isinstance(put, Mapping):
            raise GateError("MISSING_REQUIRED_PARAM", "Missing required parameter: trigger/put")
        rule = str(trigger.get("rule", ""))
        if rule not in (">=", "<="):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: Trigger.rule")
        trigger_price = to_decimal(trigger.get("price"), "Trigger.price")
        if trigger_price <= 0 or decimals(trigger_price) > pair.precision:
            raise GateError("INVALID_PRECISION", "Invalid trigger price precision")
        if rule == "<=" and trigger_price >= last_price:
            raise GateError("AUTO_TRIGGER_PRICE_LESS_LAST",
                            f"invalid argument: Trigger.Price must < last_price {fmt(last_price)}")
        if rule == ">=" and trigger_price <= last_price:
            raise GateError("AUTO_TRIGGER_PRICE_GREATE_LAST",
                            f"invalid argument: Trigger.Price must > last_price {fmt(last_price)}")
        expiration = _expiration(trigger.get("expiration"))
        ptype = str(put.get("type") or "limit")
        side = str(put.get("side", ""))
        if ptype not in ("limit", "market") or side not in ("buy", "sell"):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: put")
        amount = to_decimal(put.get("amount"), "put.amount")
        price = to_decimal(put.get("price", "0") if ptype == "market" else put.get("price"),
                           "put.price")
        if amount <= 0 or (ptype == "limit" and price <= 0):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: put")
        if decimals(price) > pair.precision or decimals(amount) > pair.amount_precision:
            raise GateError("INVALID_PRECISION", "Invalid put precision")
        # a put under the market's minimum is accepted here, as by Gate, and ends `failed`
        # when it fires (the spot order it places is refused AMOUNT_TOO_LITTLE)
        texts = (put.get("text"), trigger.get("text"))
        for text in texts:
            if text is not None and not TEXT_RE.match(str(text)):
                raise GateError("INVALID_PARAM_VALUE", "invalid argument: text")
        tif = str(put.get("time_in_force") or "gtc")
        if tif not in ("gtc", "ioc"):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: put.time_in_force")
        if repeat_ms > 0 and any(o.market == pair.id and o.rule == rule
                                 and now_ms - o.ctime_ms < repeat_ms
                                 for o in self.orders.values()):
            raise GateError("REPEAT_REQUEST", "Repeat request")
        order = TriggerOrder(
            id=self.next_id, market=pair.id, rule=rule, trigger_price=trigger_price,
            expiration=expiration, put_type=ptype, put_side=side, put_price=price,
            put_amount=amount, put_tif=tif, put_account=str(put.get("account") or "normal"),
            ctime_ms=now_ms,
            put_text=None if texts[0] is None else str(texts[0]),
            trigger_text=None if texts[1] is None else str(texts[1]),
        )
        self.next_id += 1
        self.orders[order.id] = order
        return order

    def due(self, pair_id: str, price: Decimal) -> list[TriggerOrder]:
        """Open trigger orders of a pair whose rule the price now meets."""
        out = []
        for order in self.orders.values():
            if order.status != "open" or order.market != pair_id:
                continue
            if (order.rule == "<=" and price <= order.trigger_price) or (
                order.rule == ">=" and price >= order.trigger_price
            ):
                out.append(order)
        return out

    def expire(self, now_ms: int) -> list[TriggerOrder]:
        out = []
        for order in self.orders.values():
            deadline = order.ctime_ms + order.expiration * 1000
            if order.status == "open" and order.expiration > 0 and now_ms >= deadline:
                self._finish(order, "expired", "expired", now_ms)
                out.append(order)
        return out

    def get(self, ref: str) -> TriggerOrder:
        order = self.orders.get(int(ref)) if ref.isdigit() else None
        if order is None:
            raise GateError("ORDER_NOT_FOUND", "Order not found", 404)
        return order

    def cancel(self, ref: str, now_ms: int) -> TriggerOrder:
        """Cancel an open order; one already finished answers as Gate can: ORDER_CANCELLED
        (it was cancelled) or ORDER_CLOSED (it fired, failed or expired)."""
        order = self.get(ref)
        if order.status == "cancelled":
            raise GateError("ORDER_CANCELLED", "Order cancelled")
        if order.status != "open":
            raise GateError("ORDER_CLOSED", "Order closed")
        self._finish(order, "cancelled", "cancelled", now_ms)
        return order

    def cancel_all(self, market: str | None, now_ms: int) -> list[TriggerOrder]:
        out = []
        for order in self.orders.values():
            if order.status == "open" and market in (None, "", order.market):
                self._finish(order, "cancelled", "cancelled", now_ms)
                out.append(order)
        return out

    def list(self, status: str, market: str | None, limit: int, offset: int) -> list[TriggerOrder]:
        if status not in ("open", "finished"):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: status")
        wanted = ("open",) if status == "open" else FINISHED
        rows = [o for o in self.orders.values()
                if o.status in wanted and market in (None, "", o.market)]
        rows.sort(key=lambda o: o.id, reverse=True)
        return rows[offset: offset + limit]

    @staticmethod
    def _finish(order: TriggerOrder, status: str, reason: str, now_ms: int) -> None:
        order.status = status
        order.reason = reason
        order.ftime_ms = now_ms


def _expiration(raw: object) -> int:
    """Seconds to wait for the condition (required; 0 and negative are refused as by Gate)."""
    if raw is None or raw == "":
        raise GateError("MISSING_REQUIRED_PARAM", "Missing required parameter: trigger.expiration")
    value = to_decimal(raw, "Trigger.expiration")
    if value <= 0 or value != value.to_integral_value():
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: trigger.expiration invalid range")
    return int(value)
