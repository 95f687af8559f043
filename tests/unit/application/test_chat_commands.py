"""The chat commands over the cockpit's services, on a paper container (no network)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crypto_ai_bot.application.chat_commands import ChatCommands
from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000


async def test_symbols_are_found_as_people_type_them(make_settings: Callable[..., Any]) -> None:
    c = build_container(make_settings(symbols="BTC/USDT,ETH/USDT", autostart=False,
                                      risk_cooldown_sec=0), clock=ManualClock(T0))
    await c.start()
    chat = ChatCommands(c.cockpit, c.control)
    try:
        assert (await chat.answer("forceexit", [])).startswith(
            "usage: /forceexit <symbol>, one of BTC/USDT, ETH/USDT")
        for typed in ("eth", "ETHUSDT", "eth_usdt", "ETH/USDT"):
            said = await chat.answer("forceexit", [typed])
            assert said == "refused: ETH/USDT: no open position: nothing sent", typed
        assert "unknown symbol 'XRP'" in await chat.answer("forceexit", ["xrp"])
        await c.feed.poll("ETH/USDT")
        assert (await c.executor.enter("ETH/USDT", "test")).outcome == "sent"
        assert (await chat.answer("forceexit", ["eth"])).startswith(
            "ok: ETH/USDT: exit sent")
        trades = await chat.answer("trades", ["many"])  # not a number: the default
        assert trades.startswith("last 1 of 1 trades:") and "ETH/USDT" in trades
        status = await chat.answer("status", [])
        assert "BTC/USDT" in status and "ETH/USDT" in status
        assert (await chat.answer("Nope", [])).startswith("unknown command /Nope")
    finally:
        await c.close()
