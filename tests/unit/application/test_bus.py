"""The message bus: typed events to many handlers, commands to exactly one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.events import (
    DecisionMade,
    Event,
    ExitTriggered,
    PositionChanged,
    audited_events,
)
from crypto_ai_bot.domain.model import Action, Position, StopReason, TradingState


def _decision() -> DecisionMade:
    return DecisionMade(1, "BTC/USDT", Action.BUY, "cross", Decimal("100.5"), 0)


def test_handlers_run_by_class_and_base_class_in_order() -> None:
    bus, seen = MessageBus(), []
    bus.subscribe(DecisionMade, lambda e: seen.append(("decision", e.reason)))
    bus.subscribe(Event, lambda e: seen.append(("any", e.topic)))
    assert bus.wants(DecisionMade) and bus.wants(ExitTriggered)  # the base class counts
    bus.publish(_decision())
    assert seen == [("decision", "cross"), ("any", "decision.made")]


def test_a_failing_handler_is_logged_and_the_others_still_run() -> None:
    bus, seen = MessageBus(), []

    def boom(_e: DecisionMade) -> None:
        raise RuntimeError("metrics down")

    bus.subscribe(DecisionMade, boom)
    bus.subscribe(DecisionMade, lambda e: seen.append(e.price))
    bus.publish(_decision())
    assert seen == [Decimal("100.5")]


def test_a_failing_safety_handler_reaches_the_publisher() -> None:
    bus = MessageBus()

    def audit(_e: DecisionMade) -> None:
        raise OSError("disk full")

    bus.subscribe(DecisionMade, audit, safety=True)
    with pytest.raises(OSError, match="disk full"):
        bus.publish(_decision())


async def test_async_handlers_run_on_dispatch_and_publish_refuses_them() -> None:
    bus, seen = MessageBus(), []

    async def follow(e: PositionChanged) -> None:
        seen.append(e.level)

    bus.subscribe_async(PositionChanged, follow, safety=True)
    event = PositionChanged(1, "BTC/USDT", Position("BTC/USDT"), None)
    with pytest.raises(TypeError, match="dispatch"):
        bus.publish(event)
    await bus.dispatch(event)
    assert seen == [None]


def test_nobody_listens_nobody_wants() -> None:
    assert not MessageBus().wants(DecisionMade)


def test_a_command_has_exactly_one_handler_and_its_answer() -> None:
    bus = MessageBus()
    with pytest.raises(LookupError, match="SetTradingState"):
        bus.handle(SetTradingState(TradingState.HALTED, "x"))
    bus.register(SetTradingState, lambda c: f"set {c.state}")
    assert bus.handle(SetTradingState(TradingState.HALTED, "x")) == "set HALTED"
    with pytest.raises(ValueError, match="already"):
        bus.register(SetTradingState, lambda c: None)


def test_command_errors_propagate() -> None:
    bus = MessageBus()

    def refuse(_c: SetTradingState) -> None:
        raise PermissionError("no")

    bus.register(SetTradingState, refuse)
    with pytest.raises(PermissionError):
        bus.handle(SetTradingState(TradingState.ACTIVE, "x"))


def test_events_keep_the_audit_topics_and_payloads() -> None:
    e = ExitTriggered(5, "BTC/USDT", StopReason.HARD_STOP, Decimal(98), Decimal("97.9"))
    assert e.topic == "exit.triggered"
    assert e.payload() == {"reason": "hard_stop", "stop": Decimal(98), "price": Decimal("97.9"),
                           "candle_ts_ms": 0}
    topics = {k.topic for k in audited_events()}
    assert {"decision.made", "order.placed", "order.filled", "order.rejected", "order.unknown",
            "order.settled", "exit.triggered", "stop.moved", "reconcile.mismatch",
            "reconcile.unknown_order", "dms.tripped", "trading_state.changed",
            "risk.denied", "stop.unprotected", "reconcile.unknown_stop", "session.started",
            "evaluation.started", "loops.started", "loops.stopped", "order.sent"} == topics
    assert PositionChanged not in audited_events()  # internal: handled, not audited
