"""A vectorised strategy in paper mode, through build_container on a real SQLite file: it
trades on its own signals with its own stop, recomputing on the last startup + 1 candles; the
start-up refuses one that fails the fast check, unless STRATEGY_CHECK=false says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.paths import REPO
from tests.unit.application.strategies.test_vector import TUNED

from crypto_ai_bot.application.strategies.vector import VectorStrategy
from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000
PEEK = f"{REPO / 'tests' / 'fixtures' / 'strategies' / 'peek_shift.py'}:PeekShift"


async def test_an_istrategy_paper_trades_with_its_own_signals_and_stop(
        make_settings: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "tuned.py"
    path.write_text(TUNED.replace('"0": 0.05, "30": 0.02, "120": 0', '"0": 100'))
    clock = ManualClock(T0)
    c = build_container(make_settings(autostart=False, risk_cooldown_sec=0,
                                      strategy=f"{path}:Tuned", price_feed="synthetic"),
                        clock=clock)
    await c.start()
    p = c.pipelines["BTC/USDT"]
    assert isinstance(p.strategy, VectorStrategy) and p.strategy.metadata["pair"] == "BTC/USDT"
    stops = set()
    for _ in range(600):
        await p.evaluate()
        await p.protect()
        level = p.stop_level()
        if level is not None:
            entry = c.repos.positions.get("BTC/USDT").entry_price
            stops.add((level.reason.value, level.price == entry * (1 - Decimal(3) / 100)))
        clock.advance(61_000)
    assert p.stats.decisions["buy"] >= 2, p.stats
    # its stoploss (-0.03), not the settings' 2 %; trailing only past its 2 % offset
    assert ("hard_stop", True) in stops and ("hard_stop", False) not in stops, stops
    reasons = {e.payload.get("reason") for e in c.repos.audit.recent(1000, "decision.made")}
    assert "enter_long (above)" in reasons, reasons
    await c.close()


def test_the_start_up_refuses_a_peeking_strategy(make_settings: Callable[..., Any]) -> None:
    with pytest.raises(ConfigError, match=r"the strategy check failed: .*lookahead: next_close"):
        build_container(make_settings(autostart=False, strategy=PEEK))


def test_strategy_check_false_starts_it_loudly(make_settings: Callable[..., Any],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    c = build_container(make_settings(autostart=False, strategy=PEEK, strategy_check=False))
    assert isinstance(c.pipelines["BTC/USDT"].strategy, VectorStrategy)
    c.db.close()
    out = capsys.readouterr()
    assert "strategy_check_skipped" in out.out + out.err


async def test_the_first_poll_brings_the_startup_history(make_settings: Callable[..., Any],
                                                         ) -> None:
    """The freqtrade port needs 400 candles before its first signal: paper's first poll brings
    401, computed once, so that it trades from the start as freqtrade does after loading its
    startup candles."""
    example = f"{REPO / 'examples' / 'strategies' / 'freqtrade_ema_cross.py'}:EmaCross"
    c = build_container(make_settings(autostart=False, strategy=example),
                        clock=ManualClock(T0))
    await c.start()
    p = c.pipelines["BTC/USDT"]
    await p.evaluate()
    assert p.stats.candles == 401
    assert p.stats.last_signal is not None and p.stats.last_signal.reason != "warming up"
    assert isinstance(p.strategy, VectorStrategy) and len(p.strategy._window) == 401
    await c.close()
