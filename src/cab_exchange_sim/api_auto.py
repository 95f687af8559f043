"""Signed endpoints around automation: price-triggered orders, countdown cancel-all, account."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request

from .models import GateError, fmt, to_decimal
from .serialize import USER_ID, trigger_json
from .web import private, q_int, q_str, read_object, sim_of

router = APIRouter(dependencies=[Depends(private)])


@router.post("/spot/price_orders")
async def create_price_order(request: Request) -> dict[str, int]:
    ex = sim_of(request).exchange
    body = await read_object(request)
    with ex.lock:
        pair = ex.pair(body.get("market"))
        order = ex.triggers.create(pair, body, ex.price(pair.id), ex.now(),
                                   repeat_ms=ex.settings.price_order_repeat_ms)
        lose = ex.settings.take("lose_next_orders")
        delay = ex.settings.lose_delay_ms
    if lose:  # placed, but the answer comes too late for the client
        await asyncio.sleep(delay / 1000)
    return {"id": order.id}


@router.get("/spot/price_orders")
async def list_price_orders(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    status = q_str(request, "status") or ""
    limit = q_int(request, "limit", 100, low=1, high=100) or 100
    offset = q_int(request, "offset", 0) or 0
    with ex.lock:
        market = q_str(request, "market")
        market = ex.pair(market).id if market else None
        echo = bool(ex.settings.echo_trigger_text)
        return [trigger_json(o, echo) for o in ex.triggers.list(status, market, limit, offset)]


@router.get("/spot/price_orders/{order_id}")
async def get_price_order(order_id: str, request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    with ex.lock:
        return trigger_json(ex.triggers.get(order_id), bool(ex.settings.echo_trigger_text))


@router.delete("/spot/price_orders/{order_id}")
async def cancel_price_order(order_id: str, request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    with ex.lock:
        return trigger_json(ex.triggers.cancel(order_id, ex.now()),
                            bool(ex.settings.echo_trigger_text))


@router.delete("/spot/price_orders")
async def cancel_price_orders(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    with ex.lock:
        market = q_str(request, "market")
        market = ex.pair(market).id if market else None
        echo = bool(ex.settings.echo_trigger_text)
        return [trigger_json(o, echo) for o in ex.triggers.cancel_all(market, ex.now())]


@router.post("/spot/countdown_cancel_all")
async def countdown_cancel_all(request: Request) -> dict[str, str]:
    ex = sim_of(request).exchange
    body = await read_object(request)
    if body.get("timeout") is None:
        raise GateError("MISSING_REQUIRED_PARAM", "Missing required parameter: timeout")
    timeout = to_decimal(body["timeout"], "timeout")
    if timeout < 0 or timeout != timeout.to_integral_value():
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: timeout")
    pair = body.get("currency_pair") or None
    trigger_ms = ex.arm_countdown(int(timeout), None if pair is None else str(pair))
    return {"triggerTime": str(trigger_ms)}


@router.get("/account/detail")
async def account_detail() -> dict[str, Any]:
    return {"user_id": USER_ID, "ip_whitelist": [], "currency_pairs": [], "key": {"mode": 1},
            "tier": 0, "tier_expire_time": "0001-01-01T00:00:00Z", "copy_trading_role": 0}


@router.get("/spot/fee")
async def spot_fee(request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    rate = fmt(ex.settings.fee_rate)
    return {"user_id": USER_ID, "taker_fee": rate, "maker_fee": rate, "gt_discount": False,
            "gt_taker_fee": "0", "gt_maker_fee": "0", "loan_fee": "0.18", "point_type": "1",
            "currency_pair": q_str(request, "currency_pair") or "", "debit_fee": 3}
