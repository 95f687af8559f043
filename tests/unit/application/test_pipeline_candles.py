"""The candles the pipeline evaluates are kept (real SQLite), for cab-backtest --compare; a
database that refuses them stops nothing."""

from __future__ import annotations

from collections.abc import Callable

from structlog.testing import capture_logs
from tests.unit.application.test_pipeline_signals import SYMBOL, Scripted

from crypto_ai_bot.bootstrap import Container
from crypto_ai_bot.domain.model import Action
from crypto_ai_bot.ports.clock import ManualClock

STEP = 300_000


async def test_evaluated_candles_are_stored_and_the_session_recorded(
        paper: Callable[..., Container], clock: ManualClock) -> None:
    c = paper()
    await c.start()
    [session] = c.repos.audit.recent(10, "session.started")
    assert session.payload["settings"]["strategy"] == "ema_cross"
    assert session.payload["settings"]["timeframe"] == "5m"
    p = c.pipelines[SYMBOL]
    for _ in range(3):
        await p.evaluate()
        clock.advance(STEP)
    stored = c.repos.market_data.timestamps(SYMBOL, "5m@fixed")  # a made-up market's key
    assert len(stored) == p.stats.candles == 3
    [started] = c.repos.audit.recent(10, "evaluation.started")
    assert started.payload["first_candle_ts_ms"] == stored[0]
    assert started.payload["candles"] == 1


async def test_a_refused_candle_write_is_logged_and_trading_goes_on(
        paper: Callable[..., Container]) -> None:
    c = paper()
    await c.start()
    c.db.execute("CREATE TRIGGER refuse BEFORE INSERT ON market_data"
                 " BEGIN SELECT RAISE(ABORT, 'refused'); END")
    p = c.pipelines[SYMBOL]
    p.strategy = strategy = Scripted()
    strategy.next = Action.BUY
    with capture_logs() as logs:
        decision = await p.evaluate()
    assert decision is not None and decision.action is Action.BUY
    assert [e for e in logs if e["event"] == "candles_not_stored"]
    assert c.repos.positions.get(SYMBOL).base_amount > 0  # it bought all the same
    assert c.repos.market_data.timestamps(SYMBOL, "5m@fixed") == []
    assert c.states.storage_ok
