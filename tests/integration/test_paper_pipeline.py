"""The paper pipeline end to end on a real SQLite file: evaluate → risk → place_order →
protective_exits → reconcile, and the orchestrator's loops with the dead man's switch."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.clock import ManualClock
from crypto_ai_bot.ports.feed import FeedUpdate

T0 = 1_767_225_600_000


async def test_synthetic_market_trades_and_reconciles(make_settings: Callable[..., Any]) -> None:
    clock = ManualClock(T0)
    c = build_container(
        make_settings(autostart=False, risk_cooldown_sec=0, exits_trailing_pct=Decimal("1")),
        clock=clock,
    )
    await c.start()
    p = c.pipelines["BTC/USDT"]
    for _ in range(300):
        await p.evaluate()
        await p.protect()
        clock.advance(61_000)  # a new idempotency bucket each step
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
    decisions = p.stats.decisions
    assert decisions["buy"] >= 3  # sells while flat (after a stop) are signals, not counted
    trades = c.repos.trades.between(0, clock.now_ms() + 1)
    buys = [t for t in trades if t.side.value == "buy"]
    sells = [t for t in trades if t.side.value == "sell"]
    assert len(buys) >= 3 and len(sells) >= 2
    assert c.repos.positions.get("BTC/USDT").base_amount == c.broker.balance("BTC")
    assert c.repos.audit.count("decision.made") == decisions["buy"] + decisions["sell"]
    assert c.repos.audit.count("order.filled") == len(trades)
    exits = c.repos.audit.recent(1000, "exit.triggered")
    assert exits, "trailing or hard stops should have fired on this market"
    await c.close()


async def test_orchestrator_loops_start_stop(make_settings: Callable[..., Any]) -> None:
    c = build_container(make_settings(eval_interval_sec=0.05, exits_interval_sec=0.05,
                                      risk_cooldown_sec=0, autostart=True))
    await c.start()
    assert c.orchestrator.running
    assert await c.orchestrator.start() is False  # idempotent
    await asyncio.sleep(1.0)
    status = c.orchestrator.status()
    assert status["positions"]["BTC/USDT"]["candles_evaluated"] > 60
    assert set(status["loops"]) == {"evaluate:BTC/USDT", "exits:BTC/USDT", "reconcile"}
    assert await c.orchestrator.stop() is True
    assert await c.orchestrator.stop() is False
    assert not c.orchestrator.running
    await c.close()


class _StuckFeed:
    """A feed whose poll never returns after the first: the evaluate loop goes silent."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.polls = 0

    async def poll(self, symbol: str) -> FeedUpdate:
        self.polls += 1
        if self.polls > 1:
            await asyncio.sleep(3600)
        update: FeedUpdate = await self._inner.poll(symbol)
        return update

    async def ticker(self, symbol: str) -> Any:
        return await self._inner.ticker(symbol)

    async def close(self) -> None:
        return None


async def test_dead_mans_switch_halts_a_stalled_bot(make_settings: Callable[..., Any]) -> None:
    settings = make_settings(eval_interval_sec=0.05, exits_interval_sec=0.05,
                             watchdog_interval_sec=0.05, reconcile_interval_sec=0.2,
                             dms_timeout_ms=1000, autostart=True)
    base = build_container(settings)
    feed = _StuckFeed(base.feed)
    base.db.close()
    c = build_container(settings, feed=feed)
    c.orchestrator.config = dataclasses.replace(c.orchestrator.config, stop_timeout_s=0.5)
    await c.start()
    for _ in range(100):  # the trip's handler runs on the watchdog thread: the flag goes up
        # first, then each write (an fsync each) follows
        if c.orchestrator.dms.tripped and c.repos.audit.count("dms.tripped"):
            break
        await asyncio.sleep(0.1)
    assert c.orchestrator.dms.tripped
    assert c.repos.state.trading_state() is TradingState.HALTED
    assert "evaluate:BTC/USDT" in c.repos.state.trading_state_reason()
    assert c.repos.audit.count("dms.tripped") == 1
    assert c.metrics.registry.get_sample_value("cab_dms_tripped") == 1
    assert c.metrics.registry.get_sample_value("cab_dms_trips_total") == 1
    await c.orchestrator.stop()
    await c.close()
