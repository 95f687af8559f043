"""One trading process per database in every mode; the read-only tools work beside it.

Two real servers (uvicorn, paper mode, the default INSTANCE_LOCK) on one database file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from tests.conftest import PYTHON, free_port, running_server, subprocess_env


def _tool(cwd: Path, env: dict[str, str], *args: str,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_a_second_paper_bot_on_the_same_database_refuses_and_the_tools_still_work(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.sqlite3"
    env = subprocess_env(DB_PATH=str(db), PRICE_FEED="fixed", AUTOSTART="1",
                         EVAL_INTERVAL_SEC="0.2", EXITS_INTERVAL_SEC="0.2", LOG_LEVEL="WARNING")
    env.pop("INSTANCE_LOCK", None)
    with running_server(tmp_path, env) as url:
        assert httpx.get(url + "/health", timeout=5).json()["orchestrator"]["running"]
        second = _tool(tmp_path, env, "uvicorn", "crypto_ai_bot.api.server:app",
                       "--host", "127.0.0.1", "--port", str(free_port()),
                       timeout=30)  # one that starts trading would still run: a failure
        assert second.returncode != 0, second.stdout + second.stderr
        assert "another instance holds" in second.stderr and f"{db}.lock" in second.stderr
        # the first one trades on, untouched
        health = httpx.get(url + "/health", timeout=5).json()
        assert health["orchestrator"]["running"] and health["trading_state"] == "ACTIVE"
        for args in (["crypto_ai_bot.cli.performance", "--json"],
                     ["crypto_ai_bot.cli.maintenance", "list"],
                     ["crypto_ai_bot.cli.maintenance", "integrity"],
                     ["crypto_ai_bot.cli.maintenance", "backup"],
                     ["crypto_ai_bot.cli.health_monitor", "--oneshot", "--url",
                      url + "/health"]):
            r = _tool(tmp_path, env, *args)
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        # a backtest on candles stored in the running bot's database
        t0, step = 1_767_225_600_000, 300_000
        lines = ["timestamp_ms,open,high,low,close,volume"] + [
            f"{t0 + i * step},{100 + i % 7},108,99,{100 + i % 5},5"
            for i in range(300)]
        (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
        for args in (["crypto_ai_bot.cli.data", "import", "c.csv", "--symbol", "BTC/USDT",
                      "--timeframe", "5m"],
                     ["crypto_ai_bot.cli.backtest", "--symbol", "BTC/USDT", "--timeframe", "5m",
                      "--out", str(tmp_path / "bt")]):
            r = _tool(tmp_path, env, *args)
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        assert httpx.get(url + "/health", timeout=5).json()["orchestrator"]["running"]
