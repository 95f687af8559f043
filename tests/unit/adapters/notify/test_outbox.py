"""The outbox: bounded (the oldest dropped and counted), never blocking the caller, retries
what may succeed later, gives up on what cannot, and is fed from any thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from crypto_ai_bot.adapters.notify.messages import Notification, Pending
from crypto_ai_bot.adapters.notify.outbox import Outbox, SendError, redacting
from crypto_ai_bot.domain.events import LoopsStopped


def pending(n: int) -> Pending:
    return Pending(LoopsStopped(n, ""), "lifecycle", False)


def render(item: Pending) -> Notification:
    return Notification(item.kind, item.event.ts_ms, "", "t", f"#{item.event.ts_ms}")


def outbox(send: Any, **kw: Any) -> Outbox:
    opts = {"capacity": 3, "timeout_s": 0.2, "retries": 2, "backoff_s": 0.01} | kw
    return Outbox("test", send, render, **opts)


async def test_full_queue_drops_the_oldest_and_counts_it() -> None:
    sent: list[str] = []

    async def send(note: Notification) -> None:
        sent.append(note.text)

    box = outbox(send)
    for n in range(1, 6):  # before the worker starts: put never waits
        box.put(pending(n))
    assert box.queued == 3 and box.stats.dropped == 2
    await box.start()
    await box.close(drain_s=5)
    assert sent == ["#3", "#4", "#5"] and box.stats.sent == 3


async def test_retryable_errors_are_retried_then_sent() -> None:
    attempts: list[str] = []

    async def send(note: Notification) -> None:
        attempts.append(note.text)
        if len(attempts) < 3:
            raise SendError("503")

    box = outbox(send)
    await box.start()
    box.put(pending(1))
    await box.close(drain_s=5)
    assert attempts == ["#1", "#1", "#1"]
    assert (box.stats.sent, box.stats.retries, box.stats.failed) == (1, 2, 0)


async def test_a_permanent_error_is_not_retried() -> None:
    attempts: list[str] = []

    async def send(note: Notification) -> None:
        attempts.append(note.text)
        raise SendError("400 chat not found", retry=False)

    box = outbox(send)
    await box.start()
    box.put(pending(1))
    box.put(pending(2))
    await box.close(drain_s=5)
    assert attempts == ["#1", "#2"] and box.stats.failed == 2 and box.stats.retries == 0


async def test_a_hanging_channel_times_out_gives_up_and_stays_bounded() -> None:
    calls = 0

    async def send(_note: Notification) -> None:
        nonlocal calls
        calls += 1
        await asyncio.Event().wait()  # never answers

    box = outbox(send, timeout_s=0.05, retries=1)
    await box.start()
    for n in range(10):
        box.put(pending(n))  # returns at once while the worker hangs
    assert box.queued <= 3
    await box.close(drain_s=0.3)
    assert calls >= 2 and box.stats.retries >= 1 and box.stats.failed >= 1
    assert box.stats.dropped >= 6


async def test_put_from_another_thread_wakes_the_worker() -> None:
    got = asyncio.Event()
    sent: list[str] = []

    async def send(note: Notification) -> None:
        sent.append(note.text)
        got.set()

    box = outbox(send)
    await box.start()
    await asyncio.sleep(0)  # the worker waits for work
    t = threading.Thread(target=box.put, args=(pending(7),))
    t.start()
    t.join()
    await asyncio.wait_for(got.wait(), 5)
    await box.close()
    assert sent == ["#7"]


def test_errors_are_described_without_their_secrets() -> None:
    describe = redacting("123:SECRET", "SECRET")
    text = describe(RuntimeError("The token `123:SECRET` at /bot123:SECRET/getMe"))
    assert "SECRET" not in text and "RuntimeError" in text
