"""The audit log: every event worth explaining later, as JSON."""

from __future__ import annotations

import json
from typing import Any

from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row
from crypto_ai_bot.ports.storage import AuditRecord


def _record(r: Row) -> AuditRecord:
    return AuditRecord(r["ts_ms"], r["topic"], r["symbol"], json.loads(r["payload"]), r["id"])


class SqliteAudit:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, ts_ms: int, topic: str, payload: dict[str, Any], symbol: str = "") -> None:
        self._db.execute(
            "INSERT INTO audit (ts_ms, topic, symbol, payload) VALUES (?,?,?,?)",
            (ts_ms, topic, symbol, json.dumps(payload, default=str, sort_keys=True)),
        )

    def recent(self, limit: int = 100, topic: str | None = None) -> list[AuditRecord]:
        if topic:
            rows = self._db.all(
                "SELECT * FROM audit WHERE topic=? ORDER BY id DESC LIMIT ?", (topic, limit)
            )
        else:
            rows = self._db.all("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def query(
        self, limit: int = 100, *, topic: str | None = None, symbol: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        sql, params = "SELECT * FROM audit WHERE 1=1", []
        for clause, value in (("topic=?", topic), ("symbol=?", symbol), ("id<?", before_id)):
            if value is not None and value != "":
                sql += f" AND {clause}"
                params.append(value)
        rows = self._db.all(sql + " ORDER BY id DESC LIMIT ?", (*params, max(limit, 0)))
        return [_record(r) for r in rows]

    def count(self, topic: str | None = None) -> int:
        if topic:
            row = self._db.one("SELECT COUNT(*) FROM audit WHERE topic=?", (topic,))
        else:
            row = self._db.one("SELECT COUNT(*) FROM audit")
        return int(row[0]) if row else 0
