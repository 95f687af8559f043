"""The server over real HTTP: uvicorn in a subprocess on a temporary SQLite file."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.conftest import PYTHON, free_port, running_server, subprocess_env

TOKEN = "test-token-123"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = subprocess_env(
        API_TOKEN=TOKEN, EVAL_INTERVAL_SEC="0.2", EXITS_INTERVAL_SEC="0.2",
        RISK_COOLDOWN_SEC="0", DB_PATH=str(tmp_path / "bot.sqlite3"),
    )
    with running_server(tmp_path, env) as url:
        yield url, tmp_path
    assert TOKEN not in (tmp_path / "server.log").read_text()  # secrets never reach the logs


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_health_ready_metrics(server: tuple[str, Path]) -> None:
    url, _ = server
    h = httpx.get(url + "/health").json()
    assert h["mode"] == "paper" and h["db"]["ok"] and h["broker"]["ready"]
    assert h["trading_state"] == "ACTIVE" and "loops" in h
    assert TOKEN not in str(h)
    r = httpx.get(url + "/ready")
    assert r.status_code == 200 and r.json()["ready"] is True
    text = httpx.get(url + "/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    assert "cab_up 1.0" in text.text
    js = httpx.get(url + "/metrics", headers={"Accept": "application/json"}).json()
    assert js["cab_up"]["samples"][0]["value"] == 1.0


def test_control_needs_the_token(server: tuple[str, Path]) -> None:
    url, _ = server
    assert httpx.get(url + "/orchestrator/status").status_code == 401
    bad = {"Authorization": "Bearer wrong"}
    assert httpx.post(url + "/orchestrator/stop", headers=bad).status_code == 401
    assert httpx.get(url + "/orchestrator/status", headers=AUTH).status_code == 200


def test_start_stop_idempotent_and_paper_trades(server: tuple[str, Path]) -> None:
    url, cwd = server
    assert httpx.post(url + "/orchestrator/start", headers=AUTH).json() == {
        "started": False, "running": True}
    deadline = time.monotonic() + 30
    status: dict = {}
    while time.monotonic() < deadline:
        status = httpx.get(url + "/orchestrator/status", headers=AUTH).json()
        pos = status["positions"]["BTC/USDT"]
        if pos["decisions"]["buy"] >= 1 and pos["last_result"]:
            break
        time.sleep(0.5)
    pos = status["positions"]["BTC/USDT"]
    assert status["running"] and pos["decisions"]["buy"] >= 1, status
    assert pos["last_result"].startswith(("buy: sent", "sell: sent")), status
    # the JSON logs show the fill as people read it: price to the cent, amount, fee
    lines = [json.loads(line) for line in (cwd / "server.log").read_text().splitlines()
             if line.startswith("{")]
    fills = [e for e in lines if e.get("event") == "fill"]
    assert fills and fills[0]["side"] == "buy" and fills[0]["fee_currency"] == "BTC"
    assert re.fullmatch(r"\d+\.\d\d", fills[0]["price"]), fills[0]
    assert Decimal(fills[0]["amount"]) > 0 and Decimal(fills[0]["fee"]) > 0
    assert "display" in pos and pos["in_position"] in (True, False)
    stop = httpx.post(url + "/orchestrator/stop", headers=AUTH, timeout=60).json()
    assert stop == {"stopped": True, "running": False}
    assert httpx.post(url + "/orchestrator/stop", headers=AUTH).json()["stopped"] is False
    assert httpx.post(url + "/orchestrator/start", headers=AUTH).json()["started"] is True


def test_bad_setting_exits_2_naming_it(tmp_path: Path) -> None:
    out = subprocess.run(
        [PYTHON, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--port", str(free_port())],
        cwd=tmp_path, env=subprocess_env(RISK_COOLDOWN_SEC="soon"), capture_output=True,
        text=True, timeout=60,
    )
    assert out.returncode == 2
    assert "RISK_COOLDOWN_SEC" in out.stderr


def test_live_without_token_refuses_to_start(tmp_path: Path) -> None:
    out = subprocess.run(
        [PYTHON, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--port", str(free_port())],
        cwd=tmp_path, env=subprocess_env(MODE="live", API_KEY="k", API_SECRET="s"),
        capture_output=True, text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "API_TOKEN" in out.stderr and "ALLOW_UNAUTHENTICATED_CONTROL" in out.stderr


def test_operator_sets_trading_state(server: tuple[str, Path]) -> None:
    url, _ = server
    r = httpx.post(url + "/orchestrator/trading-state", headers=AUTH,
                   json={"state": "HALTED", "reason": "maintenance"})
    assert r.status_code == 200 and r.json()["trading_state"] == "HALTED"
    assert httpx.get(url + "/health").json()["trading_state"] == "HALTED"
    bad = httpx.post(url + "/orchestrator/trading-state", headers=AUTH, json={"state": "YOLO"})
    assert bad.status_code == 422
    assert httpx.post(url + "/orchestrator/trading-state",
                      json={"state": "ACTIVE"}).status_code == 401
