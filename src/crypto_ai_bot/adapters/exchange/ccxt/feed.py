"""LiveFeed (PRICE_FEED=live): real market data through ccxt, in live and in paper mode.

Shaped for many symbols in one process (docs/performance.md):
- tickers are read in one request for every symbol (GET /spot/tickers answers all markets), at
  most once per `tickers_max_age_ms`; readers that come while one is in flight share it;
- candles are fetched only once a candle has closed (the first poll of a symbol fetches
  `warmup` of them), through a budget under Gate's public limit for the candlesticks endpoint,
  so that a hundred symbols closing together are fetched at once and more are staggered;
- what was fetched is kept and served to every reader: the strategy (`poll`), the protective
  exits (`ticker`), the dashboard (`candles`). `due_in_s` tells the evaluate loop when the
  symbol's next candle can be read, so that it wakes as the candle closes.
Every ticker also goes on the price board, so that a PaperBroker fills at live prices. With a
CcxtBroker the feed shares its client (one connection pool); otherwise it builds a public-only
client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import ccxt.async_support as ccxt

from crypto_ai_bot.adapters.exchange.ccxt.broker import CcxtBroker, api_url
from crypto_ai_bot.adapters.exchange.ccxt.client import build_ccxt_exchange
from crypto_ai_bot.adapters.exchange.ccxt.config import ExchangeConfig
from crypto_ai_bot.adapters.exchange.ccxt.dialects import ExchangeDialect, d, dialect_for
from crypto_ai_bot.adapters.exchange.ccxt.errors import is_retryable, map_ccxt_error
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.errors import ExchangeUnavailable
from crypto_ai_bot.domain.model import Candle, Ticker
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.feed import FeedUpdate
from crypto_ai_bot.utils.rate_limit import SlidingWindowLimiter
from crypto_ai_bot.utils.retry import retry_async
from crypto_ai_bot.utils.time import timeframe_ms

T = TypeVar("T")
# Gate: 200 requests per 10 s per public endpoint, counted as they arrive. A request is counted
# here when it is let go, and a busy event loop sends it later: at most 185 in any 10.2 s keeps
# under Gate's count with a margin (at 190 per 10.2 s, 195 arrived in one 10 s window at load
# 10), while two closes 10 s apart of a hundred symbols each still fit (at 180 per 10.5 s the
# second close's last requests waited for the first's to leave the window)
CANDLE_BUDGET = (185, 10.2)  # requests, seconds
CLOSE_GRACE_MS = 50  # read a candle this long after it closed (clocks differ by a little)
RETRY_MS = 250  # a read that found no newly closed candle is tried again after this


class LiveFeed:
    def __init__(
        self, exchange: Any, clock: Clock, board: PriceBoard, timeframe: str, *,
        broker: CcxtBroker | None = None, warmup: int = 100, owns_exchange: bool = False,
        symbols: Iterable[str] = (), tickers_max_age_ms: int = 500,
        candle_budget: tuple[int, float] = CANDLE_BUDGET,
    ) -> None:
        self._ex = exchange
        self._clock = clock
        self._board = board
        self._timeframe = timeframe
        self._step = timeframe_ms(timeframe)
        self._broker = broker
        self._dialect: ExchangeDialect = dialect_for(str(getattr(exchange, "id", "")))
        self._warmup = warmup
        self._owns = owns_exchange
        self._symbols: list[str] = list(dict.fromkeys(symbols))  # asked for in every batch
        self._max_age_ms = tickers_max_age_ms
        self._tickers: dict[str, Ticker] = {}
        self._tickers_ms: int | None = None
        self._in_flight: asyncio.Future[None] | None = None
        self._budget = SlidingWindowLimiter(candle_budget[0], candle_budget[1])
        self._recent: dict[str, list[Candle]] = {}  # the last `warmup` closed candles
        self._last_closed: dict[str, int] = {}
        self._delivered: dict[str, int] = {}  # the newest candle poll() has handed out
        self._retry_at: dict[str, int] = {}
        self.stats = {"ticker_batches": 0, "candle_reads": 0, "candle_gaps": 0}

    @classmethod
    def from_config(
        cls, config: ExchangeConfig, timeframe: str, clock: Clock, board: PriceBoard,
        broker: Broker | None = None, *, symbols: Iterable[str] = (),
        tickers_max_age_ms: int = 500,
    ) -> LiveFeed:
        """Over the live broker's own client when there is one; else a public client."""
        if isinstance(broker, CcxtBroker):
            return cls(broker.exchange, clock, board, timeframe, broker=broker,
                       symbols=symbols, tickers_max_age_ms=tickers_max_age_ms)
        ex = build_ccxt_exchange(
            config.exchange, api_url=api_url(config.exchange, config.api_url),
            sandbox=config.sandbox, timeout_ms=config.timeout_ms,
        )
        return cls(ex, clock, board, timeframe, owns_exchange=True, symbols=symbols,
                   tickers_max_age_ms=tickers_max_age_ms)

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

    def _want(self, symbol: str) -> None:
        if symbol not in self._tickers and symbol not in self._symbols:
            self._symbols.append(symbol)

    # candles ----------------------------------------------------------------------------

    async def poll(self, symbol: str) -> FeedUpdate:
        """Candles closed since the previous poll, oldest first, and the current ticker. The
        exchange is asked for candles only when one has closed since the last read."""
        self._want(symbol)
        if self.due_in_s(symbol) == 0:  # both at once, so that every poll of a round joins
            read, got = await asyncio.gather(  # one ticker batch, however long candles take
                self._read_candles(symbol), self.ticker(symbol), return_exceptions=True)
            if isinstance(read, BaseException):
                raise read
            if isinstance(got, BaseException):
                raise got
            ticker = got
        else:
            ticker = await self.ticker(symbol)
        delivered = self._delivered.get(symbol)
        recent = self._recent.get(symbol, [])
        new = recent if delivered is None else [c for c in recent[-100:] if c.ts_ms > delivered]
        if new:
            self._delivered[symbol] = new[-1].ts_ms
        return FeedUpdate(new, ticker)

    def due_in_s(self, symbol: str) -> float:
        """Seconds until the symbol's next candle can be read; 0 when it can be now."""
        last = self._last_closed.get(symbol)
        if last is None:
            return 0.0
        due = max(last + 2 * self._step + CLOSE_GRACE_MS, self._retry_at.get(symbol, 0))
        return max(0.0, (due - self._clock.now_ms()) / 1000)

    def candles(self, symbol: str) -> list[Candle]:
        """The closed candles kept for the symbol (the last `warmup`), oldest first."""
        return list(self._recent.get(symbol, ()))

    async def _read_candles(self, symbol: str) -> None:
        last = self._last_closed.get(symbol)
        since = None if last is None else last + self._step
        limit = self._warmup + 1 if last is None else 100
        await self._budget.acquire()
        self.stats["candle_reads"] += 1
        rows = await self._read(
            lambda: self._ex.fetch_ohlcv(symbol, self._timeframe, since=since, limit=limit)
        )
        now = self._clock.now_ms()
        fresh = sorted(
            (Candle(int(r[0]), d(r[1]), d(r[2]), d(r[3]), d(r[4]), d(r[5]))
             for r in rows if int(r[0]) + self._step <= now and (last is None or int(r[0]) > last)),
            key=lambda c: c.ts_ms,
        )
        if not fresh:  # not closed yet at the exchange: look again shortly
            self._retry_at[symbol] = now + RETRY_MS
            return
        if last is not None and fresh[0].ts_ms != last + self._step:
            self.stats["candle_gaps"] += 1
        kept = self._recent.get(symbol, []) + fresh
        self._recent[symbol] = kept[-self._warmup:]
        self._last_closed[symbol] = fresh[-1].ts_ms
        self._retry_at.pop(symbol, None)

    # tickers ----------------------------------------------------------------------------

    async def ticker(self, symbol: str) -> Ticker:
        """The symbol's ticker from the latest batch, read again when it is older than
        `tickers_max_age_ms` (0: at every call; calls at the same time share one request)."""
        self._want(symbol)
        stamp = self._tickers_ms
        if (stamp is None or symbol not in self._tickers
                or self._clock.now_ms() - stamp >= self._max_age_ms):
            await self._refresh()
        ticker = self._tickers.get(symbol)
        if ticker is None:
            raise ExchangeUnavailable(f"the exchange sent no ticker for {symbol}")
        return ticker

    async def _refresh(self) -> None:
        task = self._in_flight
        if task is None:
            task = self._in_flight = asyncio.ensure_future(self._fetch_tickers())
            task.add_done_callback(self._settled)
        await asyncio.shield(task)

    def _settled(self, task: asyncio.Future[None]) -> None:
        if self._in_flight is task:
            self._in_flight = None
        if not task.cancelled():
            task.exception()  # retrieved: every reader that waited has it raised already

    async def _fetch_tickers(self) -> None:
        symbols = list(self._symbols)
        if self._broker is not None:
            tickers = await self._broker.fetch_tickers(symbols)
        else:
            async def fetch() -> dict[str, tuple[Any, Any, Any]]:
                await self._ex.load_markets()  # once: ccxt keeps them
                return await self._dialect.fetch_tickers(self._ex, symbols)

            rows = await self._read(fetch)
            now = self._clock.now_ms()
            tickers = {s: Ticker(s, now, last, bid or last, ask or last)
                       for s, (last, bid, ask) in rows.items()}
        self.stats["ticker_batches"] += 1
        for t in tickers.values():
            self._board.update(t)
        self._tickers.update(tickers)
        self._tickers_ms = self._clock.now_ms()

    async def close(self) -> None:
        """Close the client when the feed built it (a shared broker client is the broker's)."""
        task = self._in_flight
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._owns:
            await self._ex.close()
