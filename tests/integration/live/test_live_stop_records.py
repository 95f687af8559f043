"""Exchange-side stops recorded write-ahead and recognised without a client id (real Gate
echoes none on price orders): the fault of issue 10 (the stop id's save fails, the stop fires
while the bot is down) ends with the exit booked and the books equal. Real ccxt against the
emulator, real SQLite."""

from __future__ import annotations

import contextlib
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
from tests.integration.live.conftest import (
    SYMBOL,
    ContainerFactory,
    decision,
    sim_balance,
    ticker,
)

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.model import Action, OrderStatus

DUST = Decimal("0.00001")


def _fail_once(monkeypatch: pytest.MonkeyPatch, repo: Any, method: str,
               when: Any = lambda *a: True) -> list[Any]:
    """Make `repo.method` raise once, as a full disk would, when `when(*args)` holds."""
    real = getattr(repo, method)
    failed: list[Any] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        if not failed and when(*args):
            failed.append(args)
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(repo, method, failing)
    return failed


async def _buy_with_failed_save(c: Any) -> None:
    p = c.pipelines[SYMBOL]
    t = await ticker(c)
    # the keeper's save fails inside the entry's safety handler: the bot goes down
    with contextlib.suppress(sqlite3.OperationalError):
        await p.act(decision(Action.BUY, t.last), t)


async def _restart_and_check(make_container: ContainerFactory, sim: SimServer) -> Any:
    c = await make_container()
    report = await c.orchestrator.reconcile_once(startup=True)
    assert report.ok, report.as_dict()
    pos = c.repos.positions.get(SYMBOL)
    assert pos.base_amount == sim_balance(sim, "BTC") < DUST
    return c


@pytest.mark.parametrize("lost", ["position save", "position and stop record saves"])
async def test_a_stop_whose_id_was_not_saved_is_booked_when_it_fires_while_down(
    sim: SimServer, make_container: ContainerFactory, monkeypatch: pytest.MonkeyPatch,
    lost: str,
) -> None:
    c = await make_container()
    failed = _fail_once(monkeypatch, c.repos.positions, "save", lambda pos: pos.stop_order_id)
    if lost != "position save":  # the record keeps no id either: found by its fields
        failed = _fail_once(monkeypatch, c.repos.stops, "placed")
    await _buy_with_failed_save(c)
    assert failed, "the stop id's save never failed"
    assert [r.exchange_id != "" for r in c.repos.stops.active(SYMBOL)] == [
        lost == "position save"]
    assert [x["status"] for x in sim.state()["trigger_orders"]] == ["open"]
    assert c.repos.positions.get(SYMBOL).stop_order_id == ""
    held = c.repos.positions.get(SYMBOL).base_amount
    assert held > 0 and held == sim_balance(sim, "BTC")
    await c.close()  # the bot is down
    for price in ("59000", "57500", "55800"):  # -7 %: through the stop (59103), which sells
        sim.set_price(SYMBOL, price)
    assert sim_balance(sim, "BTC") < DUST
    stop_id = str(sim.state()["trigger_orders"][0]["id"])
    first = await _restart_and_check(make_container, sim)
    exit_order = first.repos.orders.get(f"stop-{stop_id}")
    assert exit_order is not None and exit_order.status is OrderStatus.FILLED
    assert exit_order.filled == first.broker.market(SYMBOL).round_amount(held)
    pnl = first.repos.positions.get(SYMBOL).realized_pnl
    trades = first.repos.trades.count()
    assert first.repos.state.trading_state().value == "ACTIVE"
    await first.close()
    second = await _restart_and_check(make_container, sim)  # booked once, and only once
    assert second.repos.trades.count() == trades
    assert second.repos.positions.get(SYMBOL).realized_pnl == pnl
    assert not second.repos.stops.active(SYMBOL)


async def test_a_stop_that_cannot_be_placed_is_an_alarm_retried_with_backoff(
    sim: SimServer, make_container: ContainerFactory,
) -> None:
    import httpx

    from crypto_ai_bot.api.server import create_app

    token = "stops-test-token-0123456789abcdef"
    c = await make_container(api_token=token)
    keeper = c.extras["stop_keeper"]
    p = c.pipelines[SYMBOL]
    t = await ticker(c)
    await p.act(decision(Action.BUY, t.last), t)
    stop_id = c.repos.positions.get(SYMBOL).stop_order_id
    sim.exchange.triggers.cancel(stop_id, sim.exchange.now())  # gone (say, by an operator)
    await keeper.settle_fired(SYMBOL)
    assert c.repos.positions.get(SYMBOL).stop_order_id == ""
    sim.set_faults(rate_limit_next=1)  # Gate answers the next placement 429
    await keeper.sync(SYMBOL, c.repos.positions.get(SYMBOL), p.stop_level())
    assert "placement rejected" in keeper.unprotected()[SYMBOL]
    app = create_app(container=c)
    app.state.container = c  # started above: the app's lifespan is not needed
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        health = (await client.get("/health")).json()
        assert health["status"] == "degraded" and SYMBOL in health["unprotected_positions"]
        status = (await client.get("/orchestrator/status")).json()
        assert status["positions"][SYMBOL]["unprotected"]
        assert 'cab_position_unprotected{symbol="BTC/USDT"} 1.0' in c.metrics.render().decode()
        await p.protect()  # backing off: no new attempt yet
        assert [x["status"] for x in sim.state()["trigger_orders"]] == ["cancelled"]
        keeper._retry_at[SYMBOL] = 0  # the backoff has passed
        await p.protect()
        assert [x["status"] for x in sim.state()["trigger_orders"]] == ["cancelled", "open"]
        assert keeper.unprotected() == {}
        health = (await client.get("/health")).json()
        assert health["unprotected_positions"] == {}, health
        assert health["status"] == "ok" and health["reasons"] == [], health
        assert 'cab_position_unprotected{symbol="BTC/USDT"} 0.0' in c.metrics.render().decode()
