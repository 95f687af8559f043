"""Market data for many symbols (issue 14), counted at the emulator: one ticker request serves
every symbol, and candles are asked for only once a candle has closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cab_exchange_sim.catalog import gate_usdt_markets
from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.bootstrap import build_container

from .conftest import KEY, SECRET, live_settings

SYMBOLS = gate_usdt_markets(5)
TICKERS, CANDLES = "GET /spot/tickers", "GET /spot/candlesticks"


@pytest.fixture(scope="module")
def markets() -> Iterator[SimServer]:
    with SimServer(balances={"USDT": "10000"}, symbols=SYMBOLS, api_key=KEY,
                   api_secret=SECRET) as server:
        yield server


@pytest.fixture
def sim(markets: SimServer) -> SimServer:
    markets.reset()  # also the request counts
    return markets


async def test_one_ticker_request_serves_every_symbol(sim: SimServer, tmp_path: Path) -> None:
    c = build_container(live_settings(sim, tmp_path / "bot.sqlite3", symbols=",".join(SYMBOLS),
                                      tickers_max_age_ms=60_000))
    try:
        await c.start()
        assert c.broker_ready, c.broker_error
        sim.reset()
        updates = await asyncio.gather(*(c.feed.poll(s) for s in SYMBOLS))
        assert sim.requests_to(TICKERS) == 1  # five symbols polled at once: one request
        assert sim.requests_to(CANDLES) == len(SYMBOLS)  # each symbol's warm-up
        pairs = zip(updates, SYMBOLS, strict=True)
        assert all(u.candles and u.ticker.symbol == s for u, s in pairs)
        prices = sim.state()["prices"]
        for s in SYMBOLS:  # every symbol's price from that one answer, on the board too
            assert str(c.board.get(s).last) == prices[s.replace("/", "_")]  # type: ignore[union-attr]
        for s in SYMBOLS:  # the exits' reads, one after the other: the same batch
            await c.feed.ticker(s)
        assert sim.requests_to(TICKERS) == 1
        assert sim.stats()["classes"]["public"]["http_429"] == 0
    finally:
        await c.close()


async def test_candles_are_read_once_per_close(sim: SimServer, tmp_path: Path) -> None:
    """Polled many times, each symbol's candles are read for the warm-up and then once when
    the next 10 s candle has closed; every poll round's tickers come in one request."""
    c = build_container(live_settings(sim, tmp_path / "bot.sqlite3", symbols=",".join(SYMBOLS),
                                      timeframe="10s"))
    try:
        await c.start()
        assert c.broker_ready, c.broker_error
        sim.reset()
        first = await asyncio.gather(*(c.feed.poll(s) for s in SYMBOLS))
        newest = {s: u.candles[-1].ts_ms for s, u in zip(SYMBOLS, first, strict=True)}
        rounds, fresh = 1, dict.fromkeys(SYMBOLS, 0)
        while not all(fresh.values()) and rounds < 600:  # at most ~30 s: one close is 10 s
            await asyncio.sleep(0.05)
            updates = await asyncio.gather(*(c.feed.poll(s) for s in SYMBOLS))
            rounds += 1
            for s, u in zip(SYMBOLS, updates, strict=True):
                assert all(k.ts_ms > newest[s] for k in u.candles)  # never one twice
                fresh[s] += len(u.candles)
        assert all(n == 1 for n in fresh.values()), fresh
        assert sim.requests_to(CANDLES) == 2 * len(SYMBOLS)  # warm-up, then the one close
        assert sim.requests_to(TICKERS) == rounds  # one per round, for all five
    finally:
        await c.close()


async def test_gate_paces_each_endpoint_on_its_own(sim: SimServer, tmp_path: Path) -> None:
    """Gate limits each endpoint on its own (200 per 10 s), so the client-side pace is per
    endpoint: with a pace of 1 request per window, a queue of reads of open orders does not
    hold back a read of another endpoint (my trades), asked for last."""
    c = build_container(live_settings(sim, tmp_path / "bot.sqlite3", symbols=",".join(SYMBOLS),
                                      exchange_requests_per_sec=1))
    try:
        await c.start()
        assert c.broker_ready, c.broker_error
        await asyncio.sleep(1.2)  # the start-up's reads have left the window
        done: list[str] = []

        async def note(name: str, read: Any) -> None:
            await read
            done.append(name)

        reads = [note(f"open orders {s}", c.broker.fetch_open_orders(s)) for s in SYMBOLS[:3]]
        await asyncio.gather(*reads, note("my trades", c.broker.fetch_my_trades(SYMBOLS[0], 0)))
        assert done.index("my trades") < 2, done  # not behind the queue of open-order reads
        assert sim.stats()["classes"]["private"]["http_429"] == 0
    finally:
        await c.close()
