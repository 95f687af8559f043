"""Price feeds for paper mode: fixed, synthetic (seeded, accelerated) and replay (a candle file).

A feed answers `poll(symbol)` with the candles that closed since the last poll and the current
ticker, and keeps the price board up to date. The synthetic and replay feeds are accelerated:
every poll closes one more candle, so that a paper session shows decisions within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crypto_ai_bot.domain.model import Candle, Ticker


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    candles: list[Candle]
    ticker: Ticker


class PriceFeed(Protocol):
    async def poll(self, symbol: str) -> FeedUpdate:
        """Candles closed since the previous poll (oldest first) and the current ticker."""
        ...

    async def ticker(self, symbol: str) -> Ticker: ...

    async def close(self) -> None:
        """Release what the feed holds (a network client); the feeds here hold nothing."""
        ...


@runtime_checkable
class PacedFeed(Protocol):
    """A feed that knows when a symbol's next candle closes (the live feed): the evaluate loop
    waits until then rather than polling on a fixed interval."""

    def due_in_s(self, symbol: str) -> float:
        """Seconds until the symbol's next closed candle can be read; 0 when it can be now."""
        ...
