"""Positions: amount, cost basis, peak and stop bookkeeping, persisted across restarts."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row
from crypto_ai_bot.domain.model import Position


def _position(r: Row) -> Position:
    return Position(
        symbol=r["symbol"],
        base_amount=Decimal(r["base_amount"]),
        cost_basis=Decimal(r["cost_basis"]),
        entry_price=Decimal(r["entry_price"]),
        peak=Decimal(r["peak"]),
        realized_pnl=Decimal(r["realized_pnl"]),
        opened_ms=r["opened_ms"],
        updated_ms=r["updated_ms"],
        exit_attempt=r["exit_attempt"],
        stop_order_id=r["stop_order_id"],
        stop_price=Decimal(r["stop_price"]),
    )


class SqlitePositions:
    """Reads return copies: a change counts once it is saved."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, symbol: str) -> Position:
        row = self._db.one("SELECT * FROM positions WHERE symbol=?", (symbol,))
        return _position(row) if row else Position(symbol=symbol)

    def save(self, p: Position) -> None:
        self._db.execute(
            "INSERT INTO positions (symbol, base_amount, cost_basis, peak, realized_pnl, opened_ms,"
            " updated_ms, exit_attempt, stop_order_id, stop_price, entry_price)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(symbol) DO UPDATE SET base_amount=excluded.base_amount,"
            " cost_basis=excluded.cost_basis, peak=excluded.peak,"
            " realized_pnl=excluded.realized_pnl, opened_ms=excluded.opened_ms,"
            " updated_ms=excluded.updated_ms, exit_attempt=excluded.exit_attempt,"
            " stop_order_id=excluded.stop_order_id, stop_price=excluded.stop_price,"
            " entry_price=excluded.entry_price",
            (
                p.symbol, str(p.base_amount), str(p.cost_basis), str(p.peak),
                str(p.realized_pnl), p.opened_ms, p.updated_ms, p.exit_attempt,
                p.stop_order_id, str(p.stop_price), str(p.entry_price),
            ),
        )

    def all(self) -> list[Position]:
        return [_position(r) for r in self._db.all("SELECT * FROM positions ORDER BY symbol")]

    def without_stop(self) -> list[tuple[str, Decimal]]:
        # CAST only picks the rows (any positive amount is a positive REAL); the amount
        # itself is read exactly from its text
        rows = self._db.all("SELECT symbol, base_amount FROM positions WHERE stop_order_id = ''"
                            " AND CAST(base_amount AS REAL) > 0 ORDER BY symbol")
        return [(r["symbol"], Decimal(r["base_amount"])) for r in rows]
