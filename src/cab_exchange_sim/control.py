"""The /_sim control API used by tests and operators (no authentication)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .exchange import Exchange
from .models import GateError, fmt, to_decimal
from .serialize import state_order_json, trade_json, trigger_json
from .web import read_object, sim_of

router = APIRouter(prefix="/_sim")


def bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def balances_json(ex: Exchange) -> dict[str, dict[str, str]]:
    with ex.lock:
        return {c: {"available": fmt(a.available), "locked": fmt(a.locked)}
                for c, a in sorted(ex.engine.accounts.items())}


def snapshot(ex: Exchange) -> dict[str, Any]:
    """Everything a test wants to assert on, as plain JSON."""
    with ex.lock:
        return {
            "time_ms": ex.now(),
            "balances": balances_json(ex),
            "orders": [state_order_json(o) for o in ex.engine.orders.values()],
            "trades": [trade_json(t) for t in ex.engine.trades],
            "trigger_orders": [trigger_json(t, echo_text=True)
                               for t in ex.triggers.orders.values()],
            "prices": {pid: fmt(ex.price(pid)) for pid in ex.pairs},
            "countdown": ex.countdown_json(),
            "faults": ex.settings.to_json(),
        }


def _amounts(raw: Any, what: str) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{what} must be an object")
    out = {}
    for key, value in raw.items():
        number = to_decimal(value, f"{what}.{key}")
        if number < 0:
            raise ValueError(f"{what}.{key} must be >= 0")
        out[str(key)] = number
    return out


@router.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return snapshot(sim_of(request).exchange)


@router.post("/price", response_model=None)
async def set_price(request: Request) -> dict[str, Any] | JSONResponse:
    ex = sim_of(request).exchange
    body = await read_object(request)
    if "advance" in body:
        steps = body["advance"]
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 100_000:
            return bad("advance must be an integer 0..100000")
        return {"prices": {k: fmt(v) for k, v in ex.advance(steps).items()}}
    symbol = body.get("currency_pair") or body.get("symbol")
    if not symbol:
        return bad("currency_pair or symbol is required")
    price = to_decimal(body.get("price"), "price")
    if price <= 0:
        return bad("price must be positive")
    pair_id = str(symbol).replace("/", "_").upper()
    actual = ex.set_price(pair_id, price)
    return {"currency_pair": pair_id, "price": fmt(actual)}


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    """Requests and 429 answers per endpoint and per rate-limit class since the last reset."""
    ex = sim_of(request).exchange
    with ex.lock:
        return ex.requests.to_json(ex.limiter, ex.now())


@router.post("/stats")
async def clear_stats(request: Request) -> dict[str, Any]:
    """{"clear": true} starts the counts afresh (the rate limits keep their windows)."""
    ex = sim_of(request).exchange
    body = await read_object(request)
    with ex.lock:
        if body.get("clear"):
            ex.requests.clear(ex.now())
            ex.limiter.peaks.clear()
        return ex.requests.to_json(ex.limiter, ex.now())


@router.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    return sim_of(request).exchange.settings.to_json()


@router.post("/faults", response_model=None)
async def set_faults(request: Request) -> dict[str, Any] | JSONResponse:
    ex = sim_of(request).exchange
    body = await read_object(request)
    with ex.lock:
        try:
            ex.settings.update(body)
        except ValueError as exc:
            return bad(str(exc))
        return ex.settings.to_json()


@router.post("/balances", response_model=None)
async def set_balances(request: Request) -> dict[str, Any] | JSONResponse:
    ex = sim_of(request).exchange
    body = await read_object(request)
    try:
        ex.set_balances({k.upper(): v for k, v in _amounts(body, "balances").items()})
    except ValueError as exc:
        return bad(str(exc))
    return balances_json(ex)


@router.post("/reset", response_model=None)
async def reset(request: Request) -> dict[str, Any] | JSONResponse:
    ex = sim_of(request).exchange
    body = await read_object(request)
    try:
        balances = body.get("balances")
        prices = body.get("prices")
        ex.reset(
            None if balances is None else {k.upper(): v for k, v in
                                           _amounts(balances, "balances").items()},
            None if prices is None else _amounts(prices, "prices"),
        )
    except ValueError as exc:
        return bad(str(exc))
    except GateError as exc:
        return bad(exc.message)
    return snapshot(ex)


@router.post("/countdown")
async def countdown(request: Request) -> dict[str, Any]:
    """{"fire": true} expires every armed countdown now; the answer lists what it cancelled."""
    ex = sim_of(request).exchange
    body = await read_object(request)
    cancelled = ex.fire_countdowns(only_due=not body.get("fire"))
    return {"cancelled": [str(o.id) for o in cancelled], "countdown": ex.countdown_json()}
