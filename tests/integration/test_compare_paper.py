"""cab-backtest --compare on a real paper session: the bot's own SQLite file, the paper bot on
the seeded synthetic market, then the command as a subprocess. The decisions must not drift:
every trade the bot made is the backtest's, on the same candles; only the prices differ, by
the spread the paper venue charges (the bot fills at the ticker, the backtest at the open)."""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PYTHON, subprocess_env

from crypto_ai_bot.bootstrap import build_container, open_storage, run_backtest
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000


async def _paper_session(settings: Any, steps: int) -> dict[str, int]:
    clock = ManualClock(T0)
    c = build_container(settings, clock=clock)
    await c.start()
    pipelines = list(c.pipelines.values())
    for _ in range(steps):
        for p in pipelines:
            await p.evaluate()
            await p.protect()
        clock.advance(61_000)  # a new idempotency bucket each step
    p = c.pipelines["BTC/USDT"]
    counts = {"candles": p.stats.candles, "buys": p.stats.decisions["buy"],
              "all_buys": sum(q.stats.decisions["buy"] for q in pipelines),
              "stored": len(c.repos.market_data.timestamps("BTC/USDT", "5m@synthetic")),
              "mixed": len(c.repos.market_data.timestamps("BTC/USDT", "5m"))}
    await c.close()
    return counts


def _compare(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "crypto_ai_bot.cli.backtest", "--compare", str(db), "--out", str(out)],
        capture_output=True, text=True, env=subprocess_env(), timeout=180, check=False)


@pytest.mark.parametrize("symbols", ["BTC/USDT", "BTC/USDT,ETH/USDT"])
async def test_a_paper_session_compares_at_zero_drift(
        make_settings: Callable[..., Any], tmp_path: Path, symbols: str) -> None:
    db = tmp_path / "bot.sqlite3"
    settings = make_settings(
        db_path=str(db), autostart=False, price_feed="synthetic", timeframe="5m",
        symbols=symbols, paper_start_quote=Decimal("10000"),
        strategy="ema_cross", strategy_params="fast=5,slow=20", risk_cooldown_sec=0,
        exits_enabled=False, fixed_amount=Decimal("500"), paper_fee_pct=Decimal("0.1"))
    counts = await _paper_session(settings, 500)
    assert counts["stored"] == counts["candles"] >= 500  # every candle it evaluated, kept
    assert counts["mixed"] == 0  # made-up candles stay apart from a real market's
    assert counts["buys"] >= 5
    out = tmp_path / "cmp"
    r = _compare(db, out)
    assert r.returncode == 0, r.stderr
    assert "decisions: zero drift" in r.stdout
    doc = json.loads((out / "compare.json").read_text())
    tot = doc["totals"]
    assert tot["zero_drift"] is True
    assert tot["missed"] == tot["extra"] == tot["delayed"] == 0
    assert tot["matched"] + tot["open"] == counts["all_buys"] and tot["matched"] >= 4
    assert {row["symbol"] for row in doc["trades"]} == set(symbols.split(","))
    assert doc["session"]["settings"]["params"] == {"fast": 5, "slow": 20}
    for row in doc["trades"]:
        assert row["entry_delay_candles"] == 0
        assert row["bot_entry_candle_ms"] == row["backtest_entry_candle_ms"]
        if row["kind"] == "matched":
            assert row["exit_delay_candles"] == 0
            # the paper venue's half spread (0.02 %), rounded to the cent: the bot's only cost
            assert 0 <= row["entry_slippage_pct"] < 0.03
            assert 0 <= row["exit_slippage_pct"] < 0.03
    assert (out / "compare.csv").read_text().startswith("kind,symbol,")
    # the warm-up held matters: the same backtest acting on every candle trades in the first
    # poll's candles, where the bot (which acts on the newest alone) could not
    first, warm_end = doc["session"]["evaluated"]["BTC/USDT"]
    with open_storage(str(db)) as repos:
        candles = repos.market_data.candles("BTC/USDT", "5m@synthetic", first)
    unheld = await asyncio.to_thread(  # a backtest runs its own event loop: not in this one
        functools.partial(run_backtest, candles, params={"fast": 5, "slow": 20}, stop_pct=0,
                          stake=500, fee_pct="0.1", timeframe_ms=300_000))
    assert any(t.entry_time_ms <= warm_end for t in unheld.trades)
    assert (out / "compare.png").exists() or "matplotlib is not installed" in r.stderr


async def test_compare_refuses_a_database_without_a_session(tmp_path: Path) -> None:
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database

    db = tmp_path / "empty.sqlite3"
    open_database(str(db)).close()
    r = _compare(db, tmp_path / "cmp")
    assert r.returncode == 2
    assert "no session.started" in r.stderr and len(r.stderr.strip().splitlines()) == 1
