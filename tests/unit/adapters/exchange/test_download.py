"""download_candles against in-memory sources; CcxtOhlcvSource and build_ccxt_exchange offline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crypto_ai_bot.adapters.exchange.ccxt.client import build_ccxt_exchange
from crypto_ai_bot.adapters.exchange.ccxt.download import CcxtOhlcvSource, download_candles
from crypto_ai_bot.adapters.storage.sqlite.database import open_database
from crypto_ai_bot.adapters.storage.sqlite.market_data import SqliteMarketData
from crypto_ai_bot.domain.errors import BrokerError, ConfigError, ExchangeUnavailable, RateLimited
from crypto_ai_bot.domain.model import Candle
from crypto_ai_bot.ports.clock import ManualClock

STEP = 300_000  # 5m
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
SYM, TF = "BTC/USDT", "5m"


def candle(ts: int, price: str = "100") -> Candle:
    p = Decimal(price)
    return Candle(ts, p, p + 1, p - 1, p, Decimal("2.5"))


class FakeSource:
    """An exchange with candles at the given times, the last one possibly still forming.

    `window=False` answers like Binance (the next `limit` candles at or after since);
    `window=True` like Gate (only candles inside [since, since + limit * step)).
    """

    def __init__(self, times: list[int], *, window: bool = False, fail: int = 0,
                 error: type[Exception] = ExchangeUnavailable) -> None:
        self.candles = [candle(t, str(100 + i)) for i, t in enumerate(times)]
        self.window = window
        self.fail = fail
        self.error = error
        self.calls: list[tuple[int, int]] = []

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since_ms: int,
                          limit: int) -> list[Candle]:
        self.calls.append((since_ms, limit))
        if self.fail:
            self.fail -= 1
            raise self.error("boom")
        if self.window:
            return [c for c in self.candles if since_ms <= c.ts_ms < since_ms + limit * STEP]
        return [c for c in self.candles if c.ts_ms >= since_ms][:limit]


@pytest.fixture
def repo() -> SqliteMarketData:
    return SqliteMarketData(open_database(":memory:"))


def grid(n: int, start: int = T0) -> list[int]:
    return [start + i * STEP for i in range(n)]


async def test_paginates_and_stores_only_closed_candles(repo: SqliteMarketData) -> None:
    times = grid(2501)  # the last one is still forming at `now`
    clock = ManualClock(times[-1] + STEP // 2)
    seen: list[tuple[int, int]] = []
    res = await download_candles(FakeSource(times), repo, SYM, TF, since_ms=T0, clock=clock,
                                 progress=lambda done, total: seen.append((done, total)))
    assert res.stored == 2500 and res.requests == 3
    assert res.dropped_open == 1
    stored = repo.timestamps(SYM, TF)
    assert stored == times[:-1]
    assert stored[-1] + STEP <= clock.now_ms()
    assert res.gaps == [] and res.last_ts == times[-2]
    assert seen[-1] == (2500, 2500)
    assert repo.candles(SYM, TF)[0] == candle(T0, "100")  # exact Decimal values kept


async def test_resumes_after_the_last_stored_candle(repo: SqliteMarketData) -> None:
    times = grid(1200)
    clock = ManualClock(times[500])  # candles 0..499 are closed
    first = await download_candles(FakeSource(times), repo, SYM, TF, since_ms=T0, clock=clock)
    assert first.stored == 500 and repo.last_ts(SYM, TF) == times[499]

    clock.set(times[-1] + STEP)  # everything closed now
    src = FakeSource(times)
    second = await download_candles(src, repo, SYM, TF, since_ms=T0, clock=clock)
    assert src.calls[0][0] == times[500]
    assert second.resumed_after == times[499] and second.start_ms == times[500]
    assert second.stored == 700 and second.requests == 1
    assert repo.timestamps(SYM, TF) == times

    third = await download_candles(FakeSource(times), repo, SYM, TF, since_ms=T0, clock=clock)
    assert third.stored == 0 and third.requests == 0  # nothing new: no request at all


@pytest.mark.parametrize("window", [False, True])
async def test_gaps_are_reported_and_stored_as_they_are(
    repo: SqliteMarketData, window: bool
) -> None:
    # a short hole, then a hole longer than a whole page (an outage)
    times = grid(300) + grid(200, T0 + 310 * STEP) + grid(400, T0 + 2000 * STEP)
    clock = ManualClock(times[-1] + STEP)
    res = await download_candles(FakeSource(times, window=window), repo, SYM, TF,
                                 since_ms=T0, clock=clock, page_limit=250)
    assert res.stored == len(times)
    assert res.gaps == [(times[299], times[300]), (times[499], times[500])]
    assert res.largest_gap_ms == times[500] - times[499]
    assert repo.timestamps(SYM, TF) == times


async def test_gap_between_stored_data_and_new_data_is_reported(
    repo: SqliteMarketData,
) -> None:
    repo.upsert(SYM, TF, [candle(T0)])
    times = grid(10, T0 + 100 * STEP)
    res = await download_candles(FakeSource(times), repo, SYM, TF, since_ms=T0 + 100 * STEP,
                                 clock=ManualClock(times[-1] + STEP))
    assert res.gaps == [(T0, times[0])]


async def test_until_is_exclusive_and_since_is_aligned(repo: SqliteMarketData) -> None:
    times = grid(100)
    res = await download_candles(FakeSource(times), repo, SYM, TF, since_ms=T0 + 1,
                                 until_ms=times[50], clock=ManualClock(times[-1] + STEP))
    assert repo.timestamps(SYM, TF) == times[1:50]
    assert res.start_ms == times[1] and res.end_ms == times[50]


async def test_transient_errors_are_retried_others_propagate(
    repo: SqliteMarketData,
) -> None:
    times = grid(10)
    clock = ManualClock(times[-1] + STEP)
    src = FakeSource(times, fail=1, error=RateLimited)
    res = await download_candles(src, repo, SYM, TF, since_ms=T0, clock=clock)
    assert res.stored == 10 and len(src.calls) == 2
    with pytest.raises(BrokerError):
        await download_candles(FakeSource(times, fail=1, error=BrokerError), repo, "ETH/USDT",
                               TF, since_ms=T0, clock=clock)


async def test_unknown_timeframe_is_a_value_error(repo: SqliteMarketData) -> None:
    with pytest.raises(ValueError, match="unknown timeframe"):
        await download_candles(FakeSource([]), repo, SYM, "7m", since_ms=T0,
                               clock=ManualClock(T0))


class FakeCcxt:
    """Just enough of a ccxt async exchange for CcxtOhlcvSource."""

    def __init__(self, rows: list[list[Any]] | None = None, exc: Exception | None = None):
        self.rows, self.exc = rows or [], exc
        self.markets: dict[str, Any] | None = None
        self.timeframes = {"1m": "1m", "5m": "5m"}

    async def load_markets(self) -> dict[str, Any]:
        if self.exc:
            raise self.exc
        self.markets = {"BTC/USDT": {}}
        return self.markets

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int,
                          limit: int) -> list[list[Any]]:
        if self.exc:
            raise self.exc
        return self.rows


async def test_ccxt_source_converts_floats_through_str_and_skips_holes() -> None:
    src = CcxtOhlcvSource(FakeCcxt([[T0, 0.1, 0.3, 0.05, 0.2, 12.5],
                                    [T0 + STEP, None, 1, 1, 1, 1]]))
    got = await src.fetch_ohlcv(SYM, TF, T0, 10)
    assert got == [Candle(T0, Decimal("0.1"), Decimal("0.3"), Decimal("0.05"), Decimal("0.2"),
                          Decimal("12.5"))]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("RateLimitExceeded", RateLimited), ("RequestTimeout", ExchangeUnavailable),
     ("ExchangeNotAvailable", ExchangeUnavailable), ("BadSymbol", BrokerError)],
)
async def test_ccxt_errors_become_bot_errors(name: str, expected: type[Exception]) -> None:
    import ccxt

    src = CcxtOhlcvSource(FakeCcxt(exc=getattr(ccxt, name)("nope")))
    with pytest.raises(expected):
        await src.fetch_ohlcv(SYM, TF, T0, 10)


async def test_check_market_names_unknown_symbol_and_timeframe() -> None:
    src = CcxtOhlcvSource(FakeCcxt())
    await src.check_market(SYM, "5m")
    with pytest.raises(ValueError, match="unknown symbol"):
        await src.check_market("XYZ/USDT", "5m")
    with pytest.raises(ValueError, match="timeframe '2h' not offered"):
        await src.check_market(SYM, "2h")


# build_ccxt_exchange lives in core/brokers/ccxt_client.py; it is tested here because the
# download command is its first user.


async def test_build_ccxt_exchange_points_every_url_at_api_url() -> None:
    ex = build_ccxt_exchange("gateio", api_url="http://127.0.0.1:1/api/v4/", timeout_ms=1234)
    try:
        assert ex.id == "gate"
        urls = [u for group in ex.urls["api"].values() for u in group.values()]
        assert urls and set(urls) == {"http://127.0.0.1:1/api/v4"}
        assert ex.options["fetchMarkets"] == {"types": ["spot"]}
        assert ex.options["unifiedAccount"] is False
        assert ex.timeout == 1234
    finally:
        await ex.close()


async def test_gate_api_url_gets_its_api_v4_suffix_once() -> None:
    for url in ("http://127.0.0.1:1", "http://127.0.0.1:1/api/v4"):
        ex = build_ccxt_exchange("gate", api_url=url)
        try:
            assert ex.urls["api"]["private"]["spot"] == "http://127.0.0.1:1/api/v4"
        finally:
            await ex.close()


async def test_build_ccxt_exchange_sandbox_and_unknown_ids() -> None:
    ex = build_ccxt_exchange("gate", sandbox=True, api_key="k", secret="s")
    try:
        assert "testnet" in ex.urls["api"]["public"]["spot"]
        assert ex.apiKey == "k"
    finally:
        await ex.close()
    with pytest.raises(ConfigError, match="EXCHANGE"):
        build_ccxt_exchange("no-such-exchange")
