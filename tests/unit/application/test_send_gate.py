"""SendGate: orders of different symbols in flight together, one symbol's one at a time, and
reconcile alone."""

from __future__ import annotations

import asyncio

from crypto_ai_bot.application.send_gate import SendGate


async def test_symbols_send_together_one_symbol_in_turn() -> None:
    gate, log = SendGate(), []

    async def send(symbol: str, n: int) -> None:
        async with gate.sending(symbol):
            log.append(f"{symbol}{n}+")
            await asyncio.sleep(0.01)
            log.append(f"{symbol}{n}-")

    await asyncio.gather(send("A", 1), send("B", 1), send("A", 2))
    assert log[:2] == ["A1+", "B1+"]  # B does not wait for A's round trip
    assert log.index("A2+") > log.index("A1-")  # A's second waits for its first


async def test_reconcile_waits_for_orders_in_flight_and_holds_new_ones() -> None:
    gate, log = SendGate(), []
    in_flight = asyncio.Event()

    async def send(symbol: str) -> None:
        async with gate.sending(symbol):
            in_flight.set()
            log.append(f"{symbol}+")
            await asyncio.sleep(0.02)
            log.append(f"{symbol}-")

    async def reconcile() -> None:
        await in_flight.wait()
        async with gate:
            log.append("R+")
            assert gate.locked()
            await asyncio.sleep(0.02)
            log.append("R-")

    first = asyncio.create_task(send("A"))
    rec = asyncio.create_task(reconcile())
    await in_flight.wait()
    await asyncio.sleep(0)
    later = asyncio.create_task(send("B"))
    await asyncio.gather(first, rec, later)
    assert log == ["A+", "A-", "R+", "R-", "B+", "B-"]
    assert not gate.locked()
