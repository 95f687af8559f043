"""Many markets and the request counts (issue 14): `--markets N` lists Gate's USDT markets,
GET /spot/tickers answers all of them at once, and /_sim/stats counts what was asked per
endpoint and rate-limit class, 429s included."""

from __future__ import annotations

from typing import Any

import httpx

from cab_exchange_sim.catalog import gate_usdt_markets
from cab_exchange_sim.testing import SimServer, start_sim_process


def test_markets_option_lists_and_ticks_that_many() -> None:
    with start_sim_process(None, "--markets", "12", "--tick-ms", "50") as proc:
        pairs = httpx.get(f"{proc.api_url}/spot/currency_pairs", timeout=5).json()
        ids = [p["id"] for p in pairs]
        assert ids[:3] == ["BTC_USDT", "ETH_USDT", "SOL_USDT"] and len(ids) == 12
        first = proc.state()["prices"]
        tickers = httpx.get(f"{proc.api_url}/spot/tickers", timeout=5).json()
        assert sorted(t["currency_pair"] for t in tickers) == sorted(ids)  # one call, all
        moved: dict[str, Any] = {}
        for _ in range(200):  # the price paths move every tick
            moved = {k: v for k, v in proc.state()["prices"].items() if v != first[k]}
            if len(moved) == len(ids):
                break
        assert len(moved) == len(ids)


async def test_stats_count_requests_and_429s_per_class(gate: Any, sim: SimServer) -> None:
    sim.set_faults(public_rate_limit=3)
    for _ in range(3):
        await gate.fetch_tickers()
    answers = []
    for _ in range(2):
        try:
            await gate.fetch_tickers()
        except Exception as exc:  # ccxt maps Gate's TOO_MANY_REQUESTS label
            answers.append(type(exc).__name__)
    assert answers == ["RateLimitExceeded", "RateLimitExceeded"]
    await gate.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 100})
    await gate.fetch_balance()
    stats = sim.stats()
    tickers = stats["endpoints"]["GET /spot/tickers"]
    assert tickers == {"class": "public", "requests": 5, "http_429": 2, "peak_window": 3}
    classes = stats["classes"]
    assert classes["public"]["http_429"] == 2
    assert classes["orders"]["requests"] == 1 and classes["orders"]["peak_window"] == 1
    assert stats["endpoints"]["GET /spot/accounts"]["class"] == "private"
    assert sim.clear_stats()["endpoints"] == {}
    await gate.fetch_balance()
    assert sim.stats()["classes"]["private"]["requests"] == 1
    sim.reset()
    assert sim.stats()["endpoints"] == {}


def test_gate_usdt_markets_are_real_pairs() -> None:
    markets = gate_usdt_markets(200)
    assert len(set(markets)) == 200 and markets[0] == "BTC/USDT"
    assert all(m.endswith("/USDT") for m in markets)
