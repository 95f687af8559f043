"""cab-reconcile in a subprocess: clean exit 0, a seeded mismatch exit 1, beside a running bot."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


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
    from crypto_ai_bot.core.domain import Position
    from crypto_ai_bot.core.storage.facade import open_database
    from crypto_ai_bot.core.storage.repositories import Repositories

    db = open_database(str(db_path))
    try:
        Repositories.over(db).positions.save(
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[str]:
    """`make run` in miniature: uvicorn with the loops on, on tmp_path's database."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "crypto_ai_bot.app.server:app",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env_for(tmp_path, AUTOSTART="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the bot did not become ready in 20 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_reconcile_in_a_second_terminal_while_the_bot_runs(
    tmp_path: Path, running_bot: str
) -> None:
    r = run(tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "reconcile clean" in r.stdout
    health = httpx.get(running_bot + "/health", timeout=5).json()
    assert health["orchestrator"]["running"] is True
