"""What the logs and the status say of signals, decisions and fills (paper, real SQLite):
a sell while flat is a signal, not a decision; every fill is logged as people read it; a dust
position has no stop."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from structlog.testing import capture_logs

from crypto_ai_bot.bootstrap import Container
from crypto_ai_bot.domain.model import Action, Bar, Side, Signal

SYMBOL = "BTC/USDT"


class Scripted:
    """A strategy that says what it is told."""

    name = "scripted"
    warmup_candles = 0

    def __init__(self) -> None:
        self.next = Action.HOLD

    def on_candle(self, bar: Bar) -> Signal:
        return Signal(self.next, f"told {self.next}")


async def _say(c: Container, strategy: Scripted, action: Action, ts: int) -> Any:
    p = c.pipelines[SYMBOL]
    strategy.next = action
    decision = p.decide([Bar(ts, 100.0, 100.0, 100.0, 100.0, 1.0)], Decimal(100))
    assert decision is not None
    return await p.act(decision, await c.feed.ticker(SYMBOL))


async def test_a_sell_while_flat_is_a_signal_and_fills_are_logged(
    paper: Callable[..., Container],
) -> None:
    c = paper()
    await c.start()
    p = c.pipelines[SYMBOL]
    p.strategy = strategy = Scripted()
    with capture_logs() as logs:
        assert await _say(c, strategy, Action.SELL, 1) is None
    assert [e for e in logs if e["event"] in ("decision", "fill")] == []
    assert p.stats.decisions["sell"] == 0 and p.stats.last_decision is None
    assert p.stats.last_signal is not None and p.stats.last_signal.action is Action.SELL
    assert c.repos.audit.count("decision.made") == 0
    assert c.orchestrator.status()["positions"][SYMBOL]["last_decision"] is None

    with capture_logs() as logs:
        assert (await _say(c, strategy, Action.BUY, 2)).outcome == "sent"
    [buy] = [e for e in logs if e["event"] == "decision"]
    assert buy["action"] is Action.BUY and buy["price"] == "100.00"
    [fill] = [e for e in logs if e["event"] == "fill"]
    # 50 quote at the fixed feed's 100, the fee 0.1 % in base
    assert fill["side"] is Side.BUY and fill["price"] == "100.00"
    assert fill["amount"] == "0.50000000" and fill["fee"] == "0.00050000"
    assert fill["fee_currency"] == "BTC" and "pnl_quote" not in fill
    assert p.stats.decisions["buy"] == 1

    with capture_logs() as logs:
        assert (await _say(c, strategy, Action.SELL, 3)).outcome == "sent"
    [sell] = [e for e in logs if e["event"] == "fill"]
    trade = c.repos.trades.between(0, 10**15)[-1]
    assert sell["side"] is Side.SELL and sell["price"] == str(trade.price.quantize(Decimal("0.01")))
    assert sell["pnl_quote"] == str(trade.realized_pnl.quantize(Decimal("0.01")))
    assert sell["pnl_quote"] == "-0.10"  # two fees of 0.1 %, nothing else moved
    assert p.stats.decisions["sell"] == 1 and p.stats.last_decision is not None
    await c.close()


async def test_a_dust_position_has_no_stop_and_is_not_in_position(
    paper: Callable[..., Container],
) -> None:
    c = paper()
    await c.start()
    pos = c.repos.positions.get(SYMBOL)
    pos.base_amount, pos.cost_basis = Decimal("1.12E-9"), Decimal("0.0000001")
    pos.entry_price, pos.peak = Decimal(100), Decimal(101)
    c.repos.positions.save(pos)
    row = c.orchestrator.status()["positions"][SYMBOL]
    assert row["in_position"] is False and row["stop"] is None and row["stop_reason"] is None
    assert row["base_amount"] == "1.12E-9"  # the exact value stays
    assert row["display"]["base_amount"] == "0.00000000" and row["display"]["stop"] is None
    assert c.pipelines[SYMBOL].stop_level() is None

    pos.base_amount = Decimal("0.5")  # a real position has its stop, exact and rounded
    c.repos.positions.save(pos)
    row = c.orchestrator.status()["positions"][SYMBOL]
    assert row["in_position"] is True and row["stop"] == str(Decimal(101) * Decimal("0.99"))
    assert row["display"]["stop"] == "99.99" and row["display"]["entry_avg"] == "0.00"
    assert row["display"]["stop_below_peak_pct"] == "1.00"
    await c.close()
