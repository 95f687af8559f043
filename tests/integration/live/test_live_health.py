"""What /health and /ready say of a live broker (issue 11 C, E7): wrong keys cannot trade,
failing calls and an open circuit breaker are `degraded`, a stopped orchestrator and a dead
watchdog are said. The real app over the real ccxt client against the Gate emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import free_port, subprocess_env

from cab_exchange_sim.testing import SimServer
from crypto_ai_bot.api.server import create_app
from crypto_ai_bot.application.dead_mans_switch import Watchdog
from crypto_ai_bot.bootstrap import Container

from .conftest import KEY, SECRET, SYMBOL, ContainerFactory

TOKEN = "live-health-token"


@asynccontextmanager
async def client(c: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=c)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot"
    ) as http:
        yield http


@pytest.fixture
def bot_with_keys(sim: SimServer, tmp_path: Path) -> Iterator[Any]:
    """Start the real server (uvicorn) in live mode on the emulator with the keys given."""
    import subprocess
    import sys

    procs: list[subprocess.Popen[str]] = []

    def start(key: str, secret: str) -> str:
        port = free_port()
        env = subprocess_env(
            MODE="live", EXCHANGE_API_URL=sim.base_url, API_KEY=key, API_SECRET=secret,
            API_TOKEN=TOKEN, DB_PATH=str(tmp_path / f"bot-{port}.sqlite3"), SYMBOL=SYMBOL,
            AUTOSTART="0", EXCHANGE_COUNTDOWN_SEC="0", HTTP_TIMEOUT_MS="3000",
        )
        log = (tmp_path / f"server-{port}.log").open("w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--host",
             "127.0.0.1", "--port", str(port)], cwd=tmp_path, env=env, stdout=log,
            stderr=subprocess.STDOUT, text=True))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/health", timeout=1)
                return url
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not answer")

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


@pytest.mark.parametrize(("key", "secret", "code"), [
    ("wrong-key", SECRET, "INVALID_KEY"), (KEY, "wrong-secret", "INVALID_SIGNATURE"),
])
def test_wrong_keys_make_ready_503_and_health_say_cannot_trade(
    bot_with_keys: Any, key: str, secret: str, code: str
) -> None:
    url = bot_with_keys(key, secret)
    r = httpx.get(url + "/ready")
    assert r.status_code == 503, r.text
    assert any("broker" in x for x in r.json()["reasons"]), r.json()
    h = httpx.get(url + "/health").json()
    assert h["status"] == "down" and h["broker"]["can_trade"] is False, h
    assert code in h["broker"]["error"] and any("broker" in x for x in h["reasons"])
    start = httpx.post(url + "/orchestrator/start",
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert start.status_code == 503 and start.json()["running"] is False


def test_right_keys_are_ready(bot_with_keys: Any) -> None:
    url = bot_with_keys(KEY, SECRET)
    assert httpx.get(url + "/ready").status_code == 200
    h = httpx.get(url + "/health").json()
    assert h["broker"]["can_trade"] is True and h["status"] == "ok" and h["reasons"] == [], h
    assert h["notes"] == ["orchestrator: stopped (POST /orchestrator/start)"]  # not started yet
    assert h["orchestrator"]["running"] is False
    assert httpx.get(url + "/ready").json()["orchestrator_running"] is False


async def test_keys_revoked_while_running_stop_readiness(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container(api_token=TOKEN)
    async with client(c) as http:
        assert (await http.get("/ready")).status_code == 200
        sim.sim.api_key = "rotated"  # the operator revoked our key at the exchange
        try:
            with pytest.raises(Exception, match=r"INVALID_KEY|Invalid key"):
                await c.broker.fetch_balance()
            r = await http.get("/ready")
            assert r.status_code == 503 and "refuses the keys" in str(r.json()["reasons"])
            assert (await http.get("/health")).json()["status"] == "down"
        finally:
            sim.sim.api_key = KEY
        await c.broker.fetch_balance()
        assert (await http.get("/ready")).status_code == 200


async def test_failing_calls_then_open_breaker_are_degraded(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    c = await make_container(api_token=TOKEN)
    await c.orchestrator.start()
    async with client(c) as http:
        h = (await http.get("/health")).json()
        assert h["status"] == "ok", h
        sim.set_faults(error_rate=1)  # the exchange answers 100 % 5xx
        with pytest.raises(Exception):  # noqa: B017 (the kind is the broker's business)
            await c.broker.fetch_balance()
        h = (await http.get("/health")).json()
        assert h["status"] == "degraded" and h["broker"]["failing_calls"] >= 1, h
        assert any("calls failed" in x for x in h["reasons"]), h
        for _ in range(3):  # enough failures in a row to open the breaker
            with pytest.raises(Exception):  # noqa: B017
                await c.broker.fetch_balance()
        h = (await http.get("/health")).json()
        assert h["broker"]["circuit"] == "open" and h["status"] == "degraded", h
        assert "broker: circuit breaker open" in h["reasons"]
        sim.clear_faults()
    await c.orchestrator.stop()


async def test_recovered_broker_is_healthy_again(
    sim: SimServer, make_container: ContainerFactory
) -> None:
    """No loops run here: only this test's own calls meet the faults, so the circuit breaker
    never opens (its cool-off is 10 s) and what /health says is the broker's own account."""
    c = await make_container(api_token=TOKEN)
    async with client(c) as http:
        sim.set_faults(error_rate=1)
        with pytest.raises(Exception):  # noqa: B017
            await c.broker.fetch_ticker(SYMBOL)
        h = (await http.get("/health")).json()
        assert h["status"] == "degraded" and h["broker"]["failing_calls"] >= 1, h
        assert h["broker"]["circuit"] == "closed", h
        assert any(r.startswith("broker: the last") for r in h["reasons"]), h
        sim.clear_faults()
        await c.broker.fetch_ticker(SYMBOL)
        h = (await http.get("/health")).json()
        assert h["broker"]["failing_calls"] == 0 and h["broker"]["last_error"] is None, h
        assert h["status"] == "ok" and h["reasons"] == [], h
        assert h["notes"] == ["orchestrator: stopped (POST /orchestrator/start)"], h


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_dead_watchdog_is_down(make_container: ContainerFactory) -> None:
    """WATCHDOG_INTERVAL_SEC=inf killed the thread (OverflowError) while /health said ok."""
    c = await make_container(api_token=TOKEN)
    c.orchestrator.watchdog = Watchdog(float("inf"), c.orchestrator.dms.check)
    await c.orchestrator.start()
    async with client(c) as http:
        for _ in range(50):
            if not c.orchestrator.watchdog.alive:
                break
            await asyncio.sleep(0.02)
        h = (await http.get("/health")).json()
        assert h["status"] == "down" and h["orchestrator"]["watchdog_alive"] is False, h
        assert any("watchdog" in x for x in h["reasons"])
    await c.orchestrator.stop()
