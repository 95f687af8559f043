"""The strategy check as a library: what each of its parts reports, on strategies made to
fail each one, and that the shipped ones (the trained ai model too) pass it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.paths import REPO
from tests.unit.application.strategies.test_ai import BARS, trained  # noqa: F401 - fixture

from crypto_ai_bot.application.strategies.check import check, synthetic_bars
from crypto_ai_bot.bootstrap import fast_check, strategy_context

FIXTURES = REPO / "tests" / "fixtures" / "strategies"

COIN = '''
import random
from crypto_ai_bot.strategy import Action, Bar, IncrementalStrategy, Signal


class Coin(IncrementalStrategy):
    """Buys or sells on a coin toss: never the same twice."""

    def on_candle(self, bar: Bar) -> Signal:
        return Signal(random.choice([Action.BUY, Action.SELL]), "heads or tails")
'''


def test_the_ai_strategy_with_a_trained_model_is_clean(
        trained: tuple[object, Path]) -> None:  # noqa: F811 - the fixture
    _, model_dir = trained
    report = check("ai", BARS, params={"model_path": str(model_dir)}, cuts=8,
                   context=strategy_context())
    assert report.ok, report.problems
    assert report.kind == "incremental" and report.cuts == 8


def test_a_coin_toss_is_not_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "coin.py"
    path.write_text(COIN)
    report = check(f"{path}:Coin", synthetic_bars(300, 300_000), cuts=3)
    assert not report.ok
    assert {p.check for p in report.problems} >= {"determinism"}


def test_shift_minus_one_is_named_in_one_line() -> None:
    report = fast_check(f"{FIXTURES / 'peek_shift.py'}:PeekShift", {},
                        synthetic_bars(1000, 300_000))
    assert not report.ok
    first = report.problems[0]
    assert (first.check, first.column, first.got) == ("lookahead", "next_close", "NaN")
    assert report.summary().startswith(f"{FIXTURES / 'peek_shift.py'}:PeekShift: lookahead:"
                                       " next_close at candle 20")


def test_reading_the_candle_file_is_reported(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.application.strategies.test_ai import SERIES

    from crypto_ai_bot.adapters.candle_files import write_csv

    data = tmp_path / "candles.csv"
    write_csv(data, SERIES[:500])
    monkeypatch.setenv("PEEK_CANDLES", str(data))
    spec = f"{FIXTURES / 'reads_ahead.py'}:ReadsAhead"
    report = check(spec, BARS[:500], data=[str(data)], fast=True)
    assert [p.check for p in report.problems][:1] == ["file"]
    assert report.problems[0].column == str(data)
    assert check(spec, BARS[:500], fast=True).ok  # what it is handed alone: honest-looking
