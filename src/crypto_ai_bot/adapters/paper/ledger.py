"""The paper venue's book (ports/venue.py), in memory and in SQLite.

MemoryVenueBook is a list and a dict, for backtests: appending an order is a list append.
SqliteVenueBook writes the paper_orders and paper_balances tables (migration 0001), for paper
mode: an order and the balances after it commit together, and a paper database written before
the book had its own port loads exactly as it did then (order id N is trade paper-N).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from crypto_ai_bot.domain.model import FillReport, OrderReport, OrderStatus, OrderType, Side

if TYPE_CHECKING:  # only named here: importing PaperBroker (a backtest) loads no SQLite
    from crypto_ai_bot.adapters.storage.sqlite.database import Database, Row


class MemoryVenueBook:
    """The venue's book for a backtest: gone with the process."""

    def __init__(self) -> None:
        self._orders: list[OrderReport] = []
        self._balances: dict[str, Decimal] = {}

    def load_balances(self) -> dict[str, Decimal] | None:
        return dict(self._balances) or None

    def save_balances(self, balances: Mapping[str, Decimal]) -> None:
        self._balances.update(balances)

    def load_orders(self) -> list[OrderReport]:
        return list(self._orders)

    def append_order(self, report: OrderReport, balances: Mapping[str, Decimal]) -> None:
        self._orders.append(report)
        self._balances.update(balances)


class SqliteVenueBook:
    """The venue's book for paper mode: the paper_* tables of the bot's database file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load_balances(self) -> dict[str, Decimal] | None:
        rows = self._db.all("SELECT currency, free FROM paper_balances")
        return {r["currency"]: Decimal(r["free"]) for r in rows} if rows else None

    def save_balances(self, balances: Mapping[str, Decimal]) -> None:
        with self._db.transaction():
            for cur, free in balances.items():
                self._db.execute(
                    "INSERT INTO paper_balances (currency, free, used) VALUES (?,?,'0')"
                    " ON CONFLICT(currency) DO UPDATE SET free=excluded.free",
                    (cur, str(free)),
                )

    def load_orders(self) -> list[OrderReport]:
        return [_report_from_row(r) for r in self._db.all("SELECT * FROM paper_orders ORDER BY id")]

    def append_order(self, report: OrderReport, balances: Mapping[str, Decimal]) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO paper_orders (id, client_order_id, symbol, side, type, status,"
                " amount, filled, cost, price, fee, fee_currency, ts_ms)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    int(report.exchange_order_id), report.client_order_id, report.symbol,
                    report.side.value, report.type.value, report.status.value,
                    str(report.amount), str(report.filled), str(report.cost),
                    str(report.avg_price), str(report.fee), report.fee_currency, report.ts_ms,
                ),
            )
            self.save_balances(balances)


def _report_from_row(row: Row) -> OrderReport:
    """A paper order as PaperBroker reported it: one fill, trade paper-{id}, order id str(id)."""
    side = Side(row["side"])
    fill = FillReport(
        trade_id=f"paper-{row['id']}",
        symbol=row["symbol"],
        side=side,
        price=Decimal(row["price"]),
        amount=Decimal(row["filled"]),
        fee=Decimal(row["fee"]),
        fee_currency=row["fee_currency"],
        ts_ms=row["ts_ms"],
        exchange_order_id=str(row["id"]),
        client_order_id=row["client_order_id"],
    )
    return OrderReport(
        exchange_order_id=str(row["id"]),
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=side,
        type=OrderType(row["type"]),
        status=OrderStatus(row["status"]),
        amount=Decimal(row["amount"]),
        filled=Decimal(row["filled"]),
        cost=Decimal(row["cost"]),
        avg_price=Decimal(row["price"]),
        fee=fill.fee,
        fee_currency=fill.fee_currency,
        ts_ms=fill.ts_ms,
        fills=(fill,),
    )
