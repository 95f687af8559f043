"""The exchange's clock checked at start-up: beyond Gate's window every signed call would fail
as an auth error, so the bot refuses with one clear line, shown in /health."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.integration.live.conftest import live_settings

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.api.server import create_app
from crypto_ai_bot.bootstrap import build_container


@pytest.mark.parametrize(("offset_ms", "ready"), [(5_000, True), (120_000, False),
                                                 (-90_000, False)])
async def test_a_skewed_clock_is_refused_at_start_up(
    sim: SimServer, tmp_path: Path, offset_ms: int, ready: bool,
) -> None:
    ex = sim.exchange
    wall = ex.clock
    ex.clock = lambda: wall() + offset_ms
    token = "skew-test-token-0123456789abcdef"
    c = build_container(live_settings(sim, tmp_path / "bot.sqlite3", api_token=token))
    try:
        await c.start()
        assert c.broker_ready is ready, c.broker_error
        assert abs(c.clock_skew_ms - offset_ms) < 2_000
        if not ready:
            assert c.broker_error.startswith("ClockSkewed: the exchange's clock is ")
            assert "\n" not in c.broker_error and "NTP" in c.broker_error
        app = create_app(container=c)
        app.state.container = c
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            health = (await client.get("/health")).json()
        assert health["broker"]["ready"] is ready
        assert abs(health["broker"]["clock_skew_ms"] - offset_ms) < 2_000
        assert (health["broker"]["error"] or "").startswith("" if ready else "ClockSkewed")
    finally:
        ex.clock = wall
        await c.close()
