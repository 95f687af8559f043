"""The strategy registry: one file is one strategy, found by name, its parameters checked."""

from __future__ import annotations

import subprocess

import pytest
from tests.conftest import PYTHON, subprocess_env

from crypto_ai_bot.application.strategies import build_strategy, entry, names, parse_params
from crypto_ai_bot.application.strategies.ema_cross import EmaCross
from crypto_ai_bot.config import load_settings
from crypto_ai_bot.domain.errors import ConfigError


def test_the_package_modules_that_name_a_strategy_are_registered() -> None:
    assert names() == ["ai", "bollinger", "donchian", "ema_cross", "rsi"]
    assert entry("ema_cross").params.keys() == {"fast", "slow"}
    schema = entry("ema_cross").params_model().model_json_schema()["properties"]
    assert schema["fast"]["default"] == 12 and schema["fast"]["range"] == [1, 10_000]


def test_parameters_are_typed_bounded_and_closed() -> None:
    s = build_strategy("ema_cross", {"fast": "5", "slow": 20})
    assert isinstance(s, EmaCross) and (s.fast_period, s.slow_period) == (5, 20)
    assert parse_params("ema_cross") == {"fast": 12, "slow": 26}
    for params, needle in (({"fast": 0}, "fast: Input should be greater than or equal to 1"),
                           ({"fast": 30}, "fast EMA period must be smaller than slow"),
                           ({"fast": "x"}, "fast: Input should be a valid integer"),
                           ({"speed": 3}, "unknown parameter(s) speed")):
        with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            build_strategy("ema_cross", params)


def test_an_unknown_name_lists_what_is_registered() -> None:
    listed = "unknown strategy 'macd'; one of ai, bollinger, donchian, ema_cross, rsi"
    with pytest.raises(ValueError, match=listed):
        build_strategy("macd")
    with pytest.raises(ConfigError, match=f"STRATEGY: {listed}"):
        load_settings(None, strategy="macd")


def test_cab_backtest_help_lists_the_strategies() -> None:
    r = subprocess.run([PYTHON, "-m", "crypto_ai_bot.cli.backtest", "--help"],
                       capture_output=True, text=True, env=subprocess_env(), timeout=60,
                       check=False)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "ema_cross: buy when the fast EMA crosses above the slow one" in text
    assert "ai: a trained classifier" in text


def test_values_already_right_need_no_pydantic() -> None:
    """A backtest whose parameters are already of their types and in range (cab-backtest's
    --param, the settings) never imports pydantic: it costs a whole run ~0.1 s. Values that
    need coercing or are wrong go through the pydantic model, which says what is wrong."""
    code = (
        "import sys\n"
        "from crypto_ai_bot.application.strategies import build_strategy\n"
        "build_strategy('ema_cross', {'fast': 12, 'slow': 26})\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "build_strategy('ema_cross', {'fast': '12'})\n"
        "assert 'pydantic' in sys.modules\n"
    )
    r = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True,
                       env=subprocess_env(), timeout=60, check=False)
    assert r.returncode == 0, r.stderr
