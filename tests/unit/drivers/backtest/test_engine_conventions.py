"""Fill conventions of DESIGN §12 on small hand-made candle series, through the live objects."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from crypto_ai_bot.bootstrap import backtest_engine, reference_config
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.model import Action, Bar, Candle, Signal
from crypto_ai_bot.drivers.backtest.engine import EngineResult

T0 = 1_767_225_600_000
STEP = 300_000
D = Decimal


class Scripted:
    """Says BUY or SELL at given candle indexes, HOLD elsewhere."""

    name = "scripted"
    warmup_candles = 0

    def __init__(self, script: Mapping[int, Action]) -> None:
        self._script = script
        self._i = -1

    def on_candle(self, bar: Bar) -> Signal:
        self._i += 1
        return Signal(self._script.get(self._i, Action.HOLD), f"scripted #{self._i}")


def bars(*ohlc: tuple[float | int, float | int, float | int, float | int]) -> list[Candle]:
    return [
        Candle(T0 + i * STEP, D(str(o)), D(str(h)), D(str(lo)), D(str(c)), D(1))
        for i, (o, h, lo, c) in enumerate(ohlc)
    ]


def run(
    candles: Mapping[str, Sequence[Candle]] | Sequence[Candle],
    script: Mapping[int, Action] | Mapping[str, Mapping[int, Action]],
    **cfg: object,
) -> EngineResult:
    series = candles if isinstance(candles, Mapping) else {"BTC/USDT": candles}
    defaults: dict[str, object] = {"fee_pct": D(0), "stop_pct": D(0)}
    defaults.update(cfg)
    config = reference_config(STEP, **defaults)  # type: ignore[arg-type]

    def factory(symbol: str) -> Scripted:
        plan = script.get(symbol, script) if isinstance(next(iter(script), 0), str) else script
        return Scripted(plan)  # type: ignore[arg-type]

    engine = backtest_engine(series, config, strategy_factory=factory)
    return asyncio.run(engine.run())


def test_entry_and_signal_exit_fill_at_the_next_open() -> None:
    c = bars((100, 100, 100, 100), (101, 102, 100, 101), (102, 103, 101, 102), (103, 104, 102, 103))
    res = run(c, {0: Action.BUY, 2: Action.SELL})
    (t,) = res.trades
    assert (t.entry_time_ms, t.entry_price) == (c[1].ts_ms, D(101))
    assert (t.exit_time_ms, t.exit_price, t.exit_reason) == (c[3].ts_ms, D(103), "signal")


def test_stop_fills_at_its_level_inside_the_candle() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 100, 100), (100, 101, 97, 99), (99, 99, 99, 99))
    res = run(c, {0: Action.BUY}, stop_pct=D(2))
    (t,) = res.trades
    assert (t.exit_time_ms, t.exit_price, t.exit_reason) == (c[2].ts_ms, D(98), "hard_stop")


def test_stop_fills_at_the_open_on_a_gap_down() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 100, 100), (95, 96, 94, 95), (95, 95, 95, 95))
    res = run(c, {0: Action.BUY}, stop_pct=D(2))
    (t,) = res.trades
    assert (t.exit_time_ms, t.exit_price, t.exit_reason) == (c[2].ts_ms, D(95), "hard_stop")


def test_stop_can_hit_on_the_entry_candle() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 97, 99), (99, 99, 99, 99))
    res = run(c, {0: Action.BUY}, stop_pct=D(2))
    (t,) = res.trades
    assert t.entry_time_ms == t.exit_time_ms == c[1].ts_ms
    assert t.exit_price == D(98)


def test_fees_on_both_fills() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 100, 100), (110, 110, 110, 110), (110, 110, 110, 110))
    res = run(c, {0: Action.BUY, 1: Action.SELL}, fee_pct=D("0.1"))
    (t,) = res.trades
    # 10 BTC bought for 1000, 0.01 BTC fee; 9.99 sold at 110 less 0.1 % in quote
    assert t.amount == D(10)
    assert t.pnl_quote == D("9.99") * 110 * D("0.999") - 1000
    assert t.fees_quote == D("0.01") * 100 + D("9.99") * 110 * D("0.001")
    assert res.final_quote == D(10000) + t.pnl_quote


def test_trailing_peak_rises_only_after_the_stop_check() -> None:
    c = bars(
        (100, 100, 100, 100),
        (100, 100, 100, 100),  # entry at 100: peak 100, trailing stop 90
        (100, 120, 99, 118),  # low 99 checked against 90 first; then the peak becomes 120
        (115, 116, 107, 110),  # stop now 108: hit inside the candle
        (110, 110, 110, 110),
    )
    res = run(c, {0: Action.BUY}, trailing_pct=D(10))
    (t,) = res.trades
    assert (t.exit_time_ms, t.exit_price, t.exit_reason) == (c[3].ts_ms, D(108), "trailing_stop")


def test_open_position_is_sold_at_the_last_close() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 100, 100), (105, 106, 104, 105))
    res = run(c, {0: Action.BUY})
    (t,) = res.trades
    assert (t.exit_price, t.exit_reason, t.exit_time_ms) == (D(105), "end_of_data", T0 + 3 * STEP)
    assert res.equity[-1] == pytest.approx(float(res.final_quote))


def test_back_to_back_orders_are_not_suppressed_by_idempotency() -> None:
    c = bars(*[(100, 100, 100, 100)] * 6)
    res = run(c, {0: Action.BUY, 1: Action.SELL, 2: Action.BUY, 3: Action.SELL, 4: Action.BUY})
    assert [t.exit_reason for t in res.trades] == ["signal", "signal", "end_of_data"]
    assert [t.entry_time_ms for t in res.trades] == [c[1].ts_ms, c[3].ts_ms, c[5].ts_ms]


def test_symbols_share_one_quote_balance() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 100, 100), (100, 100, 100, 100))
    res = run({"BTC/USDT": c, "ETH/USDT": c}, {0: Action.BUY}, stake=D(6000))
    # the first symbol's entry spends 6000 of 10000: the second cannot pay and is refused by risk
    assert [t.symbol for t in res.trades] == ["BTC/USDT"]
    assert res.symbols["ETH/USDT"].candles_in_position == 0


def test_equity_and_exposure_follow_the_position() -> None:
    c = bars((100, 100, 100, 100), (100, 100, 100, 100), (100, 110, 100, 110), (110, 110, 110, 110))
    res = run(c, {0: Action.BUY, 2: Action.SELL})
    assert res.equity == pytest.approx([10000.0, 10000.0, 10100.0, 10100.0])
    assert res.symbols["BTC/USDT"].candles_in_position == 2
    assert res.candles_in_any_position == 2


@pytest.mark.parametrize("floats", [False, True])
@pytest.mark.parametrize("trailing", [D(0), D(5)])
def test_the_position_keeps_its_peak_whether_or_not_the_stop_follows_it(
        trailing: Decimal, floats: bool) -> None:
    """Without a trailing stop the engine hands a new peak to the position only before the
    pipeline next reads it (deciding on the floats of a series of floats); what is saved is
    the same peak, the highest high since the entry."""
    candles = bars((100, 100, 100, 100), (100, 101, 99.5, 100), (100, 104.25, 99.6, 103),
                   (103, 103.5, 102, 102.5), (102.5, 106.5, 102, 104), (104, 105, 101.5, 102))
    series = CandleSeries([c.bar() for c in candles]) if floats else CandleSeries.of(candles)
    assert series.prices_are_floats is floats
    config = reference_config(STEP, fee_pct=D(0), stop_pct=D(10), trailing_pct=trailing,
                              close_at_end=False)
    engine = backtest_engine({"BTC/USDT": series}, config,
                             strategy_factory=lambda _s: Scripted({0: Action.BUY}))
    result = asyncio.run(engine.run())
    assert result.trades == []
    held = engine.repos.positions.get("BTC/USDT")
    assert held.is_open() and held.entry_price == D(100)
    assert held.peak == D("106.5")
