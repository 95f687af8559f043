"""Shared fixtures: paths, settings on a temporary database, subprocess environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    from crypto_ai_bot.core.settings import load_settings

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
