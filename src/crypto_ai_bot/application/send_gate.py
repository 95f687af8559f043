"""SendGate: orders of different symbols in flight together, never while reconcile reads.

An order holds the gate from its request until its answer is applied, so that reconcile, which
holds it alone (`async with gate`), never compares balances with a fill seen on one side and
not yet on the other. Orders of one symbol still go one at a time; orders of different symbols
no longer queue behind each other's round trips (issue 14: a hundred symbols deciding on the
same close).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType


class SendGate:
    def __init__(self) -> None:
        self._senders = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._exclusive = asyncio.Lock()  # reconcile, and a sender waiting for it to finish
        self._symbols: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def sending(self, symbol: str) -> AsyncIterator[None]:
        """Held while one order of `symbol` is sent and its answer applied."""
        lock = self._symbols.get(symbol)
        if lock is None:
            lock = self._symbols[symbol] = asyncio.Lock()
        async with lock:
            async with self._exclusive:  # waits while reconcile holds the gate alone
                self._senders += 1
                self._idle.clear()
            try:
                yield
            finally:
                self._senders -= 1
                if not self._senders:
                    self._idle.set()

    async def __aenter__(self) -> None:
        """Alone: no order in flight, and none starts until released."""
        await self._exclusive.acquire()
        try:
            await self._idle.wait()
        except BaseException:
            self._exclusive.release()
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._exclusive.release()

    def locked(self) -> bool:
        """Whether an order is in flight or reconcile holds the gate."""
        return bool(self._senders) or self._exclusive.locked()
