"""Orders as the bot recorded them, moved through the transition table, with their events."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row
from crypto_ai_bot.domain.model import Intent, OrderStatus, OrderType, Side
from crypto_ai_bot.domain.orders import (
    OrderEvent,
    OrderEventRecord,
    OrderRecord,
    advance,
    new_record,
)

# Literal, so that SQLite uses the partial index orders_not_final (migration 0002).
_NOT_FINAL_SQL = "status IN ('PENDING_SUBMIT','OPEN','PARTIALLY_FILLED','UNKNOWN')"
assert {s.value for s in OrderStatus if not s.is_final} == {
    "PENDING_SUBMIT", "OPEN", "PARTIALLY_FILLED", "UNKNOWN"
}


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


class SqliteOrders:
    def __init__(self, db: Database) -> None:
        self._db = db

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
        rec = new_record(
            event, client_order_id=client_order_id, symbol=symbol, side=side, type=type,
            intent=intent, amount=amount, cost=cost, price=price,
            idempotency_key=idempotency_key, reason=reason, now_ms=now_ms,
        )
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO orders (client_order_id, symbol, side, type, intent, amount, cost,"
                " price, status, idempotency_key, reason, created_ms, updated_ms)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    client_order_id, symbol, side.value, type.value, intent.value, _s(amount),
                    _s(cost), _s(price), rec.status.value, idempotency_key, reason, now_ms,
                    now_ms,
                ),
            )
            self._event(rec, event, now_ms)
        return rec

    def _event(self, rec: OrderRecord, event: OrderEvent, now_ms: int, detail: str = "") -> None:
        self._db.execute(
            "INSERT INTO order_events (client_order_id, ts_ms, event, status, filled, detail)"
            " VALUES (?,?,?,?,?,?)",
            (rec.client_order_id, now_ms, event.value, rec.status.value, str(rec.filled),
             detail),
        )

    def get(self, client_order_id: str) -> OrderRecord | None:
        row = self._db.one("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,))
        return _record(row) if row else None

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
        current: OrderRecord | None = None,
    ) -> OrderRecord:
        """Move an order through the transition table, store what changed and the event.

        `current` spares a read when the caller holds the record inside its transaction.
        """
        with self._db.transaction():
            current = current or self.get(client_order_id)
            if current is None:
                raise KeyError(client_order_id)
            updated = advance(
                current, event, now_ms, exchange_order_id=exchange_order_id, filled=filled,
                avg_price=avg_price, fee=fee, fee_currency=fee_currency, error=error,
            )
            if updated is not current:
                self._db.execute(
                    "UPDATE orders SET status=?, exchange_order_id=?, filled=?, avg_price=?,"
                    " fee=?, fee_currency=?, error=?, updated_ms=? WHERE client_order_id=?",
                    (
                        updated.status.value, updated.exchange_order_id or None,
                        str(updated.filled), _s(updated.avg_price), str(updated.fee),
                        updated.fee_currency, updated.error, now_ms, client_order_id,
                    ),
                )
            self._event(updated, event, now_ms, error or "")
            return updated

    def events(self, client_order_id: str) -> list[OrderEventRecord]:
        rows = self._db.all(
            "SELECT * FROM order_events WHERE client_order_id=? ORDER BY id", (client_order_id,)
        )
        return [
            OrderEventRecord(r["client_order_id"], r["ts_ms"], OrderEvent(r["event"]),
                             _STATUSES[r["status"]], Decimal(r["filled"]), r["detail"])
            for r in rows
        ]

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
