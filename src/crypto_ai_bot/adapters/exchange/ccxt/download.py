"""Paginated candle download into the market data store, resuming where stored data ends.

`download_candles` talks to a `MarketDataSource` port (one page of candles per call) and a
`CandleStore` (the market_data repository). Only closed candles are stored: a candle whose
`ts_ms + step` is later than the clock's now is still forming and is fetched on the next run.
`CcxtOhlcvSource` adapts a ccxt async exchange to the port; ccxt itself is never imported here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from crypto_ai_bot.domain.errors import ExchangeUnavailable
from crypto_ai_bot.domain.model import Candle
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.utils.retry import retry_async
from crypto_ai_bot.utils.time import timeframe_ms

DEFAULT_PAGE_LIMIT = 1000  # Gate and Binance both serve up to 1000 candles per request


class MarketDataSource(Protocol):
    """Where candles come from: one page of at most `limit` candles starting at `since_ms`."""

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int, limit: int
    ) -> list[Candle]: ...


class CandleStore(Protocol):
    """The part of MarketDataRepository a download needs."""

    def last_ts(self, symbol: str, timeframe: str) -> int | None: ...

    def upsert(self, symbol: str, timeframe: str, candles: list[Candle]) -> int: ...


ProgressFn = Callable[[int, int], None]  # (candles covered so far, candles expected in total)


@dataclass(slots=True)
class DownloadResult:
    """What a download did: the span asked for, what was stored, and holes the source left."""

    symbol: str
    timeframe: str
    start_ms: int  # first candle time asked for (after resuming)
    end_ms: int  # exclusive: the open time of the first candle not fetched
    resumed_after: int | None = None  # last stored candle before this run, if it moved start
    stored: int = 0
    requests: int = 0
    dropped_open: int = 0  # candles the source sent that were not closed yet
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (ts before, ts after)
    last_ts: int | None = None  # newest candle stored by this run

    @property
    def largest_gap_ms(self) -> int:
        return max((b - a for a, b in self.gaps), default=0)


async def download_candles(
    source: MarketDataSource,
    store: CandleStore,
    symbol: str,
    timeframe: str,
    *,
    since_ms: int,
    clock: Clock,
    until_ms: int | None = None,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    progress: ProgressFn | None = None,
    retry_attempts: int = 4,
) -> DownloadResult:
    """Fetch closed candles in [since, until) page by page and upsert each page as it arrives.

    Starts after the last stored candle when that lies inside the span, so an interrupted
    download continues where it stopped. Gaps (within the fetched data, and between the stored
    data and the first new candle) are reported, not invented. Unknown timeframes raise
    ValueError; transient source errors are retried, others propagate.
    """
    step = timeframe_ms(timeframe)
    if page_limit < 1:
        raise ValueError("page_limit must be >= 1")
    now = clock.now_ms()
    closed_end = now - now % step  # open time of the candle still forming
    end = closed_end if until_ms is None else min(until_ms, closed_end)
    start = since_ms - since_ms % step  # align up to the candle grid
    if start < since_ms:
        start += step
    last = store.last_ts(symbol, timeframe)
    result = DownloadResult(symbol, timeframe, start, end)
    if last is not None and start <= last < end:
        start = last + step
        result.start_ms, result.resumed_after = start, last
    total = max(0, (end - start) // step)
    # A stored candle just before the span joins the new data: a hole there is a gap too.
    prev_ts = last if last is not None and last < start else None
    cursor = start
    while cursor < end:
        page = await _fetch(source, symbol, timeframe, cursor, page_limit, retry_attempts)
        result.requests += 1
        result.dropped_open += sum(1 for c in page if c.ts_ms >= closed_end)
        keep = sorted({c.ts_ms: c for c in page if cursor <= c.ts_ms < end}.values())
        if keep:
            store.upsert(symbol, timeframe, keep)
            result.stored += len(keep)
            for c in keep:
                if prev_ts is not None and c.ts_ms - prev_ts > step:
                    result.gaps.append((prev_ts, c.ts_ms))
                prev_ts = c.ts_ms
            cursor = keep[-1].ts_ms + step
            result.last_ts = keep[-1].ts_ms
        elif page and min(c.ts_ms for c in page) >= end:
            break  # the source has nothing more inside the span
        else:
            # Nothing in this window (before listing, or an outage): step over one page.
            cursor += page_limit * step
        if progress is not None:
            progress(min(total, (cursor - start) // step), total)
    return result


async def _fetch(
    source: MarketDataSource, symbol: str, timeframe: str, since: int, limit: int, attempts: int
) -> list[Candle]:
    async def once() -> list[Candle]:
        return await source.fetch_ohlcv(symbol, timeframe, since, limit)

    return await retry_async(
        once, should_retry=lambda e: isinstance(e, ExchangeUnavailable), attempts=attempts
    )


class CcxtOhlcvSource:
    """MarketDataSource over an already-built ccxt async exchange (see brokers.ccxt_client).

    ccxt's floats become Decimal through `str`, and its errors become the bot's (as the broker
    maps them for reads): network and 5xx problems ExchangeUnavailable and rate limits
    RateLimited, both retried by download_candles; the rest other BrokerErrors.
    """

    def __init__(self, exchange: Any) -> None:
        self._ex = exchange

    async def check_market(self, symbol: str, timeframe: str) -> None:
        """Load the markets; ValueError when the exchange has no such symbol or timeframe."""
        await self._call("load_markets", symbol, self._ex.load_markets)
        if symbol not in (self._ex.markets or {}):
            raise ValueError(f"unknown symbol {symbol!r}")
        timeframes = getattr(self._ex, "timeframes", None) or {}
        if timeframes and timeframe not in timeframes:
            raise ValueError(
                f"timeframe {timeframe!r} not offered; one of {', '.join(timeframes)}"
            )

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int, limit: int
    ) -> list[Candle]:
        rows = await self._call(
            "fetch_ohlcv", symbol,
            lambda: self._ex.fetch_ohlcv(symbol, timeframe, since=since_ms, limit=limit),
        )
        return [c for c in (_to_candle(r) for r in rows) if c is not None]

    @staticmethod
    async def _call(what: str, symbol: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        # Imported here: both load ccxt, which the caller already did to build the client.
        import ccxt

        from crypto_ai_bot.adapters.exchange.ccxt.errors import map_ccxt_error

        try:
            return await fn()
        except ccxt.BaseError as exc:
            err = map_ccxt_error(exc)
            raise type(err)(f"{what} {symbol}: {err}") from exc


def _to_candle(row: list[Any]) -> Candle | None:
    """A ccxt OHLCV row [ms, o, h, l, c, v] as a Candle; rows with missing values are skipped."""
    if len(row) < 6 or any(v is None for v in row[:6]):
        return None
    o, h, lo, c, v = (Decimal(str(x)) for x in row[1:6])
    return Candle(int(row[0]), o, h, lo, c, v)
