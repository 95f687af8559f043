"""An in-process event bus with named topics.

An event may have many handlers. A handler marked `safety=True` (audit, halting) is never
swallowed: its error propagates to the publisher. Other handlers' errors are logged and the
remaining handlers still run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crypto_ai_bot.utils.logging import get_logger

Handler = Callable[["Event"], None]

log = get_logger("events")


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    ts_ms: int
    symbol: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[Handler, bool]]] = defaultdict(list)
        self._any: list[tuple[Handler, bool]] = []

    def subscribe(self, topic: str, handler: Handler, *, safety: bool = False) -> None:
        self._handlers[topic].append((handler, safety))

    def subscribe_all(self, handler: Handler, *, safety: bool = False) -> None:
        self._any.append((handler, safety))

    def publish(self, event: Event) -> None:
        for handler, safety in (*self._handlers.get(event.topic, ()), *self._any):
            if safety:
                handler(event)
                continue
            try:
                handler(event)
            except Exception:
                log.exception("event_handler_failed", topic=event.topic)

    def emit(self, topic: str, ts_ms: int, symbol: str = "", **payload: Any) -> None:
        if not self._any and not self._handlers.get(topic):
            return  # nobody listens (a backtest's bus): no event to build
        self.publish(Event(topic=topic, ts_ms=ts_ms, symbol=symbol, payload=payload))
