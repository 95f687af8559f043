"""Signed spot endpoints: accounts, orders, amendments, cancels and my trades."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request

from .models import GateError, to_decimal
from .serialize import account_json, order_json, trade_json
from .web import Simulator, pick, private, q_int, q_str, read_json, read_object, sim_of

router = APIRouter(dependencies=[Depends(private)])
DAY_S = 86_400


def _check_order_rate(request: Request, sim: Simulator, pair_id: str) -> None:
    """Gate: 10 placements/amendments per second per market; over it answers 429."""
    ex = sim.exchange
    window = ex.limiter.hit(f"orders:{pair_id}", ex.settings.order_rate_limit, 1000, ex.now())
    if window.limit:
        request.state.rate = window
    if not window.allowed:
        raise GateError("TOO_MANY_REQUESTS", "Request Rate limit Exceeded", 429)


@router.get("/spot/accounts")
async def accounts(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    wanted = q_str(request, "currency")
    with ex.lock:
        codes = {c for p in ex.pairs.values() for c in (p.base, p.quote)}
        codes |= set(ex.engine.accounts)
        return [account_json(c, ex.engine.account(c)) for c in sorted(codes)
                if wanted in (None, c)]


@router.post("/spot/orders")
async def create_order(request: Request) -> dict[str, Any]:
    sim = sim_of(request)
    ex = sim.exchange
    body = await read_object(request)
    account = str(body.get("account") or "spot")
    if account not in ("spot", "unified"):
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: account {account}")
    with ex.lock:
        pair = ex.pair(body.get("currency_pair"))
        _check_order_rate(request, sim, pair.id)
        price = body.get("price")
        order = ex.place_order(
            pair.id, str(body.get("side", "")), str(body.get("type") or "limit"),
            to_decimal(body.get("amount"), "amount"),
            None if price in (None, "") else to_decimal(price, "price"),
            None if body.get("time_in_force") is None else str(body["time_in_force"]),
            None if body.get("text") is None else str(body["text"]),
        )
        answer = order_json(order)
        lose = ex.settings.take("lose_next_orders")
        delay = ex.settings.lose_delay_ms
    if lose:  # executed on the book, but the answer comes too late for the client
        await asyncio.sleep(delay / 1000)
    return answer


@router.get("/spot/orders")
async def list_orders(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    status = q_str(request, "status")
    if status not in ("open", "finished"):
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: status")
    page = q_int(request, "page", 1, low=1) or 1
    limit = q_int(request, "limit", 100, low=1, high=100 if status == "open" else 1000) or 100
    from_s, to_s = q_int(request, "from"), q_int(request, "to")
    side = q_str(request, "side")
    with ex.lock:
        pair_id = q_str(request, "currency_pair")
        pair_id = ex.pair(pair_id).id if pair_id else None
        rows = [o for o in ex.engine.orders.values()
                if (o.is_open == (status == "open")) and pair_id in (None, o.pair)
                and side in (None, o.side)
                and (from_s is None or o.create_ms >= from_s * 1000)
                and (to_s is None or o.create_ms <= to_s * 1000)]
        rows.sort(key=lambda o: o.id, reverse=status == "finished")
        return [order_json(o) for o in rows[(page - 1) * limit: page * limit]]


@router.get("/spot/open_orders")
async def open_orders(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    page = q_int(request, "page", 1, low=1) or 1
    limit = q_int(request, "limit", 100, low=1, high=100) or 100
    with ex.lock:
        wanted = q_str(request, "currency_pair")
        groups: dict[str, list[dict[str, Any]]] = {}
        for order in ex.engine.open_orders(ex.pair(wanted).id if wanted else None):
            groups.setdefault(order.pair, []).append(order_json(order))
        items = sorted(groups.items())[(page - 1) * limit: page * limit]
        return [{"currency_pair": pid, "total": len(rows), "orders": rows[:limit]}
                for pid, rows in items]


@router.get("/spot/orders/{order_id}")
async def get_order(order_id: str, request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    with ex.lock:
        pair_id = q_str(request, "currency_pair")
        pair_id = ex.pair(pair_id).id if pair_id else None
        return order_json(ex.engine.find(pair_id, order_id))


@router.delete("/spot/orders/{order_id}")
async def cancel_order(order_id: str, request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    with ex.lock:
        pair_id = q_str(request, "currency_pair")
        pair_id = ex.pair(pair_id).id if pair_id else None
        return order_json(ex.engine.cancel(pair_id, order_id, ex.now()))


@router.delete("/spot/orders")
async def cancel_all(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    side = q_str(request, "side")
    if side not in (None, "buy", "sell"):
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: side")
    with ex.lock:
        pair_id = q_str(request, "currency_pair")
        pair_id = ex.pair(pair_id).id if pair_id else None
        done = ex.engine.cancel_all(pair_id, side, ex.now())
        return [{**order_json(o), "succeeded": True} for o in done]


@router.post("/spot/cancel_batch_orders")
async def cancel_batch(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    items = await read_json(request)
    if not isinstance(items, list) or len(items) > 20:
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: at most 20 orders")
    out = []
    with ex.lock:
        for item in items:
            if not isinstance(item, dict):
                raise GateError("INVALID_REQUEST_BODY", "Invalid request body")
            pair_id, ref = str(item.get("currency_pair", "")), str(item.get("id", ""))
            row: dict[str, Any] = {"currency_pair": pair_id, "id": ref, "account": "spot"}
            try:
                order = ex.engine.cancel(ex.pair(pair_id).id, ref, ex.now())
            except GateError as exc:
                row.update(succeeded=False, label=exc.label, message=exc.message, text="")
            else:
                row.update(order_json(order), succeeded=True, label="", message="")
            out.append(row)
    return out


@router.patch("/spot/orders/{order_id}")
async def amend_order(order_id: str, request: Request) -> dict[str, Any]:
    sim = sim_of(request)
    ex = sim.exchange
    body = await read_object(request)
    amount, price = pick(body, request, "amount"), pick(body, request, "price")
    with ex.lock:
        pair = ex.pair(pick(body, request, "currency_pair"))
        _check_order_rate(request, sim, pair.id)
        order = ex.engine.amend(
            pair, order_id,
            None if amount in (None, "") else to_decimal(amount, "amount"),
            None if price in (None, "") else to_decimal(price, "price"),
            ex.price(pair.id), ex.now(), pick(body, request, "amend_text"),
        )
        return order_json(order)


@router.get("/spot/my_trades")
async def my_trades(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    limit = q_int(request, "limit", 100, low=1, high=1000) or 100
    page = q_int(request, "page", 1, low=1) or 1
    from_s, to_s = q_int(request, "from"), q_int(request, "to")
    order_id = q_str(request, "order_id")
    with ex.lock:
        now_s = ex.now() // 1000
        to_s = now_s if to_s is None else to_s
        from_s = to_s - 7 * DAY_S if from_s is None else from_s
        if to_s - from_s > 30 * DAY_S:
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: time range over 30 days")
        pair_id = q_str(request, "currency_pair")
        pair_id = ex.pair(pair_id).id if pair_id else None
        rows = [t for t in ex.engine.trades
                if pair_id in (None, t.pair) and order_id in (None, str(t.order_id))
                and from_s * 1000 <= t.create_ms <= to_s * 1000 + 999]
        rows.reverse()
        return [trade_json(t) for t in rows[(page - 1) * limit: page * limit]]
