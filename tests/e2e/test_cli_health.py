"""cab-health in a subprocess against a real uvicorn server, and against a closed port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import REPO, free_port, running_server


def env_for(cwd: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
            "LANG": "C.UTF-8", "DB_PATH": str(cwd / "bot.sqlite3"), "PRICE_FEED": "fixed",
            **extra}


def health(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crypto_ai_bot.cli.health_monitor", *args],
        cwd=cwd, env=env_for(cwd), capture_output=True, text=True, timeout=60,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server (uvicorn, its own process) on a free port and a tmp database."""
    cwd = tmp_path_factory.mktemp("server")
    with running_server(cwd, env_for(cwd, AUTOSTART="1")) as url:
        yield url


def test_oneshot_healthy_server_exits_0(server: str, tmp_path: Path) -> None:
    r = health(tmp_path, "--oneshot", "--url", server + "/health")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("OK http=200 status=ok")


def test_loop_prints_one_line_per_check(server: str, tmp_path: Path) -> None:
    r = health(tmp_path, "--url", server + "/health", "--interval", "0.1", "--count", "3")
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and all("OK http=200 status=ok" in line for line in lines)


def test_non_200_is_unhealthy_exit_1(server: str, tmp_path: Path) -> None:
    r = health(tmp_path, "--oneshot", "--url", server + "/no-such-endpoint")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "UNHEALTHY http=404" in r.stdout


def test_closed_port_is_unreachable_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/health"
    r = health(tmp_path, "--oneshot", "--url", url, "--timeout", "2")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "UNREACHABLE" in r.stdout
    assert "Traceback" not in r.stderr
