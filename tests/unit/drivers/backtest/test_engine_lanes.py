"""The engine visits only the symbols with something to do (a decision waiting, a position)
and lets the others sleep until the close of their next signal. That must change nothing: it
is held to a loop that visits every symbol's every candle, over series that start late, have
gaps or come out of order, with cash for all of them or not; and with cash for all, each
symbol trades as it does alone."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.drivers.backtest.test_engine_conventions import STEP, T0, Scripted

from crypto_ai_bot.bootstrap import backtest_engine, reference_config
from crypto_ai_bot.domain.model import Action, Candle
from crypto_ai_bot.drivers.backtest.engine import BacktestEngine, EngineResult

D = Decimal
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
ACTIONS = st.sampled_from([Action.BUY, Action.SELL])
Plan = dict[str, tuple[list[Candle], dict[int, Action]]]  # symbol -> candles, scripted signals


@st.composite
def lanes(draw: st.DrawFn) -> Plan:
    out: Plan = {}
    for symbol in SYMBOLS[: draw(st.integers(1, 3))]:
        n = draw(st.integers(1, 40))
        steps = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))  # 2, 3: a gap
        ts, t = [], T0 + draw(st.integers(0, 8)) * STEP  # some start late
        for s in steps:
            ts.append(t)
            t += s * STEP
        if n > 2 and draw(st.booleans()):  # two rows out of order
            j = draw(st.integers(0, n - 2))
            ts[j], ts[j + 1] = ts[j + 1], ts[j]
        candles = []
        for stamp in ts:
            o, c = draw(st.integers(90, 110)), draw(st.integers(90, 110))
            hi, lo = max(o, c) + draw(st.integers(0, 4)), min(o, c) - draw(st.integers(0, 4))
            candles.append(Candle(stamp, D(o), D(hi), D(lo), D(c), D(1)))
        script = draw(st.dictionaries(st.integers(0, n - 1), ACTIONS, max_size=n))
        out[symbol] = (candles, script)
    return out


class EveryCandle(BacktestEngine):
    """The plain loop: every step visits every symbol and each of its candles up to the step,
    and every candle of a held position goes to the Decimal stop and peak checks."""

    async def _loop(self) -> tuple[list[int], list[float], int]:
        step = self.config.timeframe_ms
        at = [0] * len(self._lanes)
        equity_ts: list[int] = []
        equity: list[float] = []
        in_any = 0
        times = sorted({b.ts_ms for lane in self._lanes for b in lane.series.bars})
        for ts in times:
            for k, lane in enumerate(self._lanes):
                bars = lane.series.bars
                while at[k] < len(bars) and bars[at[k]].ts_ms <= ts:
                    i, bar = at[k], bars[at[k]]
                    if lane.pending is not None:
                        await self._act(lane, i, bar)
                    if lane.position is not None:  # no float pre-checks: Decimal decides
                        await self._stop(lane, i, bar)
                    if i == lane.signal_at:
                        self._decide(lane, i, bar, step)
                    if lane.position is not None:
                        lane.close_f = bar.close
                        lane.run.candles_in_position += 1
                    at[k] += 1
            held = [lane for lane in self._lanes if lane.position is not None]
            equity_ts.append(ts + step)
            equity.append(self._cash_f + sum(lane.base_f * lane.close_f for lane in held))
            in_any += 1 if held else 0
        return equity_ts, equity, in_any


def _run(plan: Plan, trailing: int, cash: int = 10_000_000,
         engine: type[BacktestEngine] = BacktestEngine) -> EngineResult:
    config = reference_config(STEP, fee_pct=D("0.1"), stop_pct=D(3), trailing_pct=D(trailing),
                              start_quote=D(cash))
    run = backtest_engine({s: c for s, (c, _) in plan.items()}, config, engine=engine,
                          strategy_factory=lambda symbol: Scripted(plan[symbol][1]))
    return asyncio.run(run.run())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=lanes(), trailing=st.sampled_from([0, 2]), cash=st.sampled_from([2_500, 10_000]))
def test_sleeping_symbols_change_nothing(plan: Plan, trailing: int, cash: int) -> None:
    """2,500 pays for two entries of 1,000 at a time, 10,000 for all: with three symbols,
    who comes first at a step decides who can buy."""
    fast = _run(plan, trailing, cash)
    plain = _run(plan, trailing, cash, EveryCandle)
    assert fast.trades == plain.trades
    assert fast.equity_ts_ms == plain.equity_ts_ms
    assert fast.equity == pytest.approx(plain.equity, rel=1e-12)  # floats, summed in any order
    assert fast.symbols == plain.symbols
    assert (fast.final_quote, fast.candles_in_any_position) == (
        plain.final_quote, plain.candles_in_any_position)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=lanes(), trailing=st.sampled_from([0, 2]))
def test_each_symbol_trades_as_it_does_alone(plan: Plan, trailing: int) -> None:
    together = _run(plan, trailing)
    for symbol in plan:
        alone = _run({symbol: plan[symbol]}, trailing)
        assert [t for t in together.trades if t.symbol == symbol] == alone.trades
        mine, single = together.symbols[symbol], alone.symbols[symbol]
        assert mine.candles_in_position == single.candles_in_position
        assert mine.decisions == single.decisions
