"""Events: frozen dataclasses named in the past tense, for what happened.

Each carries when (`ts_ms`, from the injected clock) and for which symbol ("" for the whole
bot). `topic` names it in the audit log, whose payload is every other field (`payload()`);
events marked `audited = False` (state a handler needs, such as a position that changed) are
handled but not written to the audit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar

from crypto_ai_bot.domain.model import Action, Intent, Position, Side, StopLevel, TradingState


@dataclass(frozen=True, slots=True)
class Event:
    topic: ClassVar[str] = ""
    audited: ClassVar[bool] = True

    ts_ms: int
    symbol: str

    def payload(self) -> dict[str, Any]:
        """The audit record's payload: every field but the time and the symbol."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("ts_ms", "symbol")}


@dataclass(frozen=True, slots=True)
class DecisionMade(Event):
    topic: ClassVar[str] = "decision.made"

    action: Action
    reason: str
    price: Decimal
    candle_ts_ms: int


@dataclass(frozen=True, slots=True)
class RiskDenied(Event):
    topic: ClassVar[str] = "risk.denied"

    ok: bool
    reasons: list[str]
    limits: dict[str, Any]
    rules: tuple[str, ...] = ()  # for the metric; the reasons say the same to people

    def payload(self) -> dict[str, Any]:
        return {"ok": self.ok, "reasons": self.reasons, "limits": self.limits}


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    topic: ClassVar[str] = "order.placed"

    client_order_id: str
    side: Side
    intent: Intent
    exchange_order_id: str


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    topic: ClassVar[str] = "order.filled"

    client_order_id: str
    side: Side
    filled: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str
    position_base: Decimal


@dataclass(frozen=True, slots=True)
class OrderRejected(Event):
    topic: ClassVar[str] = "order.rejected"

    client_order_id: str
    side: str
    error: str
    error_type: str


@dataclass(frozen=True, slots=True)
class OrderOutcomeUnknown(Event):
    topic: ClassVar[str] = "order.unknown"

    client_order_id: str
    side: str
    error: str
    error_kind: str = ""  # for the metric: OrderOutcomeUnknown, or what was raised

    def payload(self) -> dict[str, Any]:
        return {"client_order_id": self.client_order_id, "side": self.side,
                "error": self.error}


@dataclass(frozen=True, slots=True)
class OrderSettled(Event):
    """Reconcile moved an order on: by the exchange's report, or as never executed (why)."""

    topic: ClassVar[str] = "order.settled"

    client_order_id: str
    was: str
    now: str
    why: str = ""

    def payload(self) -> dict[str, Any]:
        out = {"client_order_id": self.client_order_id, "was": self.was, "now": self.now}
        if self.why:
            out["why"] = self.why
        return out


@dataclass(frozen=True, slots=True)
class OrderClosed(Event):
    """An order reached a final state (for the metrics)."""

    topic: ClassVar[str] = "order.closed"
    audited: ClassVar[bool] = False

    client_order_id: str
    side: str
    status: str


@dataclass(frozen=True, slots=True)
class FillRecorded(Event):
    """A fill stored for the first time (for the metrics)."""

    topic: ClassVar[str] = "fill.recorded"
    audited: ClassVar[bool] = False

    side: Side


@dataclass(frozen=True, slots=True)
class ExitTriggered(Event):
    """A client-side stop was breached."""

    topic: ClassVar[str] = "exit.triggered"

    reason: str
    stop: Decimal
    price: Decimal
    candle_ts_ms: int = 0  # the newest candle evaluated then (the stop fell in the next one)


@dataclass(frozen=True, slots=True)
class ExchangeStopFired(Event):
    """The resting exchange-side stop sold; its sell is now recorded."""

    topic: ClassVar[str] = "exit.triggered"

    reason: str
    stop: str
    stop_id: str
    exchange_order_id: str


@dataclass(frozen=True, slots=True)
class StopMoved(Event):
    topic: ClassVar[str] = "stop.moved"

    stop_id: str
    trigger: str
    limit: str
    amount: str
    reason: str
    replaced: str


@dataclass(frozen=True, slots=True)
class StopUnprotected(Event):
    """A position's exchange-side stop could not be placed: an alarm until one rests."""

    topic: ClassVar[str] = "stop.unprotected"

    reason: str
    retry_in_ms: int


@dataclass(frozen=True, slots=True)
class UnknownStopFound(Event):
    """A price order open on a traded symbol that the bot cannot account for."""

    topic: ClassVar[str] = "reconcile.unknown_stop"

    stop_id: str
    trigger: str
    amount: str
    cancelled: bool


@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """An entry or an exit was sent (the position is, or will be, another): its protection
    follows (the exchange-side stop)."""

    topic: ClassVar[str] = "position.changed"
    audited: ClassVar[bool] = False

    position: Position
    level: StopLevel | None


@dataclass(frozen=True, slots=True)
class StopsChecked(Event):
    """The exits loop found no stop breached; the level may have risen with the peak."""

    topic: ClassVar[str] = "stops.checked"
    audited: ClassVar[bool] = False

    position: Position
    level: StopLevel | None


@dataclass(frozen=True, slots=True)
class PositionChecked(Event):
    """Reconcile compared a position with the exchange (for the mismatch gauge)."""

    topic: ClassVar[str] = "position.checked"
    audited: ClassVar[bool] = False

    ok: bool


@dataclass(frozen=True, slots=True)
class ReconcileMismatch(Event):
    topic: ClassVar[str] = "reconcile.mismatch"

    local: str
    exchange: str
    diff: str


@dataclass(frozen=True, slots=True)
class UnknownOrderFound(Event):
    """An order open at the exchange that the bot did not record: reported, never adopted."""

    topic: ClassVar[str] = "reconcile.unknown_order"

    exchange_order_id: str
    client_order_id: str
    side: str
    amount: str


@dataclass(frozen=True, slots=True)
class DeadMansSwitchTripped(Event):
    topic: ClassVar[str] = "dms.tripped"

    loops: list[str]
    action: str


@dataclass(frozen=True, slots=True)
class TradingStateChanged(Event):
    topic: ClassVar[str] = "trading_state.changed"

    state: TradingState
    reason: str


# what cab-backtest --compare needs to see what the bot saw ----------------------------------

@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    """The trading process started, with the settings it trades by (no secret among them)."""

    topic: ClassVar[str] = "session.started"

    mode: str
    settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EvaluationStarted(Event):
    """A symbol's first candles of the session reached its strategy: the warm-up (all but the
    last, whose signal alone counts) ends at last_candle_ts_ms."""

    topic: ClassVar[str] = "evaluation.started"

    timeframe: str
    first_candle_ts_ms: int
    last_candle_ts_ms: int
    candles: int


# the trading loops' lifecycle (what the notifiers announce as the bot's start and stop) -----

@dataclass(frozen=True, slots=True)
class LoopsStarted(Event):
    topic: ClassVar[str] = "loops.started"

    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoopsStopped(Event):
    topic: ClassVar[str] = "loops.stopped"


@dataclass(frozen=True, slots=True)
class OrderSent(Event):
    """When an order's request left, and when what caused it was seen (issue 14: the latency
    from a candle's close, or a price crossing a stop, to the request). `ts_ms` is the send;
    announced after the answer, so that recording it never delays a request."""

    topic: ClassVar[str] = "order.sent"

    client_order_id: str
    cause: str  # "signal" (a strategy's buy or sell) | "stop" (a protective exit)
    candle_ts_ms: int  # a signal: the opening time of its candle; 0 for a stop
    decided_ms: int  # a signal: when the decision was made; 0 for a stop
    in_process_us: int  # from the signal or the breach seen to the request handed over


def audited_events() -> list[type[Event]]:
    """Every concrete event kind the audit records."""
    found: list[type[Event]] = []
    todo: list[type[Event]] = list(Event.__subclasses__())
    while todo:
        kind = todo.pop(0)
        todo.extend(kind.__subclasses__())
        if kind.audited:
            found.append(kind)
    return found
