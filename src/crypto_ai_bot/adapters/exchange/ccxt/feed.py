"""LiveFeed (PRICE_FEED=live): real market data through ccxt, in live and in paper mode.

`poll` returns the candles that closed since the previous poll (the first poll: `warmup` of
them, for indicator warm-up) and the current ticker; every ticker also goes on the price board,
so that a PaperBroker fills at live prices. With a CcxtBroker the feed shares its client (one
connection pool, one rate limiter); otherwise it builds a public-only client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import ccxt.async_support as ccxt

from crypto_ai_bot.adapters.exchange.ccxt.broker import CcxtBroker, api_url
from crypto_ai_bot.adapters.exchange.ccxt.client import build_ccxt_exchange
from crypto_ai_bot.adapters.exchange.ccxt.config import ExchangeConfig
from crypto_ai_bot.adapters.exchange.ccxt.dialects import d
from crypto_ai_bot.adapters.exchange.ccxt.errors import is_retryable, map_ccxt_error
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.model import Candle, Ticker
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.feed import FeedUpdate
from crypto_ai_bot.utils.retry import retry_async
from crypto_ai_bot.utils.time import timeframe_ms

T = TypeVar("T")


class LiveFeed:
    def __init__(
        self, exchange: Any, clock: Clock, board: PriceBoard, timeframe: str, *,
        broker: CcxtBroker | None = None, warmup: int = 100, owns_exchange: bool = False,
    ) -> None:
        self._ex = exchange
        self._clock = clock
        self._board = board
        self._timeframe = timeframe
        self._step = timeframe_ms(timeframe)
        self._broker = broker
        self._warmup = warmup
        self._owns = owns_exchange
        self._last_closed: dict[str, int] = {}

    @classmethod
    def from_config(
        cls, config: ExchangeConfig, timeframe: str, clock: Clock, board: PriceBoard,
        broker: Broker | None = None,
    ) -> LiveFeed:
        """Over the live broker's own client when there is one; else a public client."""
        if isinstance(broker, CcxtBroker):
            return cls(broker.exchange, clock, board, timeframe, broker=broker)
        ex = build_ccxt_exchange(
            config.exchange, api_url=api_url(config.exchange, config.api_url),
            sandbox=config.sandbox, timeout_ms=config.timeout_ms,
        )
        return cls(ex, clock, board, timeframe, owns_exchange=True)

    def warm_up(self, candles: int) -> None:
        """How many closed candles the first poll of a symbol brings (a strategy's history)."""
        self._warmup = candles

    async def _read(self, fn: Callable[[], Awaitable[T]]) -> T:
        async def once() -> T:
            try:
                return await fn()
            except ccxt.BaseError as exc:
                raise map_ccxt_error(exc) from exc

        return await retry_async(once, should_retry=is_retryable, attempts=3, initial_s=0.2)

    async def poll(self, symbol: str) -> FeedUpdate:
        """Candles closed since the previous poll, oldest first, and the current ticker."""
        last = self._last_closed.get(symbol)
        since = None if last is None else last + self._step
        limit = self._warmup + 1 if last is None else 100
        rows = await self._read(
            lambda: self._ex.fetch_ohlcv(symbol, self._timeframe, since=since, limit=limit)
        )
        now = self._clock.now_ms()
        candles = [
            Candle(int(r[0]), d(r[1]), d(r[2]), d(r[3]), d(r[4]), d(r[5]))
            for r in rows
            if int(r[0]) + self._step <= now and (last is None or int(r[0]) > last)
        ]
        candles.sort(key=lambda c: c.ts_ms)
        if candles:
            self._last_closed[symbol] = candles[-1].ts_ms
        return FeedUpdate(candles[-self._warmup:], await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        if self._broker is not None:
            t = await self._broker.fetch_ticker(symbol)
        else:
            raw = await self._read(lambda: self._ex.fetch_ticker(symbol))
            last = d(raw.get("last"))
            t = Ticker(symbol, self._clock.now_ms(), last, d(raw.get("bid")) or last,
                       d(raw.get("ask")) or last)
        self._board.update(t)
        return t

    async def close(self) -> None:
        """Close the client when the feed built it (a shared broker client is the broker's)."""
        if self._owns:
            await self._ex.close()
