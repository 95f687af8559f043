"""Schemathesis against the real server's /openapi.json (uvicorn in a subprocess): every check
it knows, a fixed seed and a bounded number of examples; 0 server errors, 0 schema
violations (issue 11). A failure prints schemathesis's report, with the case to replay."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
from tests.conftest import PYTHON, running_server, subprocess_env

TOKEN = "fuzz-token-7"
SEED = 20261201
EXAMPLES = 30  # per operation: about 140 requests, a few seconds


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    cli = shutil.which("schemathesis", path=str(Path(PYTHON).parent))
    assert cli, "schemathesis is a dev extra: pip install -e '.[dev]'"
    env = subprocess_env(API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "bot.sqlite3"), AUTOSTART="1",
                         EVAL_INTERVAL_SEC="0.5", RISK_COOLDOWN_SEC="0")
    with running_server(tmp_path, env) as url:
        out = subprocess.run(
            [cli, "run", url + "/openapi.json", "-H", f"Authorization: Bearer {TOKEN}",
             "--checks", "all", "--seed", str(SEED), "--max-examples", str(EXAMPLES),
             "--generation-database", "none", "--workers", "1", "--no-color",
             "--request-timeout", "10"],
            cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300,
        )
        health = httpx.get(url + "/health").json()
    report = out.stdout[-6000:]
    assert out.returncode == 0, report
    assert "No issues found" in out.stdout, report
    assert "7 selected / 7 total" in out.stdout, report  # every operation was exercised
    assert health["db"]["ok"] and health["broker"]["ready"], health  # and the bot survived
