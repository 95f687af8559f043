"""The stream's fan-out: every client gets the events in order; one that stops reading is let
go when its queue is full, and the publisher never waits for it."""

from __future__ import annotations

import asyncio
import threading

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.event_stream import EventStream
from crypto_ai_bot.domain.events import TradingStateChanged
from crypto_ai_bot.domain.model import TradingState


def _event(i: int) -> TradingStateChanged:
    return TradingStateChanged(i, "", TradingState.ACTIVE, f"n{i}")


async def test_a_reader_gets_every_event_in_order_and_a_stalled_one_is_dropped() -> None:
    stream = EventStream(max_queue=10)
    bus = MessageBus()
    bus.subscribe(TradingStateChanged, stream.handle)
    bus.publish(_event(0))  # nobody listens yet: nothing is built or kept
    async with stream.subscribe() as reader, stream.subscribe() as stalled:
        got = []
        for i in range(1, 26):
            bus.publish(_event(i))  # returns at once, whoever reads or not
            await asyncio.sleep(0)  # the loop hands it on
            got.append(await reader.get())
        assert [r.ts_ms for r in got if r] == list(range(1, 26))
        assert [r.id for r in got if r] == list(range(1, 26))
        assert got[0] is not None and got[0].payload == {"state": "ACTIVE", "reason": "n1"}
        backlog = [stalled.get_nowait() for _ in range(stalled.qsize())]
        assert backlog[-1] is None and len(backlog) == 11  # ten events, then "dropped"
        assert stream.dropped_clients == 1 and stream.clients == 1
    assert stream.clients == 0


async def test_events_from_another_thread_reach_the_loop_in_order() -> None:
    stream = EventStream()
    async with stream.subscribe() as reader:
        worker = threading.Thread(target=lambda: [stream.handle(_event(i)) for i in range(50)])
        worker.start()
        worker.join()
        got = [await asyncio.wait_for(reader.get(), 5) for _ in range(50)]
    assert [r.ts_ms for r in got if r] == list(range(50))


async def test_too_many_clients_are_refused() -> None:
    stream = EventStream(max_clients=1)
    async with stream.subscribe():
        try:
            async with stream.subscribe():
                raise AssertionError("a second client was let in")
        except OverflowError as exc:
            assert "1 clients already follow" in str(exc)
