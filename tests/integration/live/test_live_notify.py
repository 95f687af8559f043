"""What a live bot tells: its exchange-side stop firing, labelled [LIVE]. Real ccxt against
the emulator, the webhook over real HTTP."""

from __future__ import annotations

from tests.fakes.webhook import FakeWebhook
from tests.integration.live.conftest import SYMBOL, ContainerFactory, decision, ticker

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.domain.model import Action


async def test_a_fired_exchange_stop_is_told_with_the_trade(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    with FakeWebhook("ok") as hook:
        c = await make_container(webhook_url=hook.url)
        p = c.pipelines[SYMBOL]
        t = await ticker(c)
        assert (await p.act(decision(Action.BUY, t.last), t)).outcome == "sent"  # type: ignore[union-attr]
        sim.set_price(SYMBOL, "59000")  # through the backstop: it fires and fills
        sim.set_price(SYMBOL, "61000")
        await p.protect()  # the keeper finds it fired and books its sell
        await c.close()  # drains the outbox
        bodies = hook.bodies
    assert [b["kind"] for b in bodies] == ["entry", "exit", "stop"], bodies
    assert all(b["label"] == "[LIVE]" and b["text"].startswith("[LIVE] ") for b in bodies)
    exit_, stop = bodies[1], bodies[2]
    assert "reason: exchange stop fired" in exit_["text"]
    assert exit_["fields"]["pnl_quote"].startswith("-")  # sold below the entry
    assert stop["text"].startswith(f"[LIVE] {SYMBOL} exchange stop fired")
