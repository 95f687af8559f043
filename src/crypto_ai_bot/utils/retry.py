"""Retries with exponential backoff and jitter (tenacity), for idempotent reads only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

T = TypeVar("T")


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    should_retry: Callable[[BaseException], bool],
    attempts: int = 4,
    initial_s: float = 0.2,
    max_s: float = 5.0,
) -> T:
    """Call fn until it succeeds, a non-retryable error occurs, or attempts run out."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(should_retry),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=initial_s, max=max_s) + wait_random(0, initial_s),
        reraise=True,
    ):
        with attempt:
            return await fn()
    raise AssertionError("unreachable")  # pragma: no cover
