"""Engine objects as the JSON Gate's API v4 answers with."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .catalog import currency_name
from .models import Account, Order, Pair, Trade, TriggerOrder, fmt

USER_ID = 10_000_001
LISTED_SINCE = 1_516_378_650


def order_json(order: Order) -> dict[str, Any]:
    """A spot order exactly in Gate's field layout (numbers as strings)."""
    filled_total = fmt(order.filled_total)
    return {
        "id": str(order.id),
        "text": order.text,
        "amend_text": order.amend_text,
        "create_time": str(order.create_ms // 1000),
        "update_time": str(order.update_ms // 1000),
        "create_time_ms": str(order.create_ms),
        "update_time_ms": str(order.update_ms),
        "status": order.status,
        "currency_pair": order.pair,
        "type": order.type,
        "account": "spot",
        "side": order.side,
        "amount": fmt(order.amount),
        "price": fmt(order.price),
        "time_in_force": order.time_in_force,
        "iceberg": "0",
        "left": fmt(order.left),
        "filled_amount": fmt(order.filled_amount),
        "fill_price": filled_total,
        "filled_total": filled_total,
        "avg_deal_price": fmt(order.avg_deal_price),
        "fee": fmt(order.fee),
        "fee_currency": order.fee_currency,
        "point_fee": "0",
        "gt_fee": "0",
        "gt_maker_fee": "0",
        "gt_taker_fee": "0",
        "gt_discount": False,
        "rebated_fee": "0",
        "rebated_fee_currency": order.fee_currency,
        "stp_id": 0,
        "stp_act": "-",
        "finish_as": order.finish_as,
    }


def trade_json(trade: Trade) -> dict[str, Any]:
    """A row of GET /spot/my_trades."""
    return {
        "id": str(trade.id),
        "create_time": str(trade.create_ms // 1000),
        "create_time_ms": f"{trade.create_ms}.000000",
        "currency_pair": trade.pair,
        "side": trade.side,
        "role": trade.role,
        "amount": fmt(trade.amount),
        "price": fmt(trade.price),
        "order_id": str(trade.order_id),
        "fee": fmt(trade.fee),
        "fee_currency": trade.fee_currency,
        "point_fee": "0",
        "gt_fee": "0",
        "amend_text": "-",
        "sequence_id": str(trade.id),
        "text": trade.text,
    }


def public_trade_json(trade: Trade) -> dict[str, Any]:
    """A row of GET /spot/trades (no private fields)."""
    row = trade_json(trade)
    return {k: row[k] for k in ("id", "create_time", "create_time_ms", "currency_pair",
                                "side", "amount", "price", "sequence_id")}


PRICE_ORDER_SOURCE = "api"  # put.text: the order's source (web, api, app), per Gate's docs


def trigger_json(order: TriggerOrder, echo_text: bool = False) -> dict[str, Any]:
    """A spot price-triggered order as GET /spot/price_orders/{id} answers it: as real Gate,
    no `trigger.text` (SpotPriceTrigger has price, rule, expiration only) and `put.text` the
    order's source; `echo_text` (the echo_trigger_text setting) answers both as sent."""
    trigger: dict[str, Any] = {
        "price": fmt(order.trigger_price),
        "rule": order.rule,
        "expiration": order.expiration,
    }
    if echo_text and order.trigger_text is not None:
        trigger["text"] = order.trigger_text
    put: dict[str, Any] = {
        "type": order.put_type,
        "side": order.put_side,
        "price": fmt(order.put_price),
        "amount": fmt(order.put_amount),
        "account": order.put_account,
        "time_in_force": order.put_tif,
        "auto_borrow": False,
        "auto_repay": False,
    }
    put["text"] = order.put_text if echo_text and order.put_text is not None \
        else PRICE_ORDER_SOURCE
    return {
        "market": order.market,
        "user": USER_ID,
        "trigger": trigger,
        "put": put,
        "id": order.id,
        "ctime": order.ctime_ms // 1000,
        "ftime": order.ftime_ms // 1000,
        "fired_order_id": order.fired_order_id,
        "status": order.status,
        "reason": order.reason,
    }


def account_json(currency: str, account: Account) -> dict[str, Any]:
    return {"currency": currency, "available": fmt(account.available),
            "locked": fmt(account.locked), "update_id": 1}


def pair_json(pair: Pair, fee_rate: Decimal) -> dict[str, Any]:
    return {
        "id": pair.id,
        "base": pair.base,
        "base_name": currency_name(pair.base),
        "quote": pair.quote,
        "quote_name": currency_name(pair.quote),
        "fee": fmt(fee_rate * 100),
        "min_base_amount": fmt(pair.min_base),
        "min_quote_amount": fmt(pair.min_quote),
        "max_base_amount": "",
        "max_quote_amount": "5000000",
        "amount_precision": pair.amount_precision,
        "precision": pair.precision,
        "trade_status": "tradable",
        "sell_start": LISTED_SINCE,
        "buy_start": LISTED_SINCE,
        "delisting_time": 0,
        "type": "normal",
        "trade_url": f"https://www.gate.io/trade/{pair.id}",
        "st_tag": False,
    }


def currency_json(code: str) -> dict[str, Any]:
    chain = {"name": code, "addr": "", "withdraw_disabled": False, "withdraw_delayed": False,
             "deposit_disabled": False}
    return {
        "currency": code, "name": currency_name(code), "delisted": False,
        "withdraw_disabled": False, "withdraw_delayed": False, "deposit_disabled": False,
        "trade_disabled": False, "fixed_rate": "", "chain": code, "chains": [chain],
    }


def state_order_json(order: Order) -> dict[str, Any]:
    """The compact order view of GET /_sim/state."""
    full = order_json(order)
    keys = ("id", "text", "side", "type", "status", "finish_as", "amount", "filled_amount",
            "left", "price", "currency_pair", "avg_deal_price", "filled_total", "fee",
            "fee_currency", "time_in_force", "create_time_ms", "update_time_ms")
    return {k: full[k] for k in keys}
