"""Fills, unique per (exchange, trade_id): a fill seen twice counts once."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row
from crypto_ai_bot.domain.model import FillReport, Side
from crypto_ai_bot.ports.storage import TradeRecord


def _record(r: Row) -> TradeRecord:
    return TradeRecord(
        exchange=r["exchange"],
        trade_id=r["trade_id"],
        client_order_id=r["client_order_id"],
        exchange_order_id=r["exchange_order_id"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        price=Decimal(r["price"]),
        amount=Decimal(r["amount"]),
        fee=Decimal(r["fee"]),
        fee_currency=r["fee_currency"],
        realized_pnl=Decimal(r["realized_pnl"]),
        ts_ms=r["ts_ms"],
    )


class SqliteTrades:
    def __init__(self, db: Database) -> None:
        self._db = db

    def exists(self, exchange: str, trade_id: str) -> bool:
        row = self._db.one(
            "SELECT 1 FROM trades WHERE exchange=? AND trade_id=?", (exchange, trade_id)
        )
        return row is not None

    def add(self, exchange: str, fill: FillReport, realized_pnl: Decimal) -> bool:
        """Store a fill; False when it was already stored."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO trades (exchange, trade_id, client_order_id, exchange_order_id,"
            " symbol, side, price, amount, fee, fee_currency, realized_pnl, ts_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                exchange, fill.trade_id, fill.client_order_id, fill.exchange_order_id,
                fill.symbol, fill.side.value, str(fill.price), str(fill.amount), str(fill.fee),
                fill.fee_currency, str(realized_pnl), fill.ts_ms,
            ),
        )
        return cur.rowcount == 1

    def for_order(self, client_order_id: str) -> list[TradeRecord]:
        rows = self._db.all(
            "SELECT * FROM trades WHERE client_order_id=? ORDER BY ts_ms, id", (client_order_id,)
        )
        return [_record(r) for r in rows]

    def between(self, start_ms: int, end_ms: int, symbol: str | None = None) -> list[TradeRecord]:
        sql = "SELECT * FROM trades WHERE ts_ms >= ? AND ts_ms < ?"
        params: list[object] = [start_ms, end_ms]
        if symbol:
            sql += " AND symbol=?"
            params.append(symbol)
        return [_record(r) for r in self._db.all(sql + " ORDER BY ts_ms, id", params)]

    def realized_pnl_between(self, start_ms: int, end_ms: int) -> Decimal:
        total = Decimal(0)
        for row in self._db.all(
            "SELECT realized_pnl FROM trades WHERE ts_ms >= ? AND ts_ms < ?", (start_ms, end_ms)
        ):
            total += Decimal(row[0])
        return total

    def count(self) -> int:
        row = self._db.one("SELECT COUNT(*) FROM trades")
        return int(row[0]) if row else 0
