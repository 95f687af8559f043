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
    """At most `limit` acquisitions in any `window_s` seconds; 0 = no limit."""

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
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request keeps within the limit, and count it."""
        if self.limit == 0:
            return
        async with self._lock:  # one waiter at a time: they go in the order they came
            sent, now = self._sent, self._now()
            while sent and sent[0] <= now - self.window_s:
                sent.popleft()
            if len(sent) >= self.limit:  # never more than limit: the oldest must leave
                await self._sleep(sent[0] + self.window_s - now)
                sent.popleft()
                now = self._now()
            sent.append(now)
