"""The happy path in live mode against the emulator: entry, stop moves, exit, clean reconcile."""

from __future__ import annotations

from decimal import Decimal

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.model import Action, OrderStatus

from .conftest import SYMBOL, ContainerFactory, decision, sim_balance, ticker


def open_triggers(sim: SimServer) -> list[dict[str, object]]:
    return [t for t in sim.state()["trigger_orders"] if t["status"] == "open"]


async def test_entry_stop_moves_exit_reconcile_clean(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    p = c.pipelines[SYMBOL]
    t = await ticker(c)
    result = await p.act(decision(Action.BUY, t.last), t)
    assert result is not None and result.outcome == "sent"
    assert result.order is not None and result.order.status is OrderStatus.FILLED
    pos = c.repos.positions.get(SYMBOL)
    assert pos.base_amount == sim_balance(sim, "BTC") > 0  # filled minus the base fee

    # an exchange-side backstop rests 0.5 % under the stop level (trailing 1 % below the
    # fill at 60000: 59400 x 0.995)
    [stop] = open_triggers(sim)
    assert Decimal(stop["trigger"]["price"]) == Decimal("59103")  # type: ignore[index]
    assert pos.stop_order_id == str(stop["id"])

    # the price rises: the trailing stop and the exchange stop move up; the old one is gone
    sim.set_price(SYMBOL, "61000")
    await p.protect()
    [moved] = open_triggers(sim)
    assert moved["id"] != stop["id"]
    assert Decimal(moved["trigger"]["price"]) == Decimal("60088")  # type: ignore[index]
    assert c.repos.positions.get(SYMBOL).stop_price == Decimal("60088")
    # a small rise (< 0.2 %) does not move it
    sim.set_price(SYMBOL, "61050")
    await p.protect()
    assert [t["id"] for t in open_triggers(sim)] == [moved["id"]]

    # exit on a signal: the stop of the closed position is cancelled with it; no gap
    t = await ticker(c)
    result = await p.act(decision(Action.SELL, t.last), t)
    assert result is not None and result.outcome == "sent", result
    assert open_triggers(sim) == []
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
    pos = c.repos.positions.get(SYMBOL)
    assert pos.stop_order_id == "" and pos.base_amount == sim_balance(sim, "BTC")
    state = sim.state()
    assert [o["side"] for o in state["orders"]] == ["buy", "sell"]
    assert all(o["status"] == "closed" for o in state["orders"])


async def test_live_feed_polls_closed_candles_and_updates_the_board(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    update = await c.feed.poll(SYMBOL)
    now = c.clock.now_ms()
    assert 50 <= len(update.candles) <= 100  # warm-up history, closed candles only
    assert all(k.ts_ms + 300_000 <= now for k in update.candles)
    assert [k.ts_ms for k in update.candles] == sorted(k.ts_ms for k in update.candles)
    assert c.board.get(SYMBOL) == update.ticker
    again = await c.feed.poll(SYMBOL)
    assert all(k.ts_ms > update.candles[-1].ts_ms for k in again.candles)


async def test_countdown_cancel_all_is_armed_and_disarmed(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    await c.broker.arm_countdown(SYMBOL, 30)
    assert "BTC_USDT" in sim.state()["countdown"]
    await c.broker.arm_countdown(SYMBOL, 0)
    assert sim.state()["countdown"] == {}
