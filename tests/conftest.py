"""Shared fixtures: paths, settings on a temporary database, subprocess environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
BTC_5M_FEATHER = SHARED_DATA / "ohlcv" / "binance" / "BTC_USDT-5m.feather"
BTC_5M_CSV = SHARED_DATA / "ohlcv" / "BTC_USDT-5m.csv.gz"


def need_shared_data(path: Path = BTC_5M_FEATHER) -> Path:
    """Skip the calling test, with its reason, when the shared candle data is absent."""
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Any]:
    """Settings on a temporary DB, no .env, with overrides as keyword arguments."""
    from crypto_ai_bot.config import load_settings

    def make(**overrides: Any) -> Any:
        overrides.setdefault("db_path", str(tmp_path / "bot.sqlite3"))
        return load_settings(None, **overrides)

    return make


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: the package importable, no bot variables leaking."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODE", "API_", "DB_"))}
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


PYTHON = sys.executable


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])



def wait_ready(proc: subprocess.Popen[Any], url: str, log_path: Path, timeout_s: float,
               what: str) -> None:
    """Until `url`/ready answers 200; AssertionError with the log's tail if `proc` exits first
    or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready: {log_path.read_text()[-2000:]}")
        time.sleep(0.1)

@contextmanager
def running_server(cwd: Path, env: dict[str, str], timeout_s: float = 30) -> Iterator[str]:
    """The real server (uvicorn in its own process) on a free port; yields its base URL.

    Its output goes to `cwd/server.log`, for tests that check what it logged.
    """
    port = free_port()
    log_path = cwd / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url, log_path, timeout_s, "server")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
