"""The idempotency promise, for real: a process SIGKILLed right after it recorded an order,
restarted inside the same bucket, sends no second order; reconcile settles the first."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest
from tests.conftest import PYTHON, subprocess_env

T0 = 1_767_225_600_000  # bucket start (60 s buckets)

CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from crypto_ai_bot.bootstrap import build_container
    from crypto_ai_bot.config import load_settings
    from crypto_ai_bot.ports.clock import ManualClock

    db, now, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    settings = load_settings(None, db_path=db, price_feed="fixed", fixed_price="100",
                             fixed_amount="50", risk_cooldown_sec=0, autostart=False)

    class Hang:
        # create_order reaches the paper exchange ('after') or not ('before'), then hangs
        def __init__(self, inner):
            self._inner = inner
        def __getattr__(self, name):
            return getattr(self._inner, name)
        async def create_order(self, request):
            if mode == "after":
                await self._inner.create_order(request)
            print("RECORDED", request.client_order_id, flush=True)
            await asyncio.sleep(3600)

    async def main():
        c = build_container(settings, clock=ManualClock(now))
        await c.start()
        await c.feed.ticker("BTC/USDT")
        if mode != "restart":
            c.executor._broker = Hang(c.broker)
        else:
            report = await c.orchestrator.reconcile_once(startup=True)
            print("RECONCILED", report.ok, flush=True)
        result = await c.executor.enter("BTC/USDT", "ema cross")
        print("RESULT", result.outcome, result.client_order_id, flush=True)
        await c.close()

    asyncio.run(main())
    """
)


def _run_until_recorded(script: Path, db: Path, now: int, mode: str) -> str:
    proc = subprocess.Popen(
        [PYTHON, str(script), str(db), str(now), mode], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=subprocess_env(LOG_LEVEL="WARNING"),
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("RECORDED"):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                assert proc.returncode == -signal.SIGKILL
                return line.split()[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"child never recorded an order: {err}")


@pytest.mark.parametrize("mode", ["before", "after"])
def test_sigkill_after_recording_sends_no_second_order(tmp_path: Path, mode: str) -> None:
    import sqlite3

    script = tmp_path / "child.py"
    script.write_text(CHILD)
    db = tmp_path / "bot.sqlite3"
    cid = _run_until_recorded(script, db, T0 + 1_000, mode)

    conn = sqlite3.connect(db)
    (status,) = conn.execute("SELECT status FROM orders WHERE client_order_id=?", (cid,)).fetchone()
    assert status == "PENDING_SUBMIT"  # recorded, committed, before the request left
    conn.close()

    out = subprocess.run(
        [PYTHON, str(script), str(db), str(T0 + 30_000), "restart"], capture_output=True,
        text=True, env=subprocess_env(LOG_LEVEL="WARNING"), timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert f"RESULT duplicate {cid}" in out.stdout

    conn = sqlite3.connect(db)
    sent = conn.execute("SELECT COUNT(*) FROM paper_orders").fetchone()[0]
    orders = conn.execute("SELECT client_order_id, status FROM orders").fetchall()
    base = conn.execute("SELECT base_amount FROM positions WHERE symbol='BTC/USDT'").fetchone()
    paper_btc = conn.execute("SELECT free FROM paper_balances WHERE currency='BTC'").fetchone()
    conn.close()
    assert len(orders) == 1
    if mode == "before":
        assert sent == 0
        assert orders[0][1] == "CANCELED"  # never reached the exchange: settled as such
    else:
        assert sent == 1  # exactly one order on the exchange
        assert orders[0][1] == "FILLED"  # found by its client id at start-up reconcile
        assert base is not None and paper_btc is not None and base[0] == paper_btc[0]
