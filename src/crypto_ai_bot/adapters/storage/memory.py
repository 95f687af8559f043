"""Repositories held in this process's memory, for backtests only.

A backtest's database is thrown away when the run ends and nothing else reads it, so the
orders, fills, idempotency keys, positions and small state of a run can live in dicts: the SQL
repositories' twelve statements per order were most of a backtest's time. Each class here
subclasses its SQL twin and overrides every method that touches the database, with the same
meaning (tests/unit/adapters/storage runs one contract against both, and a backtest over a real
SQLite file gives the same trades).

What memory cannot give: a transaction does not roll these back, and a crash loses them. The
trading process therefore always writes through to SQLite (Repositories.over).
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import TypeVar

from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.idempotency import IdempotencyRepository
from crypto_ai_bot.adapters.storage.sqlite.orders import OrderRecord, OrdersRepository, advanced
from crypto_ai_bot.adapters.storage.sqlite.positions import PositionsRepository
from crypto_ai_bot.adapters.storage.sqlite.state import (
    TRADING_REASON_KEY,
    TRADING_STATE_KEY,
    StateRepository,
)
from crypto_ai_bot.adapters.storage.sqlite.trades import TradeRecord, TradesRepository
from crypto_ai_bot.domain.model import (
    Balance,
    FillReport,
    Intent,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TradingState,
)

_REJECTED = OrderStatus.REJECTED


K = TypeVar("K", tuple[int, int], tuple[int, int, str])  # (time, recording #[, id])


def _place(keys: list[K], key: K) -> int:
    """Put key into the sorted list keys; its index. Records come in time order, so the
    usual place is the end, found without a search."""
    if not keys or keys[-1] <= key:
        keys.append(key)
        return len(keys) - 1
    i = bisect.bisect(keys, key)
    keys.insert(i, key)
    return i


class MemoryOrdersRepository(OrdersRepository):
    """Orders by client order id, and in (created_ms, recording) order overall and per symbol,
    the order of the SQL's ORDER BY created_ms, rowid: time queries look at their span only."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._by_cid: dict[str, OrderRecord] = {}
        self._open: dict[str, OrderRecord] = {}  # not final, in recording order
        self._key_uses: dict[str, int] = {}
        self._all: list[tuple[int, int, str]] = []  # (created_ms, recording #, cid), sorted
        self._by_symbol: dict[str, list[tuple[int, int, str]]] = {}

    def insert_pending(
        self,
        *,
        client_order_id: str,
        symbol: str,
        side: Side,
        type: OrderType,
        intent: Intent,
        amount: Decimal | None,
        cost: Decimal | None,
        price: Decimal | None,
        idempotency_key: str,
        reason: str,
        now_ms: int,
    ) -> None:
        if client_order_id in self._by_cid:
            raise KeyError(f"order {client_order_id} already recorded")
        rec = OrderRecord(
            client_order_id, "", symbol, side, type, intent, amount, cost, price,
            OrderStatus.PENDING_SUBMIT, Decimal(0), None, Decimal(0), "", idempotency_key,
            reason, "", now_ms, now_ms,
        )
        self._by_cid[client_order_id] = self._open[client_order_id] = rec
        self._key_uses[idempotency_key] = self._key_uses.get(idempotency_key, 0) + 1
        at = (now_ms, len(self._all), client_order_id)
        _place(self._all, at)
        _place(self._by_symbol.setdefault(symbol, []), at)

    def get(self, client_order_id: str) -> OrderRecord | None:
        return self._by_cid.get(client_order_id)

    def update(
        self,
        client_order_id: str,
        status: OrderStatus,
        now_ms: int,
        *,
        exchange_order_id: str | None = None,
        filled: Decimal | None = None,
        avg_price: Decimal | None = None,
        fee: Decimal | None = None,
        fee_currency: str | None = None,
        error: str | None = None,
        current: OrderRecord | None = None,  # spares the SQL twin a read; a read is free here
    ) -> OrderRecord:
        current = self._by_cid.get(client_order_id)
        if current is None:
            raise KeyError(client_order_id)
        updated = advanced(
            current, status, now_ms, exchange_order_id=exchange_order_id, filled=filled,
            avg_price=avg_price, fee=fee, fee_currency=fee_currency, error=error,
        )
        self._by_cid[client_order_id] = updated
        if updated.status.is_final:
            self._open.pop(client_order_id, None)
        else:
            self._open[client_order_id] = updated
        return updated

    def not_final(self, symbol: str | None = None) -> list[OrderRecord]:
        if not self._open:
            return []
        found = [r for r in self._open.values() if not symbol or r.symbol == symbol]
        return sorted(found, key=lambda r: r.created_ms)

    def _since(self, since_ms: int, symbol: str | None) -> list[OrderRecord]:
        """Orders created at or after since_ms, oldest first."""
        keys = self._by_symbol.get(symbol, []) if symbol else self._all
        first = bisect.bisect_left(keys, (since_ms,))
        return [self._by_cid[cid] for _, _, cid in keys[first:]]

    def closed_with_error(self, symbol: str, error: str, since_ms: int) -> list[OrderRecord]:
        return [r for r in self._since(since_ms, symbol)
                if r.error == error and r.status.is_final]

    def recent(self, limit: int = 50, symbol: str | None = None) -> list[OrderRecord]:
        keys = self._by_symbol.get(symbol, []) if symbol else self._all
        return [self._by_cid[cid] for _, _, cid in reversed(keys[-limit:])] if limit > 0 else []

    def count_since(self, since_ms: int, symbol: str | None = None) -> int:
        return sum(1 for r in self._since(since_ms, symbol) if r.status is not _REJECTED)

    def last_created_ms(
        self, symbol: str, intent: Intent | None = None, *, include_rejected: bool = False
    ) -> int | None:
        for _, _, cid in reversed(self._by_symbol.get(symbol, [])):  # newest first
            r = self._by_cid[cid]
            if (intent is None or r.intent is intent) and (
                    include_rejected or r.status is not _REJECTED):
                return r.created_ms
        return None

    def count_with_key(self, idempotency_key: str) -> int:
        return self._key_uses.get(idempotency_key, 0)

    def count(self) -> int:
        return len(self._by_cid)


class MemoryTradesRepository(TradesRepository):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._keys: set[tuple[str, str]] = set()
        self._trades: list[TradeRecord] = []  # by (ts_ms, insertion), as the SQL orders them
        self._order: list[tuple[int, int]] = []

    def exists(self, exchange: str, trade_id: str) -> bool:
        return (exchange, trade_id) in self._keys

    def add(self, exchange: str, fill: FillReport, realized_pnl: Decimal) -> bool:
        key = (exchange, fill.trade_id)
        if key in self._keys:
            return False
        self._keys.add(key)
        rec = TradeRecord(
            exchange, fill.trade_id, fill.client_order_id, fill.exchange_order_id, fill.symbol,
            fill.side, fill.price, fill.amount, fill.fee, fill.fee_currency, realized_pnl,
            fill.ts_ms,
        )
        self._trades.insert(_place(self._order, (fill.ts_ms, len(self._order))), rec)
        return True

    def _span(self, start_ms: int, end_ms: int) -> list[TradeRecord]:
        lo = bisect.bisect_left(self._order, (start_ms, -1))
        hi = bisect.bisect_left(self._order, (end_ms, -1))
        return self._trades[lo:hi]

    def for_order(self, client_order_id: str) -> list[TradeRecord]:
        return [t for t in self._trades if t.client_order_id == client_order_id]

    def between(self, start_ms: int, end_ms: int, symbol: str | None = None) -> list[TradeRecord]:
        return [t for t in self._span(start_ms, end_ms) if not symbol or t.symbol == symbol]

    def realized_pnl_between(self, start_ms: int, end_ms: int) -> Decimal:
        return sum((t.realized_pnl for t in self._span(start_ms, end_ms)), Decimal(0))

    def count(self) -> int:
        return len(self._trades)


class MemoryIdempotencyRepository(IdempotencyRepository):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._keys: dict[str, tuple[str, int]] = {}  # key -> (client order id, expires_ms)

    def claim(self, key: str, client_order_id: str, now_ms: int, ttl_ms: int) -> bool:
        held = self._keys.get(key)
        if held is not None and held[1] > now_ms:
            return False
        self._keys[key] = (client_order_id, now_ms + ttl_ms)
        return True

    def release(self, key: str) -> None:
        self._keys.pop(key, None)

    def purge_expired(self, now_ms: int) -> int:
        gone = [k for k, (_, expires) in self._keys.items() if expires <= now_ms]
        for k in gone:
            del self._keys[k]
        return len(gone)

    def client_order_id(self, key: str) -> str | None:
        held = self._keys.get(key)
        return held[0] if held is not None else None

    def exists(self, key: str) -> bool:
        return key in self._keys


class MemoryStateRepository(StateRepository):
    """The trading state and the balance snapshot: asked for on every entry."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._kv: dict[str, str] = {}
        self._balances: dict[str, Balance] = {}

    def get(self, key: str, default: str = "") -> str:
        return self._kv.get(key, default)

    def set(self, key: str, value: str, now_ms: int) -> None:
        self._kv[key] = value

    def set_trading_state(self, state: TradingState, reason: str, now_ms: int) -> None:
        self.set(TRADING_STATE_KEY, state.value, now_ms)
        self.set(TRADING_REASON_KEY, reason, now_ms)

    def save_balances(self, balances: dict[str, Balance], now_ms: int) -> None:
        self._balances.update(balances)

    def balances(self) -> dict[str, Balance]:
        return dict(sorted(self._balances.items()))


class MemoryPositionsRepository(PositionsRepository):
    """Reads return copies, as from SQL: a change counts once it is saved."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._positions: dict[str, Position] = {}

    def get(self, symbol: str) -> Position:
        held = self._positions.get(symbol)
        return held.copy() if held is not None else Position(symbol=symbol)

    def save(self, p: Position) -> None:
        self._positions[p.symbol] = p.copy()

    def all(self) -> list[Position]:
        return [p.copy() for _, p in sorted(self._positions.items())]
