"""Idempotency keys under a UNIQUE constraint: a key seen twice means 'already acted on'."""

from __future__ import annotations

from crypto_ai_bot.adapters.storage.sqlite.database import Database


class SqliteIdempotency:
    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(self, key: str, client_order_id: str, now_ms: int, ttl_ms: int) -> bool:
        """Insert the key (or take over an expired one); False when it is held."""
        cur = self._db.execute(
            "INSERT INTO idempotency (key, client_order_id, created_ms, expires_ms)"
            " VALUES (?,?,?,?) ON CONFLICT(key) DO UPDATE SET"
            " client_order_id=excluded.client_order_id, created_ms=excluded.created_ms,"
            " expires_ms=excluded.expires_ms WHERE idempotency.expires_ms <= excluded.created_ms",
            (key, client_order_id, now_ms, now_ms + ttl_ms),
        )
        return cur.rowcount == 1

    def release(self, key: str) -> None:
        self._db.execute("DELETE FROM idempotency WHERE key=?", (key,))

    def purge_expired(self, now_ms: int) -> int:
        return self._db.execute("DELETE FROM idempotency WHERE expires_ms <= ?", (now_ms,)).rowcount

    def client_order_id(self, key: str) -> str | None:
        row = self._db.one("SELECT client_order_id FROM idempotency WHERE key=?", (key,))
        return str(row[0]) if row else None

    def exists(self, key: str) -> bool:
        return self._db.one("SELECT 1 FROM idempotency WHERE key=?", (key,)) is not None
