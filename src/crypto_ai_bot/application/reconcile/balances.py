"""BalancesReconciler: free base and quote per symbol, kept as a snapshot."""

from __future__ import annotations

from crypto_ai_bot.domain.model import ZERO, Balance
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories


class BalancesReconciler:
    def __init__(self, broker: Broker, repos: Repositories, clock: Clock) -> None:
        self._broker = broker
        self._repos = repos
        self._clock = clock

    def snapshot(self, symbols: list[str], balances: dict[str, Balance]) -> dict[str, Balance]:
        wanted: set[str] = set()
        for s in symbols:
            m = self._broker.market(s)
            wanted.update((m.base, m.quote))
        snap = {c: balances.get(c, Balance(c, ZERO, ZERO)) for c in sorted(wanted)}
        self._repos.state.save_balances(snap, self._clock.now_ms())
        return snap
