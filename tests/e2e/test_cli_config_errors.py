"""Every cab-* command: a bad environment value exits 2 with the variable named, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

COMMANDS = [
    ("crypto_ai_bot.cli.maintenance", ["list"]),
    ("crypto_ai_bot.cli.reconcile", []),
    ("crypto_ai_bot.cli.health_monitor", ["--oneshot", "--url", "http://127.0.0.1:9/health"]),
    ("crypto_ai_bot.cli.performance", []),
    ("crypto_ai_bot.cli.smoke", []),
    ("crypto_ai_bot.cli.e2e_smoke", []),
]


@pytest.mark.parametrize(("module", "args"), COMMANDS, ids=[m for m, _ in COMMANDS])
@pytest.mark.parametrize(("var", "value"), [("RISK_COOLDOWN_SEC", "abc"), ("MODE", "moon")])
def test_bad_setting_exits_2_naming_it(
    tmp_path: Path, module: str, args: list[str], var: str, value: str
) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
           "LANG": "C.UTF-8", "DB_PATH": str(tmp_path / "bot.sqlite3"), var: value}
    r = subprocess.run([sys.executable, "-m", module, *args], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith(f"config error: {var}:"), r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "bot.sqlite3").exists()


def test_bad_value_in_dotenv_is_reported_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RISK_COOLDOWN_SEC=abc\n")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
           "LANG": "C.UTF-8"}
    r = subprocess.run([sys.executable, "-m", "crypto_ai_bot.cli.performance"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "RISK_COOLDOWN_SEC" in r.stderr
