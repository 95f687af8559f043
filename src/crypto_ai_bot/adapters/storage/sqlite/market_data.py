"""Stored candles per (symbol, timeframe)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.domain.model import Candle
from crypto_ai_bot.ports.storage import SeriesSummary


class SqliteMarketData:
    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(self, symbol: str, timeframe: str, candles: Iterable[Candle]) -> int:
        rows = [
            (symbol, timeframe, c.ts_ms, str(c.open), str(c.high), str(c.low), str(c.close),
             str(c.volume))
            for c in candles
        ]
        with self._db.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO market_data (symbol, timeframe, ts_ms, open, high, low,"
                " close, volume) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def candles(
        self, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Candle]:
        sql = "SELECT * FROM market_data WHERE symbol=? AND timeframe=?"
        params: list[object] = [symbol, timeframe]
        if start_ms is not None:
            sql += " AND ts_ms >= ?"
            params.append(start_ms)
        if end_ms is not None:
            sql += " AND ts_ms < ?"
            params.append(end_ms)
        return [
            Candle(r["ts_ms"], Decimal(r["open"]), Decimal(r["high"]), Decimal(r["low"]),
                   Decimal(r["close"]), Decimal(r["volume"]))
            for r in self._db.all(sql + " ORDER BY ts_ms", params)
        ]

    def last_ts(self, symbol: str, timeframe: str) -> int | None:
        row = self._db.one(
            "SELECT MAX(ts_ms) FROM market_data WHERE symbol=? AND timeframe=?", (symbol, timeframe)
        )
        return int(row[0]) if row and row[0] is not None else None

    def series(self) -> list[SeriesSummary]:
        rows = self._db.all(
            "SELECT symbol, timeframe, MIN(ts_ms), MAX(ts_ms), COUNT(*) FROM market_data"
            " GROUP BY symbol, timeframe ORDER BY symbol, timeframe"
        )
        return [SeriesSummary(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def timestamps(self, symbol: str, timeframe: str) -> list[int]:
        rows = self._db.all(
            "SELECT ts_ms FROM market_data WHERE symbol=? AND timeframe=? ORDER BY ts_ms",
            (symbol, timeframe),
        )
        return [int(r[0]) for r in rows]
