"""A vectorised strategy in live mode, the real ccxt client against the Gate emulator: its
startup history comes in the first poll, its signal enters, its stoploss is the exchange-side
stop, and its minimal_roi takes the profit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.application.strategies.vector import VectorStrategy

from .conftest import SYMBOL, ContainerFactory

ALWAYS = '''
from crypto_ai_bot.strategy import IStrategy


class Always(IStrategy):
    """Long whenever it may: the test of the exits."""
    timeframe = "5m"
    startup_candle_count = 400
    stoploss = -0.05
    minimal_roi = {"0": 0.01}

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = 1
        return dataframe
'''


async def test_an_istrategy_trades_live_with_its_own_stop_and_roi(
        sim: SimServer, make_container: ContainerFactory, tmp_path: Path) -> None:
    path = tmp_path / "always.py"
    path.write_text(ALWAYS)
    c = await make_container(strategy=f"{path}:Always", timeframe="5m")
    p = c.pipelines[SYMBOL]
    assert isinstance(p.strategy, VectorStrategy)
    decision = await p.evaluate()
    assert p.stats.candles == 401  # its startup + 1, in the first poll
    assert decision is not None and decision.reason == "enter_long"
    pos = c.repos.positions.get(SYMBOL)
    assert pos.base_amount > 0
    level = p.stop_level()
    assert level is not None and level.reason.value == "hard_stop"
    assert level.price == pos.entry_price * Decimal("0.95")  # its stoploss, not EXITS_* 2 %
    [stop] = [t for t in sim.state()["trigger_orders"] if t["status"] == "open"]
    assert Decimal(stop["trigger"]["price"]) < level.price  # type: ignore[index]
    sim.set_price(SYMBOL, str((pos.entry_price * Decimal("1.02")).quantize(Decimal(1))))
    await p.protect()  # 2 % up: the 1 % take-profit sells
    assert c.repos.positions.get(SYMBOL).base_amount < pos.base_amount
    assert [o["side"] for o in sim.state()["orders"]] == ["buy", "sell"]
    reasons = [e.payload.get("reason") for e in c.repos.audit.recent(100, "exit.triggered")]
    assert reasons == ["roi"], reasons
