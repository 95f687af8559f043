"""PositionsReconciler: the local position against the exchange's base balance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crypto_ai_bot.domain.model import ZERO, Balance
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.storage import Repositories


@dataclass(frozen=True, slots=True)
class PositionCheck:
    symbol: str
    local: Decimal
    exchange: Decimal
    dust: Decimal

    @property
    def diff(self) -> Decimal:
        return self.exchange - self.local

    @property
    def ok(self) -> bool:
        return abs(self.diff) <= self.dust


class PositionsReconciler:
    def __init__(self, broker: Broker, repos: Repositories) -> None:
        self._broker = broker
        self._repos = repos

    def check(self, symbol: str, balances: dict[str, Balance]) -> PositionCheck:
        market = self._broker.market(symbol)
        local = self._repos.positions.get(symbol).base_amount
        b = balances.get(market.base)
        exchange = b.total if b is not None else ZERO
        dust = max(market.min_amount, market.amount_step)
        return PositionCheck(symbol, local, exchange, dust)
