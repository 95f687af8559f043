"""Strategies users write: loaded by path, module and entry point, parameters declared on the
class; and the example strategies, each trading through the real backtest."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import PYTHON, subprocess_env
from tests.paths import REPO
from tests.synthetic_market import wave

from crypto_ai_bot.application.strategies import build_strategy, entry, registry
from crypto_ai_bot.application.strategies.loader import load
from crypto_ai_bot.bootstrap import run_backtest
from crypto_ai_bot.config import load_settings
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.model import Action, Bar

MY_STRATEGY = '''
"""A user's strategy in a file of their own."""
from crypto_ai_bot.strategy import EMA, HOLD_WARMUP, Action, Bar, IncrementalStrategy, IntParam
from crypto_ai_bot.strategy import Signal


class Momentum(IncrementalStrategy):
    """Buy when the close is above its EMA, sell below."""

    period = IntParam(10, low=2, high=100, help="EMA period")

    def __init__(self, **params):
        super().__init__(**params)
        self._ema = EMA(self.period)
        self.warmup_candles = self.period

    def on_candle(self, bar: Bar) -> Signal:
        ema = self._ema.update(bar.close)
        if self._ema.count < self.warmup_candles:
            return HOLD_WARMUP
        return Signal(Action.BUY if bar.close > ema else Action.SELL, f"ema {ema:.2f}")
'''


@pytest.fixture
def strategy_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_momentum.py"
    path.write_text(MY_STRATEGY)
    return path


def test_a_class_in_a_file_loads_with_its_declared_parameters(strategy_file: Path) -> None:
    spec = f"{strategy_file}:Momentum"
    e = entry(spec)
    assert e.name == spec and e.summary == "Buy when the close is above its EMA, sell below."
    props = e.params_model().model_json_schema()["properties"]
    assert props["period"]["default"] == 10 and props["period"]["range"] == [2, 100]
    s = build_strategy(spec, {"period": "20"})
    assert s.warmup_candles == 20 and s.on_candle(Bar(0, 1, 1, 1, 1, 1)).action is Action.HOLD
    with pytest.raises(ValueError, match="less than or equal to 100"):
        build_strategy(spec, {"period": 500})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) speed"):
        build_strategy(spec, {"speed": 1})
    result = run_backtest(wave(600), strategy=spec, params={"period": 8})
    assert result.summary.trades > 0


def test_settings_take_a_file_strategy_and_its_params(strategy_file: Path) -> None:
    s = load_settings(None, strategy=f"{strategy_file}:Momentum", strategy_params="period=15")
    assert s.strategy_kwargs == {"period": "15"}
    with pytest.raises(ConfigError, match=r"STRATEGY_PARAMS: .*less than or equal to 100"):
        load_settings(None, strategy=f"{strategy_file}:Momentum", strategy_params="period=900")
    with pytest.raises(ConfigError, match=r"STRATEGY: no strategy file nowhere\.py"):
        load_settings(None, strategy="nowhere.py:X")
    with pytest.raises(ConfigError, match="has no 'Nope'"):
        load_settings(None, strategy=f"{strategy_file}:Nope")


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """A real installed distribution on sys.path: a package and its dist-info declaring the
    entry point, as pip would leave them."""
    site = tmp_path / "site"
    (site / "acme_strategies").mkdir(parents=True)
    (site / "acme_strategies" / "__init__.py").write_text(MY_STRATEGY)
    info = site / "acme_strategies-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-strategies\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[crypto_ai_bot.strategies]\nmomentum = acme_strategies:Momentum\n")
    sys.path.insert(0, str(site))
    registry.cache_clear()
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("acme_strategies", None)
    registry.cache_clear()


def test_an_installed_package_registers_by_entry_point(installed: Path) -> None:
    assert "momentum" in registry()
    assert build_strategy("momentum", {"period": 5}).warmup_candles == 5
    assert load("acme_strategies:Momentum").name == "acme_strategies:Momentum"  # module:Class


def test_cab_backtest_runs_a_file_strategy(strategy_file: Path, tmp_path: Path) -> None:
    from crypto_ai_bot.adapters.candle_files import write_csv

    data = tmp_path / "BTC_USDT-5m.csv"
    write_csv(data, wave(600))
    r = subprocess.run(
        [PYTHON, "-m", "crypto_ai_bot.cli.backtest", "--no-progress", "--data", str(data),
         "--strategy", f"{strategy_file}:Momentum", "--param", "period=12", "--no-plot"],
        capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False,
        cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "{'period': 12}" in r.stdout and "trades" in r.stdout
    bad = subprocess.run(
        [PYTHON, "-m", "crypto_ai_bot.cli.backtest", "--no-progress", "--data", str(data),
         "--strategy", f"{strategy_file}:Momentum", "--param", "period=1"],
        capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False,
        cwd=tmp_path)
    assert bad.returncode == 2 and "greater than or equal to 2" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("name", "params"), [
    ("rsi", {"period": 14}), ("bollinger", {"window": 20}), ("donchian", {"entry": 20}),
])
def test_the_example_strategies_trade_through_the_backtest(name: str, params: dict[str, int],
                                                           ) -> None:
    result = run_backtest(wave(1500), strategy=name, params=params, stop_pct=0)
    assert result.summary.trades > 0
    assert {t.exit_reason for t in result.trades} <= {"signal", "end_of_data"}


def test_the_examples_see_no_future() -> None:
    """Each example's signals up to a candle do not change when the candles after it do."""
    candles = wave(400)
    bars = [c.bar() for c in candles]
    for name in ("rsi", "bollinger", "donchian"):
        full = build_strategy(name)
        signals = [full.on_candle(b) for b in bars]
        for cut in (50, 123, 250, 399):
            part = build_strategy(name)
            assert [part.on_candle(b) for b in bars[:cut]] == signals[:cut], (name, cut)


def test_the_strategy_in_docs_strategies_md_works_as_written(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "strategies.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "momentum.py"
    path.write_text(code)
    result = run_backtest(wave(600), strategy=f"{path}:Momentum", params={"period": 20})
    assert result.summary.trades > 0
