"""Exchange-side stops, recorded before their request leaves, then their exchange id."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row
from crypto_ai_bot.ports.storage import STOP_ACTIVE, StopRecord


def _stop(r: Row) -> StopRecord:
    return StopRecord(
        id=r["id"], symbol=r["symbol"], rule=r["rule"],
        trigger_price=Decimal(r["trigger_price"]), limit_price=Decimal(r["limit_price"]),
        amount=Decimal(r["amount"]), expiration_sec=r["expiration_sec"],
        created_ms=r["created_ms"], exchange_id=r["exchange_id"], status=r["status"],
        updated_ms=r["updated_ms"],
    )


class SqliteStops:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self, *, symbol: str, rule: str, trigger_price: Decimal, limit_price: Decimal,
        amount: Decimal, expiration_sec: int, now_ms: int,
    ) -> StopRecord:
        cur = self._db.execute(
            "INSERT INTO exchange_stops (symbol, rule, trigger_price, limit_price, amount,"
            " expiration_sec, created_ms, status, updated_ms) VALUES (?,?,?,?,?,?,?,?,?)",
            (symbol, rule, str(trigger_price), str(limit_price), str(amount), expiration_sec,
             now_ms, "recorded", now_ms),
        )
        return StopRecord(int(cur.lastrowid or 0), symbol, rule, trigger_price, limit_price,
                          amount, expiration_sec, now_ms, "", "recorded", now_ms)

    def placed(self, record_id: int, exchange_id: str, now_ms: int) -> None:
        self._db.execute(
            "UPDATE exchange_stops SET exchange_id=?, status='placed', updated_ms=? WHERE id=?",
            (exchange_id, now_ms, record_id),
        )

    def finish(self, record_id: int, status: str, now_ms: int) -> None:
        self._db.execute("UPDATE exchange_stops SET status=?, updated_ms=? WHERE id=?",
                         (status, now_ms, record_id))

    def get(self, record_id: int) -> StopRecord | None:
        row = self._db.one("SELECT * FROM exchange_stops WHERE id=?", (record_id,))
        return _stop(row) if row else None

    def by_exchange_id(self, exchange_id: str) -> StopRecord | None:
        if not exchange_id:
            return None
        row = self._db.one("SELECT * FROM exchange_stops WHERE exchange_id=? ORDER BY id DESC"
                           " LIMIT 1", (exchange_id,))
        return _stop(row) if row else None

    def active(self, symbol: str | None = None) -> list[StopRecord]:
        rows = self._db.all(
            "SELECT * FROM exchange_stops WHERE status IN ('recorded', 'placed')"
            " AND (? IS NULL OR symbol=?) ORDER BY id", (symbol, symbol))
        return [_stop(r) for r in rows if r["status"] in STOP_ACTIVE]

    def exchange_ids(self, symbol: str) -> set[str]:
        rows = self._db.all("SELECT exchange_id FROM exchange_stops WHERE symbol=? AND"
                            " exchange_id != ''", (symbol,))
        return {r["exchange_id"] for r in rows}
