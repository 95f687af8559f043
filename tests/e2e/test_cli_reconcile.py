"""cab-reconcile in a subprocess: clean exit 0, a seeded mismatch exit 1, beside a running bot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.conftest import REPO, running_server


def env_for(cwd: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no .env (cwd is a tmp dir), DB_PATH there, a fixed price feed."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
            "LANG": "C.UTF-8", "COLUMNS": "200", "DB_PATH": str(cwd / "bot.sqlite3"),
            "PRICE_FEED": "fixed", **extra}


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crypto_ai_bot.cli.reconcile", *args],
        cwd=cwd, env=env_for(cwd, **env), capture_output=True, text=True, timeout=60,
    )


def seed_position(db_path: Path, amount: str) -> None:
    """A local position the paper exchange does not hold."""
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database
    from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
    from crypto_ai_bot.domain.model import Position

    db = open_database(str(db_path))
    try:
        SqliteRepositories(db).positions.save(
            Position("BTC/USDT", base_amount=Decimal(amount), cost_basis=Decimal("100"))
        )
    finally:
        db.close()


def test_clean_database_exits_0(tmp_path: Path) -> None:
    r = run(tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "reconcile clean" in r.stdout
    assert "BTC/USDT" in r.stdout and "match" in r.stdout
    r = run(tmp_path, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] is True and report["mismatches"] == []
    assert report["positions"]["BTC/USDT"]["ok"] is True


def test_seeded_mismatch_exits_1_and_reports_it(tmp_path: Path) -> None:
    seed_position(tmp_path / "bot.sqlite3", "0.5")
    r = run(tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "MISMATCH" in r.stdout and "BTC/USDT" in r.stdout
    r = run(tmp_path, "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)  # logs went to stderr: stdout is pure JSON
    assert report["ok"] is False and report["mismatches"] == ["BTC/USDT"]
    pos = report["positions"]["BTC/USDT"]
    assert Decimal(pos["local"]) == Decimal("0.5") and Decimal(pos["exchange"]) == 0
    assert Decimal(pos["diff"]) == Decimal("-0.5")
    assert report["trading_state"] == "REDUCING"


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[str]:
    """`make run` in miniature: uvicorn with the loops on, on tmp_path's database."""
    with running_server(tmp_path, env_for(tmp_path, AUTOSTART="1")) as url:
        yield url


def test_reconcile_in_a_second_terminal_while_the_bot_runs(
    tmp_path: Path, running_bot: str
) -> None:
    """Reconcile writes (orders, the trading state): beside a running bot, paper as live, it
    leaves the database to the bot's own reconcile loop and says who holds it."""
    r = run(tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "another instance holds" in r.stderr and "pid" in r.stderr
    health = httpx.get(running_bot + "/health", timeout=5).json()
    assert health["orchestrator"]["running"] is True
