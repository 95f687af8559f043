"""The SQLite unit of work: every repository over one Database, one transaction for all."""

from __future__ import annotations

from contextlib import AbstractContextManager

from crypto_ai_bot.adapters.storage.sqlite.audit import SqliteAudit
from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.idempotency import SqliteIdempotency
from crypto_ai_bot.adapters.storage.sqlite.market_data import SqliteMarketData
from crypto_ai_bot.adapters.storage.sqlite.orders import SqliteOrders
from crypto_ai_bot.adapters.storage.sqlite.positions import SqlitePositions
from crypto_ai_bot.adapters.storage.sqlite.state import SqliteState
from crypto_ai_bot.adapters.storage.sqlite.stops import SqliteStops
from crypto_ai_bot.adapters.storage.sqlite.trades import SqliteTrades


class SqliteRepositories:
    """What the trading process uses: every write goes through to the database file."""

    __slots__ = ("audit", "db", "idempotency", "market_data", "orders", "positions", "state",
                 "stops", "trades")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.orders = SqliteOrders(db)
        self.trades = SqliteTrades(db)
        self.positions = SqlitePositions(db)
        self.idempotency = SqliteIdempotency(db)
        self.audit = SqliteAudit(db)
        self.state = SqliteState(db)
        self.market_data = SqliteMarketData(db)
        self.stops = SqliteStops(db)

    def transaction(self) -> AbstractContextManager[None]:
        """One SQL transaction: committed together or not at all."""
        return self.db.transaction()
