"""The bus's events fanned out to live clients (the cockpit's stream), never in their way.

A non-safety bus handler: it turns an event into a JSON-ready record and puts it, without
waiting, on every client's bounded queue. A client that falls `max_queue` events behind is
dropped (its stream ends; it reconnects and reads the audit for what it missed), so a slow or
gone client never blocks or slows the bus or a trading loop. Events published on another
thread (the watchdog's) reach the clients through the event loop, in the order of their ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from crypto_ai_bot.domain.events import Event
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("event_stream")
_GONE = None  # what a dropped client's queue ends with


@dataclass(frozen=True, slots=True)
class StreamRecord:
    id: int
    ts_ms: int
    topic: str
    symbol: str
    payload: dict[str, Any]


class _Client:
    __slots__ = ("dropped", "queue")

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[StreamRecord | None] = asyncio.Queue(size + 1)
        self.dropped = False


class EventStream:
    def __init__(self, max_queue: int = 1000, max_clients: int = 32) -> None:
        self.max_queue = max_queue
        self.max_clients = max_clients
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_id = 0
        self._lock = threading.Lock()
        self.dropped_clients = 0
        self._closing = False

    @property
    def clients(self) -> int:
        return len(self._clients)

    def handle(self, event: Event) -> None:
        """The bus's handler: cheap and never waiting (nothing at all without clients)."""
        loop = self._loop
        if not self._clients or loop is None or loop.is_closed():
            return
        payload = _jsonable(event.payload())
        with self._lock:  # ids in the order the loop hands them on, whatever the thread
            self._next_id += 1
            record = StreamRecord(self._next_id, event.ts_ms, event.topic, event.symbol,
                                  payload)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: no clients
                loop.call_soon_threadsafe(self._fan_out, record)

    def _fan_out(self, record: StreamRecord) -> None:
        for client in list(self._clients):
            if client.dropped:
                continue
            if client.queue.qsize() >= self.max_queue:  # too far behind: let it go
                client.dropped = True
                self.dropped_clients += 1
                self._clients.discard(client)
                client.queue.put_nowait(_GONE)
                log.warning("stream_client_dropped", behind=self.max_queue)
                continue
            client.queue.put_nowait(record)

    def close(self) -> None:
        """End every stream, now and to come (the server is shutting down: it waits for every
        open response, and a stream never ends by itself). Safe from any thread, and from a
        signal handler."""
        self._closing = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._end_all)

    def _end_all(self) -> None:
        for client in list(self._clients):
            self._clients.discard(client)
            client.queue.put_nowait(_GONE)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[StreamRecord | None]]:
        """A queue of the records published from now on (None: the end: dropped for falling
        behind, or the server closes).
        Raises OverflowError when max_clients already listen."""
        if len(self._clients) >= self.max_clients:
            raise OverflowError(f"{self.max_clients} clients already follow the stream")
        self._loop = asyncio.get_running_loop()
        client = _Client(self.max_queue)
        if self._closing:
            client.queue.put_nowait(_GONE)
        else:
            self._clients.add(client)
        try:
            yield client.queue
        finally:
            self._clients.discard(client)


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """What the audit stores of it: Decimals and enums as strings, exactly."""
    out: dict[str, Any] = json.loads(json.dumps(payload, default=str))
    return out
