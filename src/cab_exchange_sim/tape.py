"""The public trades tape: real Gate always has one, so the emulator makes one from each pair's
price path (one market trade per slot, deterministic), merged with the account's own trades."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .catalog import usd_price
from .history import PriceHistory
from .models import Pair, Trade, fmt, quantize_down
from .prices import unit
from .serialize import public_trade_json

SLOT_MS = 2_000  # one market trade every 2 s of the price path
TAPE_ID_BASE = 9_000_000_000  # tape ids: TAPE_ID_BASE + slot, apart from the account's own


def tape_row(pair: Pair, history: PriceHistory, slot: int) -> dict[str, Any]:
    """The market trade of a slot, in GET /spot/trades' layout."""
    t_ms = slot * SLOT_MS + int(unit(history.key, "tape-ms", slot) * SLOT_MS)
    usd = Decimal(50) + unit(history.key, "tape-usd", slot) * Decimal(4_950)
    amount = max(quantize_down(usd / usd_price(pair.base), pair.amount_precision), pair.min_base)
    tid = str(TAPE_ID_BASE + slot)
    return {"id": tid, "create_time": str(t_ms // 1000), "create_time_ms": f"{t_ms}.000000",
            "currency_pair": pair.id,
            "side": "buy" if unit(history.key, "tape-side", slot) < Decimal("0.5") else "sell",
            "amount": fmt(amount), "price": fmt(history.price_at(t_ms)), "sequence_id": tid}


def public_trades(pair: Pair, history: PriceHistory, own: list[Trade], now_ms: int, limit: int,
                  from_s: int | None, to_s: int | None) -> list[dict[str, Any]]:
    """The newest `limit` trades up to `to_s` (default now) from `from_s`, newest first."""
    end_ms = now_ms if to_s is None else min(now_ms, to_s * 1000 + 999)
    start_ms = 0 if from_s is None else from_s * 1000
    rows: list[tuple[int, dict[str, Any]]] = []
    slot = end_ms // SLOT_MS
    while len(rows) < limit and slot * SLOT_MS + SLOT_MS > start_ms:
        row = tape_row(pair, history, slot)
        t_ms = int(row["create_time_ms"].split(".")[0])
        if start_ms <= t_ms <= end_ms:
            rows.append((t_ms, row))
        slot -= 1
    rows += [(t.create_ms, public_trade_json(t)) for t in own
             if t.pair == pair.id and start_ms <= t.create_ms <= end_ms]
    rows.sort(key=lambda r: r[0], reverse=True)
    return [row for _, row in rows[:limit]]
