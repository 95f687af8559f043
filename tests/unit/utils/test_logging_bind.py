"""bind() sets correlation fields for a block and restores what was there, task by task."""

from __future__ import annotations

import asyncio

from structlog.contextvars import get_contextvars

from crypto_ai_bot.utils.logging import bind


def test_nested_binds_restore_the_outer_fields() -> None:
    with bind(symbol="BTC/USDT", cycle_id="a#1"):
        with bind(symbol="ETH/USDT", client_order_id="t-cab1"):
            assert get_contextvars() == {
                "symbol": "ETH/USDT", "cycle_id": "a#1", "client_order_id": "t-cab1"}
        assert get_contextvars() == {"symbol": "BTC/USDT", "cycle_id": "a#1"}
    assert get_contextvars() == {}


async def test_tasks_keep_their_own_fields_across_awaits() -> None:
    async def worker(name: str) -> dict[str, object]:
        with bind(loop=name):
            await asyncio.sleep(0)
            return get_contextvars()

    got = await asyncio.gather(worker("evaluate"), worker("exits"))
    assert got == [{"loop": "evaluate"}, {"loop": "exits"}]
    assert get_contextvars() == {}
