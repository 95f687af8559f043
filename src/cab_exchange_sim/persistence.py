"""Optional --state-file: balances, orders, trades, trigger orders and prices survive a restart."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from .exchange import Exchange
from .models import Account, Order, Trade, TriggerOrder, fmt

VERSION = 1
_last_written: dict[str, str] = {}


def _plain(value: Any) -> Any:
    return fmt(value) if isinstance(value, Decimal) else value


def _row(obj: Order | Trade | TriggerOrder) -> dict[str, Any]:
    return {k: _plain(v) for k, v in asdict(obj).items()}


def _decode(cls: type[Any], row: dict[str, Any]) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name in row:
            value = row[f.name]
            kwargs[f.name] = Decimal(value) if f.type in ("Decimal", Decimal) else value
    return cls(**kwargs)


def dump(ex: Exchange) -> dict[str, Any]:
    with ex.lock:
        engine = ex.engine
        return {
            "version": VERSION,
            "balances": {c: [fmt(a.available), fmt(a.locked)] for c, a in engine.accounts.items()},
            "orders": [_row(o) for o in engine.orders.values()],
            "trades": [_row(t) for t in engine.trades],
            "triggers": [_row(t) for t in ex.triggers.orders.values()],
            "countdowns": ex.countdowns,
            "prices": {pid: fmt(ex.price(pid)) for pid in ex.pairs},
            "next_ids": [engine.next_order_id, engine.next_trade_id, ex.triggers.next_id],
        }


def restore(ex: Exchange, data: dict[str, Any]) -> None:
    """Load a dump into a fresh exchange (prices restart from the saved last prices)."""
    if data.get("version") != VERSION:
        raise ValueError("unsupported state file version")
    with ex.lock:
        engine = ex.engine
        engine.clear()
        for code, (available, locked) in data["balances"].items():
            engine.accounts[code] = Account(Decimal(available), Decimal(locked))
        for row in data["orders"]:
            order: Order = _decode(Order, row)
            engine.orders[order.id] = order
        engine.trades = [_decode(Trade, row) for row in data["trades"]]
        ex.triggers.orders = {int(r["id"]): _decode(TriggerOrder, r) for r in data["triggers"]}
        ex.countdowns = {str(k): int(v) for k, v in data["countdowns"].items()}
        engine.next_order_id, engine.next_trade_id, ex.triggers.next_id = data["next_ids"]
        prices = {k: Decimal(v) for k, v in data["prices"].items() if k in ex.pairs}
        ex.feed.reset(prices, ex.now())


def save(ex: Exchange, path: str) -> None:
    """Write the state atomically, only when it changed."""
    text = json.dumps(dump(ex), sort_keys=True)
    if _last_written.get(path) == text:
        return
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    _last_written[path] = text


def load(ex: Exchange, path: str) -> bool:
    """Restore from `path` if it exists; returns whether it did."""
    target = Path(path)
    if not target.is_file():
        return False
    restore(ex, json.loads(target.read_text(encoding="utf-8")))
    _last_written[path] = target.read_text(encoding="utf-8")
    return True
