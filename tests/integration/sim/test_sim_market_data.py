"""Public data and balances through real ccxt."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cab_exchange_sim.testing import SimServer

pytestmark = pytest.mark.asyncio


async def test_load_markets_precision_and_limits(gate: Any) -> None:
    btc = gate.market("BTC/USDT")
    assert btc["id"] == "BTC_USDT"
    assert btc["spot"] is True and btc["active"] is True
    assert btc["precision"]["price"] == pytest.approx(0.1)
    assert btc["precision"]["amount"] == pytest.approx(0.000001)
    assert btc["limits"]["amount"]["min"] == pytest.approx(0.00001)
    assert btc["limits"]["cost"]["min"] == pytest.approx(3)
    assert btc["taker"] == pytest.approx(0.002)
    eth = gate.market("ETH/USDT")
    assert eth["precision"]["price"] == pytest.approx(0.01)
    assert eth["precision"]["amount"] == pytest.approx(0.0001)
    assert {"BTC", "ETH", "USDT"} <= set(gate.currencies)


async def test_ticker_and_order_book(gate: Any, sim: SimServer) -> None:
    ticker = await gate.fetch_ticker("BTC/USDT")
    assert ticker["last"] == 60000
    assert ticker["bid"] < 60000 < ticker["ask"]
    assert ticker["high"] >= 60000 >= ticker["low"]
    sim.set_price("BTC/USDT", "61000.15")  # rounded to the pair's precision
    assert (await gate.fetch_ticker("BTC/USDT"))["last"] == pytest.approx(61000.2)
    book = await gate.fetch_order_book("BTC/USDT", 5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] < 61000.2 < book["asks"][0][0]
    assert book["timestamp"] is not None and book["nonce"] is not None


async def test_fetch_ohlcv_recent_and_paginated(gate: Any) -> None:
    recent = await gate.fetch_ohlcv("BTC/USDT", "1m", limit=50)
    assert len(recent) == 50
    assert recent[-1][4] == 60000  # the open candle closes at the current price
    for ts, o, h, low, c, v in recent:
        assert ts % 60_000 == 0 and low <= min(o, c) <= max(o, c) <= h and v > 0
    now = gate.milliseconds()
    since = (now - 2_500 * 60_000) // 60_000 * 60_000
    first = await gate.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=1000)
    assert len(first) == 1000 and first[0][0] == since
    second = await gate.fetch_ohlcv("BTC/USDT", "1m", since=first[-1][0] + 60_000, limit=1000)
    assert second[0][0] == first[-1][0] + 60_000
    assert second[0][1] == first[-1][4]  # continuous history
    again = await gate.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=1000)
    assert again == first  # deterministic
    paged = await gate.fetch_ohlcv("BTC/USDT", "1h", since=now - 3_000 * 3_600_000,
                                   params={"paginate": True, "paginationCalls": 3})
    stamps = [row[0] for row in paged]
    assert len(stamps) > 2_000 and stamps == sorted(set(stamps))
    prices = [row[4] for row in paged]
    assert min(prices) > 20_000 and max(prices) < 180_000  # realistic around 60000


async def test_fetch_balance_and_time(gate: Any, sim: SimServer) -> None:
    balance = await gate.fetch_balance()
    assert balance["USDT"]["free"] == 10000 and balance["USDT"]["used"] == 0
    sim.set_balances(BTC="0.5")
    assert (await gate.fetch_balance())["BTC"]["free"] == 0.5
    assert abs(await gate.fetch_time() - gate.milliseconds()) < 5_000


async def test_rate_limit_headers_on_every_answer(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.api_url) as client:
        response = await client.get("/spot/currency_pairs/BTC_USDT")
        assert response.status_code == 200
        for header in ("X-Gate-RateLimit-Requests-Remain", "X-Gate-RateLimit-Limit",
                       "X-Gate-RateLimit-Reset-Timestamp"):
            assert response.headers[header].isdigit()
        missing = await client.get("/spot/currency_pairs/NOPE_USDT")
        assert missing.status_code == 400
        assert missing.json()["label"] == "INVALID_CURRENCY_PAIR"
        assert "X-Gate-RateLimit-Limit" in missing.headers


async def test_the_public_tape_has_trades_before_the_account_trades(
    gate: Any, sim: SimServer
) -> None:
    """Real Gate always has a tape; the emulator's follows its price path."""
    tape = await gate.fetch_trades("BTC/USDT", None, 100)
    assert len(tape) == 100
    times = [t["timestamp"] for t in tape]
    assert times == sorted(times) and len(set(t["id"] for t in tape)) == 100  # ccxt: oldest first
    assert {t["side"] for t in tape} == {"buy", "sell"}
    assert all(t["amount"] > 0 and 50_000 < t["price"] < 70_000 for t in tape)
    assert times[-1] <= gate.milliseconds() and times[0] >= gate.milliseconds() - 300_000
    sim.set_balances(USDT="10000")
    mine = await gate.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 100})
    [own] = await gate.fetch_order_trades(mine["id"], "BTC/USDT")
    after = await gate.fetch_trades("BTC/USDT", None, 100)
    assert own["id"] in {t["id"] for t in after}  # the account's own trade is on it too
