"""Current prices of all pairs, their paths and their histories."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .history import PriceHistory
from .models import Pair
from .prices import PathFactory, PricePath, SyntheticWalk


class PriceFeed:
    """Owns one price path and one history per pair."""

    def __init__(self, pairs: Mapping[str, Pair], seed: int, now_ms: int,
                 factories: Mapping[str, PathFactory] | None = None) -> None:
        self.pairs = dict(pairs)
        self.seed = seed
        self._factories: dict[str, PathFactory] = dict(factories or {})
        self.paths: dict[str, PricePath] = {}
        self.histories: dict[str, PriceHistory] = {}
        self.reset(None, now_ms)

    def _factory(self, pair: Pair) -> PathFactory:
        if pair.id in self._factories:
            return self._factories[pair.id]
        key = f"{self.seed}:{pair.id}:walk"
        return lambda: SyntheticWalk(key, pair.initial_price)

    def reset(self, prices: Mapping[str, Decimal] | None, now_ms: int) -> None:
        """Restart every path; history restarts at `now_ms` from the given or first price."""
        for pair in self.pairs.values():
            path = self._factory(pair)()
            self.paths[pair.id] = path
            given = (prices or {}).get(pair.id)
            start = pair.round_price(given if given else path.first())
            key = f"{self.seed}:{pair.id}"
            self.histories[pair.id] = PriceHistory(key, pair, start, now_ms)

    def price(self, pair_id: str) -> Decimal:
        return self.histories[pair_id].last

    def set(self, pair_id: str, price: Decimal, now_ms: int) -> Decimal:
        pair = self.pairs[pair_id]
        rounded = pair.round_price(price)
        self.histories[pair_id].record(now_ms, rounded)
        return rounded

    def step(self, pair_id: str, now_ms: int) -> Decimal:
        """Advance one step along the pair's path."""
        nxt = self.paths[pair_id].next(self.price(pair_id))
        return self.set(pair_id, nxt, now_ms)
