"""Paper mode on live market data: PRICE_FEED=live reads the exchange (the emulator) through
ccxt, while PaperBroker fills at those prices and the exchange sees no order."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.integration.live.conftest import SYMBOL, decision, live_settings

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.model import Action, OrderStatus


async def test_paper_trades_at_live_prices_and_sends_nothing(
    sim: SimServer, tmp_path: Path
) -> None:
    settings = live_settings(sim, tmp_path / "paper.sqlite3", mode="paper", price_feed="live",
                             instance_lock="off", api_key="", api_secret="")
    c = build_container(settings)
    try:
        await c.start()
        assert c.broker.name == "paper" and c.broker_ready
        sim.set_price(SYMBOL, "61234.5")
        update = await c.feed.poll(SYMBOL)
        assert update.candles and update.ticker.last == Decimal("61234.5")
        result = await c.pipelines[SYMBOL].act(decision(Action.BUY, update.ticker.last),
                                               update.ticker)
        assert result is not None and result.outcome == "sent"
        assert result.order is not None and result.order.status is OrderStatus.FILLED
        assert result.order.avg_price == update.ticker.ask  # filled at the live ask
        assert sim.state()["orders"] == []  # paper: the exchange never saw an order
    finally:
        await c.close()


async def test_a_symbol_the_exchange_does_not_price_is_not_added_in_paper_mode(
    sim: SimServer, tmp_path: Path
) -> None:
    """The paper broker lists any market; reload of SYMBOLS asks the live feed for a price of
    each new symbol first, and refuses one the exchange does not answer for."""
    db = tmp_path / "paper.sqlite3"
    values = dict(mode="paper", price_feed="live", instance_lock="off", api_key="",
                  api_secret="")
    c = build_container(live_settings(sim, db, **values), reload_settings=lambda: live_settings(
        sim, db, symbols=f"{SYMBOL},NOPE/USDT", **values))
    try:
        await c.start()
        refused = await c.control.reload()
        assert refused.ok is False and "NOPE/USDT" in refused.message, refused
        assert list(c.pipelines) == [SYMBOL] and c.settings.symbol_list == [SYMBOL]
    finally:
        await c.close()
