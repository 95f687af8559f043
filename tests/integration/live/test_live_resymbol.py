"""SYMBOLS reloaded in live mode (issue 12): a symbol the exchange lists is added, its markets
loaded and its loops started, and it trades through the real client; one the exchange does not
list is refused with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_exchange_sim.catalog import gate_usdt_markets
from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.bootstrap import build_container

from .conftest import KEY, SECRET, live_settings

SYMBOLS = gate_usdt_markets(3)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(balances={"USDT": "10000"}, symbols=SYMBOLS, api_key=KEY,
                   api_secret=SECRET) as server:
        yield server


async def test_a_listed_symbol_is_added_and_traded_and_an_unlisted_one_refused(
    sim: SimServer, tmp_path: Path,
) -> None:
    db = tmp_path / "bot.sqlite3"
    wanted = {"symbols": SYMBOLS[0]}
    c = build_container(live_settings(sim, db, symbols=SYMBOLS[0], api_token="t" * 32),
                        reload_settings=lambda: live_settings(sim, db, symbols=wanted["symbols"],
                                                              api_token="t" * 32))
    try:
        await c.start()
        assert c.broker_ready, c.broker_error
        assert await c.orchestrator.start()

        wanted["symbols"] = f"{SYMBOLS[0]},NOPE/USDT"
        refused = await c.control.reload()
        assert refused.ok is False and "NOPE/USDT" in refused.message, refused
        assert list(c.pipelines) == [SYMBOLS[0]] and c.settings.symbol_list == [SYMBOLS[0]]

        wanted["symbols"] = ",".join(SYMBOLS[:2])
        added = await c.control.reload()
        assert added.ok and f"added {SYMBOLS[1]}" in added.message, added
        assert list(c.pipelines) == list(SYMBOLS[:2]) and c.orchestrator.running
        entered = await c.control.force_enter(SYMBOLS[1])
        assert entered.sent, entered
        pair = SYMBOLS[1].replace("/", "_")
        (order,) = [o for o in sim.state()["orders"] if o["currency_pair"] == pair]
        assert order["text"] == entered.client_order_id and order["status"] == "closed"
        assert c.repos.positions.get(SYMBOLS[1]).base_amount > 0
    finally:
        await c.orchestrator.stop()
        await c.close()
