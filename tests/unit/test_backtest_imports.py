"""A backtest is a whole process: the cockpit (FastAPI, pydantic) never rides along."""

from __future__ import annotations

import subprocess

from tests.conftest import PYTHON, subprocess_env


def test_a_backtest_imports_no_pydantic_and_no_web_framework() -> None:
    code = (
        "import sys\n"
        "from decimal import Decimal\n"
        "from crypto_ai_bot.adapters.feeds import SyntheticMarket\n"
        "from crypto_ai_bot.bootstrap import run_backtest\n"
        "m = SyntheticMarket(7, Decimal(100), 0, 300_000)\n"
        "result = run_backtest([m.next_candle() for _ in range(600)])\n"
        "assert result.trades, 'no trade: the run proved nothing'\n"
        "found = sorted(k for k in sys.modules if k.split('.')[0] in\n"
        "               ('pydantic', 'pydantic_settings', 'fastapi', 'starlette'))\n"
        "assert not found, found\n"
    )
    r = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True,
                       env=subprocess_env(LOG_LEVEL="WARNING"), timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
