"""cab-smoke in a subprocess: both entry points exit 0 with a one-line verdict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["crypto_ai_bot.cli.smoke", "crypto_ai_bot.cli.e2e_smoke"])
def test_smoke_passes(tmp_path: Path, module: str) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
           "LANG": "C.UTF-8", "DB_PATH": str(tmp_path / "must-not-be-used.sqlite3"),
           "MODE": "live", "API_KEY": "k", "API_SECRET": "s"}  # the smoke runs paper anyway
    r = subprocess.run([sys.executable, "-m", module], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smoke ok: paper BTC/USDT"), r.stdout
    assert "buy+exit filled" in lines[0] and "/health ok" in lines[0]
    assert not (tmp_path / "must-not-be-used.sqlite3").exists()
