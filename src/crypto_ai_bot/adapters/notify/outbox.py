"""A bounded outbox per channel: the bus handler only enqueues, a worker task sends.

`put` never blocks and never fails: it may be called from any thread (the watchdog's
thread announces the dead man's switch), and when the queue is full the oldest notification
is dropped and counted. The worker sends one at a time, each attempt bounded by a timeout,
and retries what may succeed later (a timeout, a 5xx, a 429 after its `retry_after`) with a
doubling backoff. A channel that hangs or fails therefore costs the trading loops nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from crypto_ai_bot.adapters.notify.messages import Notification, Pending
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("notify")

Sender = Callable[[Notification], Awaitable[None]]
Render = Callable[[Pending], Notification]


class SendError(Exception):
    """A send that failed. `retry`: whether trying again may help (a 400 will not);
    `retry_after_s`: how long the server asked us to wait (Telegram's 429)."""

    def __init__(self, message: str, *, retry: bool = True,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after_s = retry_after_s


@dataclass(slots=True)
class OutboxStats:
    sent: int = 0
    dropped: int = 0  # the queue was full: the oldest went
    failed: int = 0  # given up: a permanent error, or every retry spent
    retries: int = 0


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def redacting(*secrets: str) -> Callable[[BaseException], str]:
    """An error's description with each secret replaced by ***: a library's message may quote
    the URL it called (a Bot API URL holds the token) or the token itself."""
    hidden = sorted((s for s in secrets if s), key=len, reverse=True)

    def describe(exc: BaseException) -> str:
        text = _describe(exc)
        for secret in hidden:
            text = text.replace(secret, "***")
        return text

    return describe


class Outbox:
    def __init__(self, channel: str, send: Sender, render: Render, *, capacity: int,
                 timeout_s: float, retries: int, backoff_s: float, max_backoff_s: float = 60,
                 describe: Callable[[BaseException], str] = _describe) -> None:
        self.channel = channel
        self.stats = OutboxStats()
        self._send = send
        self._render = render
        self._capacity = max(1, capacity)
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._describe = describe
        self._items: deque[Pending] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._idle = asyncio.Event()

    @property
    def queued(self) -> int:
        return len(self._items)

    def put(self, item: Pending) -> None:
        """Enqueue, dropping the oldest when full. Any thread; never blocks, never raises."""
        dropped: Pending | None = None
        with self._lock:
            if len(self._items) >= self._capacity:
                dropped = self._items.popleft()
                self.stats.dropped += 1
            self._items.append(item)
        if dropped is not None:
            log.warning("notification_dropped", channel=self.channel, kind=dropped.kind,
                        dropped=self.stats.dropped, capacity=self._capacity)
        self._signal()

    def _signal(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return  # not started: the worker finds it when it starts
        if threading.get_ident() == self._thread:
            wake.set()
            return
        with contextlib.suppress(RuntimeError):  # the loop closed: nothing will send it
            loop.call_soon_threadsafe(wake.set)

    def _pop(self) -> Pending | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"notify:{self.channel}")

    async def close(self, drain_s: float = 5.0) -> None:
        """Let the worker send what is queued for up to `drain_s`, then stop it."""
        task = self._task
        if task is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_s
        while (self._items or self._busy) and not task.done():
            left = deadline - loop.time()
            if left <= 0:
                break
            self._idle.clear()  # the worker sets it when it finds the queue empty
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), left)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._task = None
        left = len(self._items)
        if left:
            log.warning("notifications_unsent", channel=self.channel, left=left)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            item = self._pop()
            if item is None:
                self._idle.set()
                self._wake.clear()
                if not self._items:
                    await self._wake.wait()
                continue
            self._busy = True
            try:
                await self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never lets the worker die
                self.stats.failed += 1
                log.error("notification_failed", channel=self.channel, kind=item.kind,
                          error=self._describe(exc))
            finally:
                self._busy = False

    async def _deliver(self, item: Pending) -> None:
        note = self._render(item)
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                await asyncio.wait_for(self._send(note), self._timeout_s)
            except SendError as exc:
                retryable, retry_after, error = exc.retry, exc.retry_after_s, str(exc)
            except TimeoutError:
                retryable, error = True, f"no answer within {self._timeout_s:g} s"
            except Exception as exc:  # a connection refused or reset, a library's own error
                retryable, error = True, self._describe(exc)
            else:
                self.stats.sent += 1
                return
            if not retryable or attempt >= self._retries:
                self.stats.failed += 1
                log.warning("notification_failed", channel=self.channel, kind=item.kind,
                            error=error, attempts=attempt + 1)
                return
            attempt += 1
            self.stats.retries += 1
            delay = retry_after if retry_after is not None else min(
                self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s)
            log.info("notification_retry", channel=self.channel, kind=item.kind, error=error,
                     attempt=attempt, in_s=round(delay, 3))
            await asyncio.sleep(delay)
