"""Public market data under /api/v4 (no signature)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request

from . import tape
from .catalog import usd_price
from .history import INTERVALS, candles, stats_24h
from .models import GateError, Pair, fmt, quantize_down
from .prices import unit
from .serialize import currency_json, pair_json
from .web import q_int, q_str, sim_of

router = APIRouter()


@router.get("/spot/currencies")
async def currencies(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    codes = sorted({c for p in ex.pairs.values() for c in (p.base, p.quote)})
    return [currency_json(c) for c in codes]


@router.get("/spot/currencies/{currency}")
async def currency(currency: str, request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    codes = {c for p in ex.pairs.values() for c in (p.base, p.quote)}
    if currency.upper() not in codes:
        raise GateError("INVALID_CURRENCY", f"Invalid currency {currency}")
    return currency_json(currency.upper())


@router.get("/spot/currency_pairs")
async def currency_pairs(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    return [pair_json(p, ex.settings.fee_rate) for p in ex.pairs.values()]


@router.get("/spot/currency_pairs/{pair_id}")
async def currency_pair(pair_id: str, request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    return pair_json(ex.pair(pair_id), ex.settings.fee_rate)


@router.get("/margin/currency_pairs")
async def margin_pairs() -> list[dict[str, Any]]:
    return []


@router.get("/spot/time")
async def server_time(request: Request) -> dict[str, int]:
    return {"server_time": sim_of(request).exchange.now()}


def _ticker(request: Request, pair: Pair) -> dict[str, Any]:
    ex = sim_of(request).exchange
    last = ex.price(pair.id)
    stats = stats_24h(ex.feed.histories[pair.id], ex.now())
    change = (last - stats["open"]) / stats["open"] * 100 if stats["open"] else Decimal(0)
    return {
        "currency_pair": pair.id,
        "last": fmt(last),
        "lowest_ask": fmt(last + pair.tick),
        "lowest_size": fmt(_size(pair, "ask", 1, last)),
        "highest_bid": fmt(max(last - pair.tick, pair.tick)),
        "highest_size": fmt(_size(pair, "bid", 1, last)),
        "change_percentage": fmt(change.quantize(Decimal("0.01"))),
        "base_volume": fmt(stats["base_volume"]),
        "quote_volume": fmt(stats["quote_volume"]),
        "high_24h": fmt(max(stats["high"], last)),
        "low_24h": fmt(min(stats["low"], last)),
    }


@router.get("/spot/tickers")
async def tickers(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    wanted = q_str(request, "currency_pair")
    with ex.lock:
        if wanted is not None:
            return [_ticker(request, ex.pair(wanted))]
        return [_ticker(request, p) for p in ex.pairs.values()]


def _size(pair: Pair, side: str, level: int, price: Decimal) -> Decimal:
    notional = Decimal(2_000) / usd_price(pair.base) * (Decimal("0.2") + unit(pair.id, side, level))
    return max(quantize_down(notional * level, pair.amount_precision), pair.min_base)


@router.get("/spot/order_book")
async def order_book(request: Request) -> dict[str, Any]:
    ex = sim_of(request).exchange
    with ex.lock:
        pair = ex.pair(q_str(request, "currency_pair"))
        limit = q_int(request, "limit", 10, low=1, high=1000) or 10
        last = ex.price(pair.id)
        now = ex.now()
    step = max(pair.tick, pair.round_price(last * Decimal("0.0001")))
    asks, bids = [], []
    for level in range(1, min(limit, 100) + 1):
        ask = last + pair.tick + step * (level - 1)
        bid = last - pair.tick - step * (level - 1)
        asks.append([fmt(ask), fmt(_size(pair, "ask", level, last))])
        if bid > 0:
            bids.append([fmt(bid), fmt(_size(pair, "bid", level, last))])
    return {"id": now, "current": now, "update": now, "asks": asks, "bids": bids}


@router.get("/spot/candlesticks")
async def candlesticks(request: Request) -> list[list[str]]:
    ex = sim_of(request).exchange
    interval = q_str(request, "interval") or "30m"
    if interval not in INTERVALS:
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: interval {interval}")
    limit = q_int(request, "limit", None, low=1, high=1000)
    from_s = q_int(request, "from", None)
    to_s = q_int(request, "to", None)
    if limit is not None and (from_s is not None and to_s is not None):
        raise GateError("INVALID_PARAM_VALUE", "limit is conflicted with from and to")
    with ex.lock:
        pair = ex.pair(q_str(request, "currency_pair"))
        return candles(ex.feed.histories[pair.id], INTERVALS[interval], ex.now(), limit,
                       from_s, to_s)


@router.get("/spot/trades")
async def public_trades(request: Request) -> list[dict[str, Any]]:
    ex = sim_of(request).exchange
    with ex.lock:
        pair = ex.pair(q_str(request, "currency_pair"))
        limit = q_int(request, "limit", 100, low=1, high=1000) or 100
        return tape.public_trades(pair, ex.feed.histories[pair.id], ex.engine.trades, ex.now(),
                                  limit, q_int(request, "from"), q_int(request, "to"))
