"""Repositories over one Database, bundled for injection."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from crypto_ai_bot.adapters.storage import memory
from crypto_ai_bot.adapters.storage.sqlite.audit import AuditRepository
from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.idempotency import IdempotencyRepository
from crypto_ai_bot.adapters.storage.sqlite.market_data import MarketDataRepository
from crypto_ai_bot.adapters.storage.sqlite.orders import OrdersRepository
from crypto_ai_bot.adapters.storage.sqlite.positions import PositionsRepository
from crypto_ai_bot.adapters.storage.sqlite.state import StateRepository
from crypto_ai_bot.adapters.storage.sqlite.trades import TradesRepository

_NOTHING: AbstractContextManager[None] = nullcontext()  # reusable: it keeps no state


@dataclass(frozen=True, slots=True)
class Repositories:
    db: Database
    orders: OrdersRepository
    trades: TradesRepository
    positions: PositionsRepository
    idempotency: IdempotencyRepository
    audit: AuditRepository
    state: StateRepository
    market_data: MarketDataRepository
    memory: bool = False  # orders, fills, keys, positions and state in memory (in_memory)

    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work over the repositories: one SQL transaction, committed together or
        not at all. In memory there is nothing to commit, and nothing is rolled back."""
        return _NOTHING if self.memory else self.db.transaction()

    @classmethod
    def over(cls, db: Database) -> Repositories:
        """Every repository writes through to db: what the trading process uses."""
        return cls(
            db=db,
            orders=OrdersRepository(db),
            trades=TradesRepository(db),
            positions=PositionsRepository(db),
            idempotency=IdempotencyRepository(db),
            audit=AuditRepository(db),
            state=StateRepository(db),
            market_data=MarketDataRepository(db),
        )

    @classmethod
    def in_memory(cls, db: Database) -> Repositories:
        """Orders, fills, idempotency keys, positions and state in memory (see memory.py),
        the audit and candles over db: for a backtest, whose database nobody else reads and
        which is thrown away."""
        return cls(
            db=db,
            orders=memory.MemoryOrdersRepository(db),
            trades=memory.MemoryTradesRepository(db),
            positions=memory.MemoryPositionsRepository(db),
            idempotency=memory.MemoryIdempotencyRepository(db),
            audit=AuditRepository(db),
            state=memory.MemoryStateRepository(db),
            market_data=MarketDataRepository(db),
            memory=True,
        )
