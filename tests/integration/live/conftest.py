"""Live-mode fixtures: the Gate emulator on loopback, live Settings and containers against it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.config import Settings, load_settings
from crypto_ai_bot.domain.model import Action, Decision, Ticker

KEY, SECRET = "live-test-key", "live-test-secret"
SYMBOL = "BTC/USDT"
START_BALANCES = {"USDT": "10000", "BTC": "0"}


def live_settings(sim: SimServer, db_path: Path, **overrides: Any) -> Settings:
    """A live-mode Settings pointed at the emulator; nothing starts on its own."""
    return live_settings_for(sim.base_url, db_path, **overrides)


def live_settings_for(base_url: str, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        mode="live", exchange_api_url=base_url, api_key=KEY, api_secret=SECRET,
        db_path=str(db_path), symbol=SYMBOL, fixed_amount="100", price_feed="live",
        autostart=False, instance_lock="on", http_timeout_ms=3000, risk_cooldown_sec=0,
        exits_hard_stop_pct="2", exits_trailing_pct="1", exchange_countdown_sec=0,
        idempotency_bucket_ms=1000,
        tickers_max_age_ms=0,  # a price the test has just set is the next one read
    )
    values.update(overrides)
    return load_settings(None, **values)


def sim_balance(sim: SimServer, currency: str) -> Decimal:
    b = sim.state()["balances"].get(currency, {"available": "0", "locked": "0"})
    return Decimal(b["available"]) + Decimal(b["locked"])


def decision(action: Action, price: Decimal, ts_ms: int = 0) -> Decision:
    return Decision(SYMBOL, action, "test", ts_ms, price, ts_ms)


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimServer]:
    with SimServer(balances=START_BALANCES, symbols=(SYMBOL,), api_key=KEY,
                   api_secret=SECRET) as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> SimServer:
    """The module's emulator reset: 10000 USDT, BTC at 60000, no faults."""
    sim_server.reset(balances=START_BALANCES, prices={SYMBOL: "60000"})
    return sim_server


ContainerFactory = Callable[..., Any]


@pytest_asyncio.fixture
async def make_container(
    sim: SimServer, tmp_path: Path
) -> AsyncIterator[ContainerFactory]:
    """Build (and start) live containers on one database; all are closed at the end."""
    made: list[Container] = []

    async def make(**overrides: Any) -> Container:
        c = build_container(live_settings(sim, tmp_path / "bot.sqlite3", **overrides))
        made.append(c)
        await c.start()
        assert c.broker_ready, c.broker_error
        keeper = c.extras.get("stop_keeper")
        if keeper is not None:
            keeper.min_interval_ms = 0  # tests move the stop at once
        return c

    yield make
    for c in made:
        with contextlib.suppress(Exception):  # a test may have closed it already
            await c.close()


async def ticker(c: Container) -> Ticker:
    return await c.broker.fetch_ticker(SYMBOL)
