"""Orders as the bot recorded them, moved through the transition table."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row
from crypto_ai_bot.domain.model import Intent, OrderStatus, OrderType, Side
from crypto_ai_bot.domain.order_fsm import transition


class OrderRecord(NamedTuple):
    """An order as the bot recorded it. Immutable; a NamedTuple, as are the exchange's reports
    (domain.py), because a frozen dataclass of this size takes ten times longer to build."""

    client_order_id: str
    exchange_order_id: str
    symbol: str
    side: Side
    type: OrderType
    intent: Intent
    amount: Decimal | None
    cost: Decimal | None
    price: Decimal | None
    status: OrderStatus
    filled: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str
    idempotency_key: str
    reason: str
    error: str
    created_ms: int
    updated_ms: int


# Literal, so that SQLite uses the partial index orders_not_final (migration 0002).
_NOT_FINAL_SQL = "status IN ('PENDING_SUBMIT','OPEN','PARTIALLY_FILLED','UNKNOWN')"
assert {s.value for s in OrderStatus if not s.is_final} == {
    "PENDING_SUBMIT", "OPEN", "PARTIALLY_FILLED", "UNKNOWN"
}


def advanced(
    current: OrderRecord,
    status: OrderStatus,
    now_ms: int,
    *,
    exchange_order_id: str | None = None,
    filled: Decimal | None = None,
    avg_price: Decimal | None = None,
    fee: Decimal | None = None,
    fee_currency: str | None = None,
    error: str | None = None,
) -> OrderRecord:
    """The record moved to `status` (through the transition table) with what changed; None
    keeps a field. Built field by field: dataclasses.replace costs several times more."""
    c = current
    return OrderRecord(
        c.client_order_id, exchange_order_id or c.exchange_order_id, c.symbol, c.side, c.type,
        c.intent, c.amount, c.cost, c.price, transition(c.status, status),
        c.filled if filled is None else filled,
        c.avg_price if avg_price is None else avg_price,
        c.fee if fee is None else fee,
        c.fee_currency if fee_currency is None else fee_currency,
        c.idempotency_key, c.reason, c.error if error is None else error, c.created_ms, now_ms,
    )


def _dec(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


_SIDES = {m.value: m for m in Side}
_TYPES = {m.value: m for m in OrderType}
_INTENTS = {m.value: m for m in Intent}
_STATUSES = {m.value: m for m in OrderStatus}


def _record(r: Row) -> OrderRecord:
    return OrderRecord(
        client_order_id=r["client_order_id"],
        exchange_order_id=r["exchange_order_id"] or "",
        symbol=r["symbol"],
        side=_SIDES[r["side"]],
        type=_TYPES[r["type"]],
        intent=_INTENTS[r["intent"]],
        amount=_dec(r["amount"]),
        cost=_dec(r["cost"]),
        price=_dec(r["price"]),
        status=_STATUSES[r["status"]],
        filled=Decimal(r["filled"]),
        avg_price=_dec(r["avg_price"]),
        fee=Decimal(r["fee"]),
        fee_currency=r["fee_currency"],
        idempotency_key=r["idempotency_key"],
        reason=r["reason"],
        error=r["error"],
        created_ms=r["created_ms"],
        updated_ms=r["updated_ms"],
    )


class OrdersRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

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
        self._db.execute(
            "INSERT INTO orders (client_order_id, symbol, side, type, intent, amount, cost, price,"
            " status, idempotency_key, reason, created_ms, updated_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                client_order_id, symbol, side.value, type.value, intent.value, _s(amount),
                _s(cost), _s(price), OrderStatus.PENDING_SUBMIT.value, idempotency_key, reason,
                now_ms, now_ms,
            ),
        )

    def get(self, client_order_id: str) -> OrderRecord | None:
        row = self._db.one("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,))
        return _record(row) if row else None

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
        current: OrderRecord | None = None,
    ) -> OrderRecord:
        """Move an order to `status` (through the transition table) and store what changed.

        `current` spares a read when the caller holds the record inside its transaction.
        """
        with self._db.transaction():
            current = current or self.get(client_order_id)
            if current is None:
                raise KeyError(client_order_id)
            updated = advanced(
                current, status, now_ms, exchange_order_id=exchange_order_id, filled=filled,
                avg_price=avg_price, fee=fee, fee_currency=fee_currency, error=error,
            )
            self._db.execute(
                "UPDATE orders SET status=?, exchange_order_id=?, filled=?, avg_price=?, fee=?,"
                " fee_currency=?, error=?, updated_ms=? WHERE client_order_id=?",
                (
                    updated.status.value, updated.exchange_order_id or None, str(updated.filled),
                    _s(updated.avg_price), str(updated.fee), updated.fee_currency, updated.error,
                    now_ms, client_order_id,
                ),
            )
            return updated

    def not_final(self, symbol: str | None = None) -> list[OrderRecord]:
        """Orders not yet in a final state, oldest first (by the status index); orders
        recorded in the same millisecond come in the order they were recorded."""
        sql = f"SELECT * FROM orders WHERE {_NOT_FINAL_SQL}"  # noqa: S608 - a constant
        params: list[object] = []
        if symbol:
            sql += " AND symbol = ?"
            params.append(symbol)
        return [_record(r) for r in self._db.all(sql + " ORDER BY created_ms, rowid", params)]

    def closed_with_error(self, symbol: str, error: str, since_ms: int) -> list[OrderRecord]:
        rows = self._db.all(
            "SELECT * FROM orders WHERE symbol=? AND created_ms >= ? AND error=?"
            " ORDER BY created_ms, rowid", (symbol, since_ms, error),
        )
        return [r for r in map(_record, rows) if r.status.is_final]

    def recent(self, limit: int = 50, symbol: str | None = None) -> list[OrderRecord]:
        if symbol:
            rows = self._db.all(
                "SELECT * FROM orders WHERE symbol=? ORDER BY created_ms DESC, rowid DESC LIMIT ?",
                (symbol, limit),
            )
        else:
            rows = self._db.all(
                "SELECT * FROM orders ORDER BY created_ms DESC, rowid DESC LIMIT ?", (limit,)
            )
        return [_record(r) for r in rows]

    def count_since(self, since_ms: int, symbol: str | None = None) -> int:
        """Orders created since a time, rejected ones excluded (they never reached the book)."""
        sql = "SELECT COUNT(*) FROM orders WHERE created_ms >= ? AND status != 'REJECTED'"
        params: list[object] = [since_ms]
        if symbol:
            sql += " AND symbol = ?"
            params.append(symbol)
        row = self._db.one(sql, params)
        return int(row[0]) if row else 0

    def last_created_ms(
        self, symbol: str, intent: Intent | None = None, *, include_rejected: bool = False
    ) -> int | None:
        """When the symbol's last order was created; rejected ones count only if asked."""
        sql = "SELECT MAX(created_ms) FROM orders WHERE symbol=?"
        if not include_rejected:
            sql += " AND status != 'REJECTED'"
        params: list[object] = [symbol]
        if intent:
            sql += " AND intent=?"
            params.append(intent.value)
        row = self._db.one(sql, params)
        return int(row[0]) if row and row[0] is not None else None

    def count_with_key(self, idempotency_key: str) -> int:
        row = self._db.one(
            "SELECT COUNT(*) FROM orders WHERE idempotency_key=?", (idempotency_key,)
        )
        return int(row[0]) if row else 0

    def count(self) -> int:
        row = self._db.one("SELECT COUNT(*) FROM orders")
        return int(row[0]) if row else 0
