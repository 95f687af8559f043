"""The storage port in this process's memory, for backtests only.

A backtest's records are thrown away when the run ends and nothing else reads them, so they
can live in dicts: the SQL repositories' twelve statements per order were most of a backtest's
time. Each class implements its Protocol in ports/storage.py with the meaning of its SQLite
twin and shares nothing with it (tests/unit/adapters/storage runs one contract against both,
and a backtest over a real SQLite file gives the same trades).

What memory cannot give: a transaction does not roll these back, and a crash loses them. The
trading process therefore always writes through to SQLite (SqliteRepositories).
"""

from __future__ import annotations

import bisect
import dataclasses
import json
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from decimal import Decimal
from typing import Any, TypeVar

from crypto_ai_bot.domain.model import (
    Balance,
    Candle,
    FillReport,
    Intent,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TradingState,
)
from crypto_ai_bot.domain.orders import (
    OrderEvent,
    OrderEventRecord,
    OrderRecord,
    advance,
    new_record,
)
from crypto_ai_bot.ports.storage import (
    STOP_ACTIVE,
    TRADING_REASON_KEY,
    TRADING_STATE_KEY,
    AuditRecord,
    SeriesSummary,
    StopRecord,
    TradeRecord,
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


class MemoryOrders:
    """Orders by client order id, and in (created_ms, recording) order overall and per symbol,
    the order of the SQL's ORDER BY created_ms, rowid: time queries look at their span only."""

    def __init__(self) -> None:
        self._by_cid: dict[str, OrderRecord] = {}
        self._events: dict[str, list[OrderEventRecord]] = {}
        self._open: dict[str, OrderRecord] = {}  # not final, in recording order
        self._key_uses: dict[str, int] = {}
        self._all: list[tuple[int, int, str]] = []  # (created_ms, recording #, cid), sorted
        self._by_symbol: dict[str, list[tuple[int, int, str]]] = {}

    def insert(
        self,
        event: OrderEvent,
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
    ) -> OrderRecord:
        if client_order_id in self._by_cid:
            raise KeyError(f"order {client_order_id} already recorded")
        rec = new_record(
            event, client_order_id=client_order_id, symbol=symbol, side=side, type=type,
            intent=intent, amount=amount, cost=cost, price=price,
            idempotency_key=idempotency_key, reason=reason, now_ms=now_ms,
        )
        self._by_cid[client_order_id] = self._open[client_order_id] = rec
        self._events[client_order_id] = [
            OrderEventRecord(client_order_id, now_ms, event, rec.status, rec.filled)]
        self._key_uses[idempotency_key] = self._key_uses.get(idempotency_key, 0) + 1
        at = (now_ms, len(self._all), client_order_id)
        _place(self._all, at)
        _place(self._by_symbol.setdefault(symbol, []), at)
        return rec

    def get(self, client_order_id: str) -> OrderRecord | None:
        return self._by_cid.get(client_order_id)

    def apply(
        self,
        client_order_id: str,
        event: OrderEvent,
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
        updated = advance(
            current, event, now_ms, exchange_order_id=exchange_order_id, filled=filled,
            avg_price=avg_price, fee=fee, fee_currency=fee_currency, error=error,
        )
        self._events[client_order_id].append(OrderEventRecord(
            client_order_id, now_ms, event, updated.status, updated.filled, error or ""))
        if updated is current:
            return current
        self._by_cid[client_order_id] = updated
        if updated.status.is_final:
            self._open.pop(client_order_id, None)
        else:
            self._open[client_order_id] = updated
        return updated

    def events(self, client_order_id: str) -> list[OrderEventRecord]:
        return list(self._events.get(client_order_id, ()))

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


class MemoryTrades:
    def __init__(self) -> None:
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


class MemoryIdempotency:
    def __init__(self) -> None:
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




class MemoryState:
    """The trading state and the balance snapshot: asked for on every entry."""

    def __init__(self) -> None:
        self._kv: dict[str, str] = {}
        self._balances: dict[str, Balance] = {}

    def get(self, key: str, default: str = "") -> str:
        return self._kv.get(key, default)

    def set(self, key: str, value: str, now_ms: int) -> None:
        self._kv[key] = value

    def trading_state(self) -> TradingState:
        value = self._kv.get(TRADING_STATE_KEY)  # the risk gate asks on every entry
        return TradingState.ACTIVE if value is None else TradingState(value)

    def trading_state_reason(self) -> str:
        return self._kv.get(TRADING_REASON_KEY, "")

    def set_trading_state(self, state: TradingState, reason: str, now_ms: int) -> None:
        self.set(TRADING_STATE_KEY, state.value, now_ms)
        self.set(TRADING_REASON_KEY, reason, now_ms)

    def save_balances(self, balances: dict[str, Balance], now_ms: int) -> None:
        self._balances.update(balances)

    def balances(self) -> dict[str, Balance]:
        return dict(sorted(self._balances.items()))


class MemoryPositions:
    """Reads return copies, as from SQL: a change counts once it is saved."""

    def __init__(self) -> None:
        self._positions: dict[str, Position] = {}

    def get(self, symbol: str) -> Position:
        held = self._positions.get(symbol)
        return held.copy() if held is not None else Position(symbol=symbol)

    def save(self, p: Position) -> None:
        self._positions[p.symbol] = p.copy()

    def all(self) -> list[Position]:
        return [p.copy() for _, p in sorted(self._positions.items())]

    def without_stop(self) -> list[tuple[str, Decimal]]:
        return [(s, p.base_amount) for s, p in sorted(self._positions.items())
                if not p.stop_order_id and p.base_amount > 0]


class MemoryAudit:
    """The audit log in a list; payloads kept as their JSON round trip gives them back."""

    def __init__(self) -> None:
        self._records: list[AuditRecord] = []

    def record(self, ts_ms: int, topic: str, payload: dict[str, Any], symbol: str = "") -> None:
        kept = json.loads(json.dumps(payload, default=str, sort_keys=True))
        self._records.append(AuditRecord(ts_ms, topic, symbol, kept, len(self._records) + 1))

    def recent(self, limit: int = 100, topic: str | None = None) -> list[AuditRecord]:
        found = [r for r in reversed(self._records) if topic is None or r.topic == topic]
        return found[:limit]

    def query(
        self, limit: int = 100, *, topic: str | None = None, symbol: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        end = len(self._records) if before_id is None else max(min(before_id - 1,
                                                                   len(self._records)), 0)
        found = [r for r in reversed(self._records[:end])
                 if (not topic or r.topic == topic) and (not symbol or r.symbol == symbol)]
        return found[:max(limit, 0)]

    def count(self, topic: str | None = None) -> int:
        return sum(1 for r in self._records if topic is None or r.topic == topic)


class MemoryMarketData:
    """Candles per (symbol, timeframe), by open time; a later candle replaces an earlier one."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], dict[int, Candle]] = {}

    def upsert(self, symbol: str, timeframe: str, candles: Iterable[Candle]) -> int:
        held = self._series.setdefault((symbol, timeframe), {})
        n = 0
        for c in candles:
            held[c.ts_ms] = c
            n += 1
        return n

    def candles(
        self, symbol: str, timeframe: str, start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        held = self._series.get((symbol, timeframe), {})
        return [held[t] for t in sorted(held)
                if (start_ms is None or t >= start_ms) and (end_ms is None or t < end_ms)]

    def last_ts(self, symbol: str, timeframe: str) -> int | None:
        held = self._series.get((symbol, timeframe))
        return max(held) if held else None

    def series(self) -> list[SeriesSummary]:
        return [SeriesSummary(s, tf, min(held), max(held), len(held))
                for (s, tf), held in sorted(self._series.items()) if held]

    def timestamps(self, symbol: str, timeframe: str) -> list[int]:
        return sorted(self._series.get((symbol, timeframe), {}))


class MemoryStops:
    """Stop records by id; a change replaces the frozen record."""

    def __init__(self) -> None:
        self._stops: dict[int, StopRecord] = {}

    def record(
        self, *, symbol: str, rule: str, trigger_price: Decimal, limit_price: Decimal,
        amount: Decimal, expiration_sec: int, now_ms: int,
    ) -> StopRecord:
        rec = StopRecord(len(self._stops) + 1, symbol, rule, trigger_price, limit_price, amount,
                         expiration_sec, now_ms, "", "recorded", now_ms)
        self._stops[rec.id] = rec
        return rec

    def placed(self, record_id: int, exchange_id: str, now_ms: int) -> None:
        if record_id in self._stops:
            self._stops[record_id] = dataclasses.replace(
                self._stops[record_id], exchange_id=exchange_id, status="placed",
                updated_ms=now_ms)

    def finish(self, record_id: int, status: str, now_ms: int) -> None:
        if record_id in self._stops:
            self._stops[record_id] = dataclasses.replace(
                self._stops[record_id], status=status, updated_ms=now_ms)

    def get(self, record_id: int) -> StopRecord | None:
        return self._stops.get(record_id)

    def by_exchange_id(self, exchange_id: str) -> StopRecord | None:
        found = [r for r in self._stops.values() if exchange_id and r.exchange_id == exchange_id]
        return found[-1] if found else None

    def active(self, symbol: str | None = None) -> list[StopRecord]:
        return [r for r in self._stops.values()
                if r.status in STOP_ACTIVE and symbol in (None, r.symbol)]

    def exchange_ids(self, symbol: str) -> set[str]:
        return {r.exchange_id for r in self._stops.values()
                if r.symbol == symbol and r.exchange_id}


_NOTHING: AbstractContextManager[None] = nullcontext()  # reusable: it keeps no state


class MemoryRepositories:
    """The unit of work in memory: a transaction commits nothing and rolls nothing back."""

    __slots__ = ("audit", "idempotency", "market_data", "orders", "positions", "state", "stops",
                 "trades")

    def __init__(self) -> None:
        self.orders = MemoryOrders()
        self.trades = MemoryTrades()
        self.positions = MemoryPositions()
        self.idempotency = MemoryIdempotency()
        self.audit = MemoryAudit()
        self.state = MemoryState()
        self.market_data = MemoryMarketData()
        self.stops = MemoryStops()

    def transaction(self) -> AbstractContextManager[None]:
        return _NOTHING
