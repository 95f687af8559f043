"""Vectorised strategies in freqtrade's shape: loaded by path, module and entry point, their
parameters declared, computed once in a backtest and on the last startup + 1 candles live
with the same signals, their stoploss / trailing / minimal_roi / timeframe honoured; the
shipped freqtrade port trades as the built-in ema_cross does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import PYTHON, need_shared_data, subprocess_env
from tests.paths import OHLCV, REPO
from tests.synthetic_market import wave

from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.strategies import build_strategy, entry, registry
from crypto_ai_bot.application.strategies.vector import VectorStrategy
from crypto_ai_bot.bootstrap import backtest_engine, reference_config, run_backtest
from crypto_ai_bot.domain.model import Action

EXAMPLE = f"{REPO / 'examples' / 'strategies' / 'freqtrade_ema_cross.py'}:EmaCross"

TUNED = '''
"""Close above its SMA: long; below: out."""
from pandas import DataFrame

from crypto_ai_bot.strategy import IntParam, IntParameter, IStrategy


class Tuned(IStrategy):
    timeframe = "5m"
    startup_candle_count = 40
    stoploss = -0.03
    trailing_stop = True
    trailing_stop_positive = 0.01
    trailing_stop_positive_offset = 0.02
    trailing_only_offset_is_reached = True
    minimal_roi = {"0": 0.05, "30": 0.02, "120": 0}
    window = IntParam(20, low=2, high=40, help="SMA window")
    margin = IntParameter(0, 5, default=1, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["sma"] = dataframe["close"].rolling(self.window).mean()
        dataframe["pair"] = metadata["pair"]
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        up = dataframe["close"] > dataframe["sma"] + self.margin.value
        dataframe.loc[up & ~up.shift(1, fill_value=False), ["enter_long", "enter_tag"]] = (
            1, "above")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["sma"], "exit_long"] = 1
        return dataframe
'''


@pytest.fixture
def tuned(tmp_path: Path) -> str:
    path = tmp_path / "tuned.py"
    path.write_text(TUNED)
    return f"{path}:Tuned"


def test_an_istrategy_file_loads_with_its_parameters_exits_and_timeframe(tuned: str) -> None:
    e = entry(tuned)
    assert e.summary == "Close above its SMA: long; below: out." and e.timeframe == "5m"
    assert set(e.params) == {"window", "margin"}
    assert e.params_model().model_json_schema()["properties"]["window"]["range"] == [2, 40]
    s = build_strategy(tuned, {"window": 10, "margin": 2})
    assert isinstance(s, VectorStrategy) and s.warmup_candles == 40
    assert (s.inner.window, s.inner.margin.value) == (10, 2)
    with pytest.raises(ValueError, match="less than or equal to 40"):
        build_strategy(tuned, {"window": 99})
    assert e.exits is not None
    x = e.exits(ExitsConfig(hard_stop_pct=Decimal(7), trailing_pct=Decimal(1)))
    assert (x.hard_stop_pct, x.trailing_pct, x.trailing_positive_pct, x.trailing_offset_pct,
            x.trailing_only_offset) == (3, 3, 1, 2, True)
    assert x.roi == ((0, 5), (30 * 60_000, 2), (120 * 60_000, 0))


def test_the_backtest_and_live_recomputation_give_the_same_signals(tuned: str) -> None:
    """precompute (the backtest: the whole series once) and on_candle alone (live: the last
    startup + 1 candles each close) agree candle for candle, warm-up included."""
    bars = [c.bar() for c in wave(1200)]
    backtest = build_strategy(tuned)
    assert isinstance(backtest, VectorStrategy)
    backtest.precompute(bars)
    live = build_strategy(tuned)
    got = [(backtest.on_candle(b), live.on_candle(b)) for b in bars]
    assert all(a == b for a, b in got)
    actions = [a.action for a, _ in got]
    assert actions[:40] == [Action.HOLD] * 40 and actions.count(Action.BUY) > 3
    assert {a.reason for a, _ in got if a.action is Action.BUY} == {"enter_long (above)"}
    assert len(live._window) == 41  # only startup + 1 candles are kept
    batch = build_strategy(tuned)  # a first poll's history at once: computed once, same word
    assert isinstance(batch, VectorStrategy)
    assert batch.on_candles(bars[:500]) == got[499][1]
    assert [batch.on_candle(b) for b in bars[500:]] == [b for _, b in got[500:]]


def test_a_backtest_honours_its_stop_trailing_and_roi(tuned: str) -> None:
    result = run_backtest(wave(3000), strategy=tuned, stop_pct=9, trailing_pct=0)
    assert result.summary.trades > 5
    assert {t.exit_reason.value for t in result.trades} >= {"roi"}
    for t in result.trades:
        if t.exit_reason.value == "roi":  # 5 % young, 2 % after 30 min, break-even after 2 h
            age = (t.exit_time_ms - t.entry_time_ms) // 60_000
            due = Decimal("1.05") if age < 30 else Decimal("1.02") if age < 120 else 1
            assert t.exit_price >= (t.entry_price * due).quantize(Decimal("0.01")) - Decimal(
                "0.01"), t


def test_a_strategy_for_another_timeframe_is_refused(tuned: str) -> None:
    config = reference_config(3_600_000, strategy=tuned)
    with pytest.raises(ValueError, match=r"written for 5m candles \(its timeframe\)"):
        backtest_engine({"BTC/USDT": wave(50)}, config)


def test_module_and_entry_point_loading(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "acme_vector").mkdir(parents=True)
    (site / "acme_vector" / "__init__.py").write_text(TUNED)
    info = site / "acme_vector-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-vector\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[crypto_ai_bot.strategies]\ntuned = acme_vector:Tuned\n")
    sys.path.insert(0, str(site))
    registry.cache_clear()
    try:
        assert isinstance(build_strategy("acme_vector:Tuned"), VectorStrategy)
        assert registry()["tuned"].timeframe == "5m"
        assert run_backtest(wave(1200), strategy="tuned").summary.trades > 0
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("acme_vector", None)
        registry.cache_clear()


def test_an_incremental_backtest_imports_no_pandas() -> None:
    code = (
        "import sys\n"
        "from crypto_ai_bot.bootstrap import run_backtest, fast_check\n"
        "from tests.synthetic_market import wave\n"
        "bars = [c.bar() for c in wave(300)]\n"
        "assert fast_check('ema_cross', {}, bars).ok\n"
        "run_backtest(wave(300), strategy='ema_cross')\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    r = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env=subprocess_env(), timeout=60, check=False)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def btc() -> Iterator[object]:
    from crypto_ai_bot.adapters.candle_files import load_series

    yield load_series(need_shared_data(OHLCV / "binance" / "BTC_USDT-5m.feather"))


def test_the_freqtrade_port_trades_as_the_builtin_ema_cross(btc: object) -> None:
    """Candle for candle from the end of its startup: the same entries and exits, at the same
    times, prices and reasons. (The amounts' last digits differ by the dust the built-in's
    trades in the first 400 candles left behind.)"""
    ours = run_backtest(btc, strategy="ema_cross", params={"fast": 12, "slow": 26})  # type: ignore[arg-type]
    port = run_backtest(btc, strategy=EXAMPLE, stop_pct=5)  # type: ignore[arg-type]
    start = btc.bars[400].ts_ms  # type: ignore[attr-defined]

    def key(t: object) -> tuple[object, ...]:
        return (t.entry_time_ms, t.exit_time_ms, t.entry_price, t.exit_price,  # type: ignore[attr-defined]
                t.exit_reason)  # type: ignore[attr-defined]

    expected = [key(t) for t in ours.trades if t.entry_time_ms > start]
    assert len(expected) > 2000
    assert [key(t) for t in port.trades] == expected
    assert {t.exit_reason.value for t in port.trades} == {"signal", "hard_stop", "end_of_data"}


def test_the_port_warmed_up_as_the_builtin_gives_its_very_trades(btc: object,
                                                                tmp_path: Path) -> None:
    """The same file with only its startup_candle_count set to the built-in's warm-up (its
    first signal can come at the 26th candle): every trade, amounts and PnL to the last
    digit."""
    text = Path(EXAMPLE.rsplit(":", 1)[0]).read_text()
    assert text.count("startup_candle_count = 400") == 1
    path = tmp_path / "warm25.py"
    path.write_text(text.replace("startup_candle_count = 400", "startup_candle_count = 25"))
    ours = run_backtest(btc, strategy="ema_cross", params={"fast": 12, "slow": 26})  # type: ignore[arg-type]
    port = run_backtest(btc, strategy=f"{path}:EmaCross")  # type: ignore[arg-type]
    assert len(ours.trades) > 2000 and port.trades == ours.trades


V2 = '''
from crypto_ai_bot.strategy import IStrategy


class Old(IStrategy):
    """Interface 2: populate_buy_trend / populate_sell_trend with buy / sell columns."""
    startup_candle_count = 5
    use_exit_signal = False

    def populate_indicators(self, dataframe, metadata):
        dataframe["up"] = dataframe["close"] > dataframe["close"].shift(1)
        return dataframe

    def populate_buy_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["up"], "buy"] = 1
        return dataframe

    def populate_sell_trend(self, dataframe, metadata):
        dataframe.loc[~dataframe["up"], "sell"] = 1
        return dataframe
'''


def test_interface_2_and_use_exit_signal_false(tmp_path: Path) -> None:
    path = tmp_path / "old.py"
    path.write_text(V2)
    s = build_strategy(f"{path}:Old")
    assert isinstance(s, VectorStrategy)
    bars = [c.bar() for c in wave(200)]
    actions = {s.on_candle(b).action for b in bars}
    assert actions == {Action.HOLD, Action.BUY}  # its sell column is ignored: no exit signal
    noexit = V2.replace("use_exit_signal = False", "use_exit_signal = True")
    path.write_text(noexit)
    (tmp_path / "old2.py").write_text(noexit)
    both = build_strategy(f"{tmp_path / 'old2.py'}:Old")
    assert {both.on_candle(b).action for b in bars} == {Action.HOLD, Action.BUY, Action.SELL}


def test_the_take_profit_fires_on_the_first_candle_that_reaches_it(tuned: str) -> None:
    """Candle by candle against the ROI table: no held candle before the exit reached the
    profit due at its age, and an roi exit sells at that level (or the open above it)."""
    candles = wave(3000)
    index = {c.ts_ms: i for i, c in enumerate(candles)}
    table = [(0, Decimal("1.05")), (30 * 60_000, Decimal("1.02")), (120 * 60_000, Decimal(1))]

    def due(entry: Decimal, age: int) -> Decimal:
        return entry * [f for at, f in table if at <= age][-1]

    result = run_backtest(candles, strategy=tuned, stop_pct=9, trailing_pct=0)
    rois = 0
    for t in result.trades:
        k, m = index[t.entry_time_ms], index.get(t.exit_time_ms)
        end = m if m is not None else len(candles)
        for j in range(k, end):
            age = candles[j].ts_ms - t.entry_time_ms
            assert candles[j].high < due(t.entry_price, age), (t, j)
        if t.exit_reason.value == "roi":
            rois += 1
            assert m is not None
            level = due(t.entry_price, candles[m].ts_ms - t.entry_time_ms)
            assert candles[m].high >= level
            assert abs(t.exit_price - max(candles[m].open, level)) <= Decimal("0.01"), t
    assert rois >= 3
