"""Repositories over one Database, bundled for injection."""

from __future__ import annotations

from dataclasses import dataclass

from crypto_ai_bot.core.storage.facade import Database
from crypto_ai_bot.core.storage.repositories.audit import AuditRepository
from crypto_ai_bot.core.storage.repositories.idempotency import IdempotencyRepository
from crypto_ai_bot.core.storage.repositories.market_data import MarketDataRepository
from crypto_ai_bot.core.storage.repositories.orders import OrdersRepository
from crypto_ai_bot.core.storage.repositories.positions import PositionsRepository
from crypto_ai_bot.core.storage.repositories.state import StateRepository
from crypto_ai_bot.core.storage.repositories.trades import TradesRepository


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

    @classmethod
    def over(cls, db: Database, *, positions_in_memory: bool = False) -> Repositories:
        """Repositories over db; positions_in_memory for backtests only (see positions.py)."""
        return cls(
            db=db,
            orders=OrdersRepository(db),
            trades=TradesRepository(db),
            positions=PositionsRepository(db, in_memory=positions_in_memory),
            idempotency=IdempotencyRepository(db),
            audit=AuditRepository(db),
            state=StateRepository(db),
            market_data=MarketDataRepository(db),
        )
