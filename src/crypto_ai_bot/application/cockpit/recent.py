"""The latest candles the pipelines were handed, per symbol, with when: the in-memory part of
the cockpit's chart (the stored part is the market_data repository)."""

from __future__ import annotations

from collections import deque

from crypto_ai_bot.domain.model import Candle, Ticker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.feed import FeedUpdate, PacedFeed, PriceFeed

KEEP = 1000  # per symbol


class RecentCandles:
    """A PriceFeed in front of the configured one (the trading process's; backtests never use
    it): every poll's closed candles are kept before the pipeline evaluates them."""

    def __init__(self, feed: PriceFeed, clock: Clock, keep: int = KEEP) -> None:
        self.inner = feed
        self._clock = clock
        self._keep = keep
        self._by_symbol: dict[str, deque[tuple[int, Candle]]] = {}

    async def poll(self, symbol: str) -> FeedUpdate:
        update = await self.inner.poll(symbol)
        if update.candles:
            kept = self._by_symbol.get(symbol)
            if kept is None:
                kept = self._by_symbol[symbol] = deque(maxlen=self._keep)
            now = self._clock.now_ms()
            kept.extend((now, c) for c in update.candles)
        return update

    async def ticker(self, symbol: str) -> Ticker:
        return await self.inner.ticker(symbol)

    async def close(self) -> None:
        await self.inner.close()

    def of(self, symbol: str) -> list[tuple[int, Candle]]:
        """(when it was handed on, the candle), oldest first."""
        return list(self._by_symbol.get(symbol, ()))


class PacedRecentCandles(RecentCandles):
    """The same in front of a feed that knows when each candle closes (the live feed): the
    pipeline's evaluate loop still waits for the close rather than polling on an interval."""

    def __init__(self, feed: PriceFeed, paced: PacedFeed, clock: Clock, keep: int = KEEP) -> None:
        super().__init__(feed, clock, keep)
        self._paced = paced  # the same object as feed, seen as paced

    def due_in_s(self, symbol: str) -> float:
        return self._paced.due_in_s(symbol)


def keeping(feed: PriceFeed, clock: Clock, keep: int = KEEP) -> RecentCandles:
    """RecentCandles in front of `feed`, paced when the feed is."""
    if isinstance(feed, PacedFeed):
        return PacedRecentCandles(feed, feed, clock, keep)
    return RecentCandles(feed, clock, keep)
