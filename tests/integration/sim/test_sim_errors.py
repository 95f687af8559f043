"""Gate's error labels and injected faults as ccxt exceptions."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import httpx
import pytest

from cab_exchange_sim.auth import sign
from cab_exchange_sim.testing import SimServer, make_ccxt_gate

pytestmark = pytest.mark.asyncio


async def test_bad_signature_wrong_key_and_expired_timestamp(sim: SimServer) -> None:
    for key, secret, label in (("sim-key", "wrong", "INVALID_SIGNATURE"),
                               ("nobody", "sim-secret", "INVALID_KEY")):
        ex = make_ccxt_gate(sim.api_url, key, secret)
        try:
            await ex.load_markets()  # public: works whatever the key
            with pytest.raises(ccxt.AuthenticationError, match=label):
                await ex.fetch_balance()
        finally:
            await ex.close()
    late = make_ccxt_gate(sim.api_url)
    late.options["timeDifference"] = 120_000  # signs with a timestamp 2 minutes old
    try:
        with pytest.raises(ccxt.AuthenticationError, match="REQUEST_EXPIRED"):
            await late.fetch_balance()
    finally:
        await late.close()


async def test_signed_by_hand_and_missing_headers(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        ts = str(int(time.time()))
        query = "currency=USDT"
        headers = {"KEY": "sim-key", "Timestamp": ts,
                   "SIGN": sign("sim-secret", "GET", "/api/v4/spot/accounts", query, b"", ts)}
        ok = await client.get(f"/api/v4/spot/accounts?{query}", headers=headers)
        assert ok.status_code == 200 and ok.json()[0]["currency"] == "USDT"
        bare = await client.get("/api/v4/spot/accounts")
        assert bare.status_code == 401 and bare.json()["label"] == "MISSING_REQUIRED_HEADER"


async def test_order_rejections(gate: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await gate.create_order("BTC/USDT", "limit", "buy", 1, 59000)
    with pytest.raises(ccxt.InsufficientFunds):
        await gate.create_order("BTC/USDT", "market", "sell", 0.01)
    with pytest.raises(ccxt.InvalidOrder, match="INVALID_PRECISION"):
        await gate.private_spot_post_orders({"currency_pair": "BTC_USDT", "type": "limit",
                                             "side": "buy", "amount": "0.0000001",
                                             "price": "50000"})
    with pytest.raises(ccxt.InvalidOrder, match="INVALID_PRECISION"):
        await gate.private_spot_post_orders({"currency_pair": "BTC_USDT", "type": "limit",
                                             "side": "buy", "amount": "0.001",
                                             "price": "50000.05"})
    with pytest.raises(ccxt.InvalidOrder, match="AMOUNT_TOO_LITTLE"):
        await gate.create_order("BTC/USDT", "limit", "buy", 0.00002, 50000)
    with pytest.raises(ccxt.BadSymbol):
        await gate.public_spot_get_tickers({"currency_pair": "NOPE_USDT"})
    with pytest.raises(ccxt.BadSymbol):
        await gate.private_spot_post_orders({"currency_pair": "NOPE_USDT", "type": "limit",
                                             "side": "buy", "amount": "1", "price": "1"})
    with pytest.raises(ccxt.BadRequest):
        await gate.private_spot_post_orders({"currency_pair": "BTC_USDT", "type": "market",
                                             "side": "sell", "amount": "0.001",
                                             "time_in_force": "gtc"})


async def test_rate_limits(gate: Any, sim: SimServer) -> None:
    sim.set_faults(rate_limit_next=1)
    with pytest.raises(ccxt.RateLimitExceeded):
        await gate.fetch_ticker("BTC/USDT")
    await gate.fetch_ticker("BTC/USDT")
    for _ in range(10):
        await gate.create_order("BTC/USDT", "limit", "buy", 0.0001, 50000)
    with pytest.raises(ccxt.RateLimitExceeded):  # 10 placements per second per pair
        await gate.create_order("BTC/USDT", "limit", "buy", 0.0001, 50000)
    await gate.create_order("ETH/USDT", "limit", "buy", 0.01, 2000)  # other pair: fine
    assert len(sim.state()["orders"]) == 11


async def test_server_errors(gate: Any, sim: SimServer) -> None:
    sim.set_faults(error_rate="1")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await gate.fetch_balance()
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
    assert sim.state()["orders"] == []  # refused before execution
    sim.set_faults(error_when="after")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await gate.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
    assert len(sim.state()["orders"]) == 1  # executed, answer lost
    sim.clear_faults()
    await gate.fetch_balance()


async def test_lost_answer_times_out_but_order_executes(sim: SimServer) -> None:
    sim.set_faults(lose_next_orders=1, lose_delay_ms=2500)
    ex = make_ccxt_gate(sim.api_url, timeout_ms=1000)
    try:
        await ex.load_markets()
        with pytest.raises(ccxt.RequestTimeout):
            await ex.create_order("BTC/USDT", "market", "buy", None, None,
                                  {"cost": 100, "clientOrderId": "t-lost-1"})
        orders = sim.state()["orders"]
        assert [(o["text"], o["status"]) for o in orders] == [("t-lost-1", "closed")]
        trades = await ex.fetch_my_trades("BTC/USDT")
        assert [t["info"]["text"] for t in trades] == ["t-lost-1"]
        nxt = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)  # answered again
        assert nxt["status"] == "open"
    finally:
        await ex.close()
