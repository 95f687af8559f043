"""cab-strategy check in real subprocesses: the shipped strategies pass, a vectorised one that
uses shift(-1) and an incremental one that reads the candle file ahead are caught with the
candle and the column, bad input exits 2 with one line; cab-backtest runs the fast check and
refuses a strategy that fails it unless --no-check."""

from __future__ import annotations

import math
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import PYTHON, subprocess_env
from tests.paths import REPO

from crypto_ai_bot.adapters.candle_files import write_csv
from crypto_ai_bot.domain.model import Candle

FIXTURES = REPO / "tests" / "fixtures" / "strategies"
EXAMPLE = f"{REPO / 'examples' / 'strategies' / 'freqtrade_ema_cross.py'}:EmaCross"


def _wave(n: int) -> list[Candle]:
    out = []
    for i in range(n):
        p = 100 + 20 * math.sin(i / 25) + 5 * math.sin(i / 4) + 3 * math.sin(i / 1.7)
        o = Decimal(str(round(p, 2)))
        c = Decimal(str(round(p + 0.6 * math.sin(i / 1.3), 2)))
        out.append(Candle(1_767_225_600_000 + i * 300_000, o, max(o, c) + 1, min(o, c) - 1, c,
                          Decimal(1)))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("candles") / "BTC_USDT-5m.csv"
    write_csv(path, _wave(1500))
    return path


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", *args], capture_output=True, text=True,
                          env=subprocess_env(COLUMNS="200", **env), timeout=300, check=False)


@pytest.mark.parametrize("spec", ["ema_cross", "rsi", "bollinger", "donchian", EXAMPLE])
def test_the_shipped_strategies_are_clean(spec: str, data: Path) -> None:
    r = _run("crypto_ai_bot.cli.strategy", "check", spec, "--data", str(data), "--cuts", "12")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "clean" in r.stdout and "backtest, a candle" in r.stdout
    if spec == EXAMPLE:  # vectorised: live recomputation measured, startup without bias
        assert "vectorised" in r.stdout and "live recomputation, a candle" in r.stdout
        assert "startup candles without recursive bias │ 400" in " ".join(r.stdout.split())


def test_shift_minus_one_is_lookahead_with_its_candle_and_column(data: Path) -> None:
    r = _run("crypto_ai_bot.cli.strategy", "check", f"{FIXTURES / 'peek_shift.py'}:PeekShift",
             "--data", str(data))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if "lookahead" in ln and "next_close" in ln]
    assert lines, r.stdout
    assert "NaN" in lines[0] and "2026-01-" in lines[0]  # the candle, both values (the cut: NaN)
    assert "problem(s): " in r.stdout


def test_a_strategy_reading_the_candle_file_is_caught(data: Path) -> None:
    r = _run("crypto_ai_bot.cli.strategy", "check",
             f"{FIXTURES / 'reads_ahead.py'}:ReadsAhead", "--data", str(data),
             PEEK_CANDLES=str(data))
    assert r.returncode == 1, r.stdout + r.stderr
    text = " ".join(r.stdout.split())
    assert "opened the candle file itself" in text and str(data.name) in text


def test_too_little_startup_is_recursive_bias_with_the_count_that_removes_it(data: Path,
                                                                               ) -> None:
    r = _run("crypto_ai_bot.cli.strategy", "check",
             f"{FIXTURES / 'short_startup.py'}:ShortStartup", "--data", str(data))
    assert r.returncode == 1, r.stdout + r.stderr
    text = " ".join(r.stdout.split())
    assert "recursive" in text and "set startup_candle_count = " in text
    assert "live" in text and "ema" in text


@pytest.mark.parametrize(("args", "needle"), [
    (["nowhere.py:X", "--data", "DATA"], "no strategy file nowhere.py"),
    (["ema_cross", "--data", "/no/such.csv"], "--data /no/such.csv: no such file"),
    (["macd", "--data", "DATA"], "unknown strategy 'macd'"),
    (["ema_cross", "--data", "DATA", "--param", "fast=0"], "greater than or equal to 1"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], needle: str, data: Path) -> None:
    r = _run("crypto_ai_bot.cli.strategy", "check",
             *[str(data) if a == "DATA" else a for a in args])
    assert r.returncode == 2, r.stdout + r.stderr
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cab_backtest_refuses_a_peeking_strategy_unless_told(data: Path, tmp_path: Path) -> None:
    spec = f"{FIXTURES / 'peek_shift.py'}:PeekShift"
    common = ["crypto_ai_bot.cli.backtest", "--no-progress", "--no-plot", "--data", str(data),
              "--strategy", spec, "--stake", "100", "--no-risk"]
    refused = _run(*common)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "the strategy check failed: " in refused.stderr and "next_close" in refused.stderr
    assert "--no-check overrides" in refused.stderr and "trades" not in refused.stdout
    forced = _run(*common, "--no-check")
    assert forced.returncode == 0, forced.stderr
    assert "--no-check: the strategy check is skipped" in forced.stderr
    assert "trades" in forced.stdout
    peeks = _run("crypto_ai_bot.cli.backtest", "--no-progress", "--no-plot", "--data", str(data),
                 "--strategy", f"{FIXTURES / 'reads_ahead.py'}:ReadsAhead", "--no-risk",
                 PEEK_CANDLES=str(data))
    assert peeks.returncode == 1 and "opened the candle file itself" in peeks.stderr


def test_cab_backtest_runs_the_freqtrade_port_with_its_own_stop(data: Path) -> None:
    r = _run("crypto_ai_bot.cli.backtest", "--no-progress", "--no-plot", "--data", str(data),
             "--strategy", EXAMPLE, "--stake", "100", "--no-risk", "--trailing-pct", "0")
    assert r.returncode == 0, r.stderr
    assert "hard stop 2 %" in r.stdout and "trades" in r.stdout  # stoploss = -0.02


def test_the_script_is_registered_and_lists_the_strategies() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'cab-strategy = "crypto_ai_bot.cli.strategy:main"' in text
    r = _run("crypto_ai_bot.cli.strategy", "list")
    assert r.returncode == 0 and "ema_cross: buy when the fast EMA crosses" in r.stdout


def test_a_strategy_that_crashes_is_one_line_exit_2(data: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("from crypto_ai_bot.strategy import IStrategy\n\n\n"
                    "class Broken(IStrategy):\n"
                    "    def populate_indicators(self, dataframe, metadata):\n"
                    "        return dataframe['no_such_column']\n")
    r = _run("crypto_ai_bot.cli.strategy", "check", f"{path}:Broken", "--data", str(data))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "failed while checked: KeyError" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
