"""Positions: amount, cost basis, peak and stop bookkeeping, persisted across restarts."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.core.domain import Position
from crypto_ai_bot.core.storage.facade import Database, Row


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


class PositionsRepository:
    """Reads return copies: a change counts once it is saved.

    `in_memory=True` keeps positions in this object only, for a backtest, whose throwaway
    database nothing else reads; the trading process writes every change through, since a
    restart (or cab-reconcile in another process) must see it.
    """

    def __init__(self, db: Database, *, in_memory: bool = False) -> None:
        self._db = db
        self._memory: dict[str, Position] | None = {} if in_memory else None

    def get(self, symbol: str) -> Position:
        if self._memory is not None:
            held = self._memory.get(symbol)
            return held.copy() if held is not None else Position(symbol=symbol)
        row = self._db.one("SELECT * FROM positions WHERE symbol=?", (symbol,))
        return _position(row) if row else Position(symbol=symbol)

    def save(self, p: Position) -> None:
        if self._memory is not None:
            self._memory[p.symbol] = p.copy()
            return
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
        if self._memory is not None:
            return [p.copy() for _, p in sorted(self._memory.items())]
        return [_position(r) for r in self._db.all("SELECT * FROM positions ORDER BY symbol")]
