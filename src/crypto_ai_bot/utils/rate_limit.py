"""A client-side rate limiter that keeps under an exchange's sliding-window limit.

Gate counts requests in a sliding window (10 order placements per second per pair, for spot).
A token bucket of the same rate does not keep under such a limit: after a quiet spell it
sends its whole burst and then refills, up to twice the rate within one second. This limiter
sends at most `limit` requests in any window; the window is a second plus a margin, because the
exchange counts arrivals and a request can arrive sooner after the one before than it left.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class SlidingWindowLimiter:
    """At most `limit` acquisitions in any `window_s` seconds; 0 = no limit.

    An `urgent` acquisition (the trading path: a balance read before an entry, a stop placed)
    goes before every waiting ordinary one (housekeeping: reconcile's reads, the countdown), so
    that a queue of housekeeping never stands between a signal and its order. Among each kind
    they go in the order they came.
    """

    _EPSILON_S = 1e-6  # a sleep that ends on the oldest request's leaving counts it as gone

    def __init__(
        self,
        limit: int,
        window_s: float = 1.1,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 0 or window_s <= 0:
            raise ValueError("limit must be >= 0 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._now = now
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()  # the ordinary waiters, one at a time
        self._urgent_lock = asyncio.Lock()  # the urgent ones
        self._urgent = 0  # urgent acquisitions waiting
        self._calm = asyncio.Event()  # set while none is
        self._calm.set()

    async def acquire(self, urgent: bool = False) -> None:
        """Wait until one more request keeps within the limit, and count it."""
        if self.limit == 0:
            return
        if not urgent:
            async with self._lock:
                while True:
                    await self._calm.wait()  # the urgent ones first
                    wait = self._room()
                    if wait <= 0 and not self._urgent:  # nothing to wait for, nobody first
                        self._sent.append(self._now())
                        return
                    if wait > 0:
                        await self._sleep(wait)
        self._urgent += 1
        self._calm.clear()
        try:
            async with self._urgent_lock:
                while (wait := self._room()) > 0:
                    await self._sleep(wait)
                self._sent.append(self._now())
        finally:
            self._urgent -= 1
            if not self._urgent:
                self._calm.set()

    def _room(self) -> float:
        """Seconds until one more request fits in the window (0: it fits now)."""
        sent, now = self._sent, self._now()
        while sent and sent[0] <= now - self.window_s + self._EPSILON_S:
            sent.popleft()
        return 0.0 if len(sent) < self.limit else sent[0] + self.window_s - now
