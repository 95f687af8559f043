"""The message bus: typed events to their handlers, commands to their one handler.

An event may have many handlers, registered in the bootstrap for its class (or a base class).
A handler marked `safety=True` (the audit, the exchange-stop sync) is never swallowed: its error
propagates to the publisher. Other handlers' errors are logged and the remaining handlers still
run. Async handlers run only through `dispatch`, which the loops await; `publish` serves the
sync callers (the watchdog thread, the operator's switch) and refuses an event that has any.

A command has exactly one handler, and its error propagates (cosmicpython's messagebus, without
its catch-all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from crypto_ai_bot.domain.commands import Command
from crypto_ai_bot.domain.events import Event
from crypto_ai_bot.utils.logging import get_logger

E = TypeVar("E", bound=Event)
C = TypeVar("C", bound=Command)
Handler = Callable[[Any], None]
AsyncHandler = Callable[[Any], Awaitable[None]]

log = get_logger("bus")


class MessageBus:
    def __init__(self) -> None:
        self._sync: dict[type[Event], list[tuple[Handler, bool]]] = {}
        self._async: dict[type[Event], list[tuple[AsyncHandler, bool]]] = {}
        self._commands: dict[type[Command], Callable[[Any], Any]] = {}
        self._resolved: dict[type[Event], tuple[list[tuple[Handler, bool]],
                                                 list[tuple[AsyncHandler, bool]]]] = {}
        self._wanted: dict[type[Event], bool] = {}  # wants(), answered by one lookup

    # events ---------------------------------------------------------------------------

    def subscribe(self, event: type[E], handler: Callable[[E], None], *,
                  safety: bool = False) -> None:
        self._sync.setdefault(event, []).append((handler, safety))
        self._resolved.clear()
        self._wanted.clear()

    def subscribe_async(self, event: type[E], handler: Callable[[E], Awaitable[None]], *,
                        safety: bool = False) -> None:
        self._async.setdefault(event, []).append((handler, safety))
        self._resolved.clear()
        self._wanted.clear()

    def _handlers(
        self, kind: type[Event]
    ) -> tuple[list[tuple[Handler, bool]], list[tuple[AsyncHandler, bool]]]:
        found = self._resolved.get(kind)
        if found is None:
            found = self._resolved[kind] = (
                [h for base in kind.__mro__ for h in self._sync.get(base, ())],
                [h for base in kind.__mro__ for h in self._async.get(base, ())],
            )
        return found

    def wants(self, kind: type[Event]) -> bool:
        """Whether anything handles this kind of event: a backtest's bus handles none, so
        its hot path builds no event at all (it asks about six times an order: one lookup)."""
        wanted = self._wanted.get(kind)
        if wanted is None:
            sync, async_ = self._handlers(kind)
            wanted = self._wanted[kind] = bool(sync or async_)
        return wanted

    def publish(self, event: Event) -> None:
        sync, async_ = self._handlers(type(event))
        if async_:
            raise TypeError(f"{type(event).__name__} has async handlers: dispatch it")
        _run(sync, event)

    async def dispatch(self, event: Event) -> None:
        sync, async_ = self._handlers(type(event))
        _run(sync, event)
        for handler, safety in async_:
            if safety:
                await handler(event)
                continue
            try:
                await handler(event)
            except Exception:
                log.exception("event_handler_failed", topic=event.topic)

    # commands -------------------------------------------------------------------------

    def register(self, command: type[C], handler: Callable[[C], Any]) -> None:
        if command in self._commands:
            raise ValueError(f"{command.__name__} already has a handler")
        self._commands[command] = handler

    def handle(self, command: Command) -> Any:
        """Run the command's one handler and return its answer; its error propagates."""
        try:
            handler = self._commands[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        return handler(command)


def _run(handlers: list[tuple[Handler, bool]], event: Event) -> None:
    for handler, safety in handlers:
        if safety:
            handler(event)
            continue
        try:
            handler(event)
        except Exception:
            log.exception("event_handler_failed", topic=event.topic)
