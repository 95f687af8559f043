"""The cockpit in live mode (real ccxt against the Gate emulator): a forced entry rests its
exchange-side stop, which the status shows; a forced exit closes the trip and the stop goes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.model import Candle

from .conftest import SYMBOL, ContainerFactory, live_settings, sim_balance


async def test_force_enter_and_exit_with_the_exchange_stop(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    assert c.cockpit.status().label == "[LIVE]"
    entered = await c.control.force_enter(SYMBOL)
    assert entered.ok and entered.sent, entered
    (row,) = c.cockpit.status().symbols
    pos = c.repos.positions.get(SYMBOL)
    assert row.in_position and row.amount == pos.base_amount > 0
    assert row.exchange_stop_resting is True and row.unprotected_reason is None
    assert row.exchange_stop_price == pos.stop_price > 0
    assert row.stop_price is not None and row.exchange_stop_price < row.stop_price
    (stop,) = c.repos.stops.active(SYMBOL)
    assert stop.exchange_id == pos.stop_order_id and stop.trigger_price == pos.stop_price

    balance = await c.cockpit.balance()
    by = {b.currency: b for b in balance.currencies}
    assert by["BTC"].total == sim_balance(sim, "BTC") and by["USDT"].total == sim_balance(
        sim, "USDT")
    assert balance.source == "broker" and balance.equity_quote > Decimal(9000)

    second = await c.control.force_enter(SYMBOL)
    assert second.ok is False and "already in position" in second.message
    out = await c.control.force_exit(SYMBOL)
    assert out.ok and out.sent, out
    (row,) = c.cockpit.status().symbols
    assert row.in_position is False and row.exchange_stop_resting is False
    assert not c.repos.stops.active(SYMBOL)  # the keeper took the stop away
    (trip,) = c.cockpit.trades().items
    assert trip.exit_reason == "force_exit" and trip.symbol == SYMBOL
    assert trip.pnl_quote == c.cockpit.profit().realised_quote


async def test_a_fired_exchange_stop_closes_the_trip_as_exchange_stop(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container()
    assert (await c.control.force_enter(SYMBOL)).sent
    stop = c.repos.positions.get(SYMBOL).stop_price
    sim.set_price(SYMBOL, str(stop - 100))  # a wick through the backstop: it fires and fills
    assert sim_balance(sim, "BTC") < Decimal("0.00001")
    sim.set_price(SYMBOL, str(stop + 1000))  # and the price is back up
    assert (await c.orchestrator.reconcile_once()).ok  # books the fired stop's sell
    (row,) = c.cockpit.status().symbols
    assert row.in_position is False, row
    (trip,) = c.cockpit.trades().items
    assert trip.exit_reason == "exchange_stop", trip
    # candles around the trade, as the pipeline stores them: the fills sit on them as markers
    step = 300_000
    first = trip.entry_ms - trip.entry_ms % step - step
    d = Decimal(60000)
    c.repos.market_data.upsert(SYMBOL, "5m", [Candle(first + i * step, d, d, d, d, d)
                                              for i in range(4)])
    markers = c.cockpit.candles(SYMBOL).markers
    assert [(m.side, m.kind) for m in markers] == [("buy", "entry"), ("sell", "exchange_stop")]


async def test_reload_moves_the_exchange_stop_distance(sim: SimServer, tmp_path: Path) -> None:
    """The backstop's distance under the bot's stop is a setting reload may change: the next
    stop placed rests at the new distance."""
    db = tmp_path / "bot.sqlite3"
    c = build_container(live_settings(sim, db), reload_settings=lambda: live_settings(
        sim, db, exchange_stop_offset_pct="1.5", exchange_stop_min_interval_sec=0))
    try:
        await c.start()
        r = await c.control.reload()
        assert r.ok and r.changed == {"EXCHANGE_STOP_MIN_INTERVAL_SEC": "0",
                                      "EXCHANGE_STOP_OFFSET_PCT": "1.5"}, r
        assert (await c.control.force_enter(SYMBOL)).sent
        level = c.pipelines[SYMBOL].stop_level()
        assert level is not None
        (stop,) = c.repos.stops.active(SYMBOL)
        market = c.broker.market(SYMBOL)
        assert stop.trigger_price == market.round_price(level.price * Decimal("0.985"))
        assert c.cockpit.settings().settings["EXCHANGE_STOP_OFFSET_PCT"] == "1.5"
    finally:
        await c.close()
