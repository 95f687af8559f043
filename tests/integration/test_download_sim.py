"""Downloading candles from the Gate emulator with real ccxt over loopback HTTP."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crypto_ai_bot.adapters.exchange.ccxt.client import build_ccxt_exchange
from crypto_ai_bot.adapters.exchange.ccxt.download import CcxtOhlcvSource, download_candles
from crypto_ai_bot.adapters.storage.sqlite.database import open_database
from crypto_ai_bot.adapters.storage.sqlite.market_data import SqliteMarketData
from crypto_ai_bot.ports.clock import SystemClock
from crypto_ai_bot.utils.time import iso_utc

testing = pytest.importorskip("cab_exchange_sim.testing")

REPO = Path(__file__).resolve().parents[2]
STEP = 300_000
DAY = 86_400_000


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with testing.SimServer(seed=11) as server:
        yield server


async def test_download_paginates_resumes_and_keeps_only_closed_candles(
    sim: Any, tmp_path: Path
) -> None:
    repo = SqliteMarketData(open_database(str(tmp_path / "bot.db")))
    ex = build_ccxt_exchange("gate", api_url=sim.api_url, enable_rate_limit=False)
    clock = SystemClock()
    try:
        source = CcxtOhlcvSource(ex)
        await source.check_market("BTC/USDT", "5m")
        since = clock.now_ms() - 4 * DAY  # 1152 candles: two pages of at most 1000
        first = await download_candles(source, repo, "BTC/USDT", "5m", since_ms=since,
                                       clock=clock)
        ts = repo.timestamps("BTC/USDT", "5m")
        assert first.requests >= 2 and first.stored == len(ts) >= 1150
        assert first.gaps == []
        assert all(b - a == STEP for a, b in itertools.pairwise(ts))
        assert ts[-1] + STEP <= clock.now_ms()  # the forming candle was not stored
        candles = repo.candles("BTC/USDT", "5m")
        assert all(c.low <= c.open <= c.high and c.low <= c.close <= c.high for c in candles)

        again = await download_candles(source, repo, "BTC/USDT", "5m", since_ms=since,
                                       clock=clock)
        assert again.resumed_after == ts[-1]
        assert again.stored <= 1 and again.requests <= 1
    finally:
        await ex.close()


def test_cab_data_download_against_the_emulator(sim: Any, tmp_path: Path) -> None:
    since = iso_utc(SystemClock().now_ms() - DAY).replace(" ", "T")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
           "EXCHANGE": "gate", "EXCHANGE_API_URL": sim.api_url}

    def cab_data(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crypto_ai_bot.cli.data", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)

    r = cab_data("download", "--symbol", "BTC/USDT", "--timeframe", "5m", "--since", since,
                 "--db", "bot.db")
    assert r.returncode == 0, r.stderr
    assert "BTC/USDT 5m: stored 28" in r.stdout  # 287 or 288 closed candles in a day
    r = cab_data("list", "--db", "bot.db")
    assert "BTC/USDT" in r.stdout

    r = cab_data("download", "--symbol", "NOPE/USDT", "--timeframe", "5m", "--since", since,
                 "--db", "bot.db")
    assert r.returncode == 2
    assert "gate: unknown symbol 'NOPE/USDT'" in r.stderr
