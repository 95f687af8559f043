"""A live session records what it trades by (session.started), for cab-backtest --compare:
against the emulator through the real ccxt client, its start balance is the exchange's."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.live.conftest import ContainerFactory


async def test_a_live_session_records_its_settings_and_balance(
        make_container: ContainerFactory) -> None:
    c = await make_container()
    [session] = c.repos.audit.recent(10, "session.started")
    assert session.payload["mode"] == "live"
    settings = session.payload["settings"]
    # the emulator's USDT, not PAPER_START_QUOTE
    assert Decimal(settings["start_quote"]) == Decimal(10000)
    assert settings["symbols"] == ["BTC/USDT"] and settings["timeframe"] == "5m"
    assert (settings["hard_stop_pct"], settings["trailing_pct"]) == ("2", "1")
    assert settings["params"] == {"fast": 12, "slow": 26}
    p = c.pipelines["BTC/USDT"]
    await p.evaluate()  # the first poll: the warm-up candles of the exchange
    stored = c.repos.market_data.timestamps("BTC/USDT", "5m")  # a real market's own key
    assert len(stored) == p.stats.candles > 1
    [started] = c.repos.audit.recent(10, "evaluation.started")
    assert (started.payload["first_candle_ts_ms"], started.payload["last_candle_ts_ms"]) == (
        stored[0], stored[-1])
