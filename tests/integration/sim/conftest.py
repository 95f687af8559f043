"""Fixtures: one emulator per module (reset before each test) and a real ccxt gate client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from cab_exchange_sim.testing import SimServer, make_ccxt_gate

START_BALANCES = {"USDT": "10000", "BTC": "0", "ETH": "0"}
START_PRICES = {"BTC_USDT": "60000", "ETH_USDT": "3000"}


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimServer]:
    with SimServer(balances=START_BALANCES, seed=7) as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> SimServer:
    """The module's emulator, reset to 10000 USDT, BTC at 60000 and ETH at 3000, no faults."""
    sim_server.reset(balances=START_BALANCES, prices=START_PRICES)
    return sim_server


@pytest_asyncio.fixture
async def gate(sim: SimServer) -> AsyncIterator[Any]:
    """ccxt.async_support.gate pointed at the emulator, markets loaded."""
    ex = make_ccxt_gate(sim.api_url)
    try:
        await ex.load_markets()
        yield ex
    finally:
        await ex.close()
