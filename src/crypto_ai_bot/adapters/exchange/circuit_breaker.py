"""A small circuit breaker: after N consecutive failures, refuse calls for a cool-off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from crypto_ai_bot.domain.errors import CircuitOpen
from crypto_ai_bot.ports.clock import Clock

T = TypeVar("T")


class CircuitBreaker:
    def __init__(self, clock: Clock, *, failure_threshold: int = 5, reset_after_ms: int = 30_000):
        self._clock = clock
        self._threshold = failure_threshold
        self._reset_after_ms = reset_after_ms
        self._failures = 0
        self._opened_ms: int | None = None

    @property
    def state(self) -> str:
        if self._opened_ms is None:
            return "closed"
        if self._clock.now_ms() - self._opened_ms >= self._reset_after_ms:
            return "half_open"
        return "open"

    async def call(
        self, fn: Callable[[], Awaitable[T]], is_failure: Callable[[BaseException], bool]
    ) -> T:
        if self.state == "open":
            raise CircuitOpen("circuit open: exchange calls paused after repeated failures")
        try:
            result = await fn()
        except BaseException as exc:
            if is_failure(exc):
                self._failures += 1
                if self._failures >= self._threshold or self.state == "half_open":
                    self._opened_ms = self._clock.now_ms()
            raise
        self._failures = 0
        self._opened_ms = None
        return result
