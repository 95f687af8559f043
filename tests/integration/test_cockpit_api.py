"""The cockpit's API (/api/v1) over real HTTP: uvicorn on a loopback port, in this test's event
loop, over a paper bot that traded on the synthetic market (a real SQLite file, the paper
venue, the manual clock the trades were made on)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.conftest import PYTHON, free_port, subprocess_env

from crypto_ai_bot.api import v1
from crypto_ai_bot.api.server import create_app
from crypto_ai_bot.application.cockpit.recent import RecentCandles
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.config import load_settings
from crypto_ai_bot.domain.model import Candle, Side
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000
TOKEN = "cockpit-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = (f"API_TOKEN={TOKEN}\nAPI_KEY=key-never-shown\nAUTOSTART=0\nRISK_COOLDOWN_SEC=0\n"
       "EXITS_TRAILING_PCT=1\nINSTANCE_LOCK=off\n")


@contextlib.asynccontextmanager
async def serving(c: Container) -> AsyncIterator[str]:
    """The real app over the container, on a free loopback port, in this event loop."""
    config = uvicorn.Config(create_app(container=c), host="127.0.0.1", port=free_port(),
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task


def _env_file(tmp_path: Path, extra: str = "") -> Path:
    env = tmp_path / ".env"
    env.write_text(ENV + f"DB_PATH={tmp_path / 'bot.sqlite3'}\n" + extra)
    return env


async def _traded(tmp_path: Path, steps: int = 300) -> tuple[Container, ManualClock]:
    """A paper bot that traded `steps` candles of the synthetic market, settings from .env."""
    env = _env_file(tmp_path)
    clock = ManualClock(T0)
    c = build_container(load_settings(str(env)), clock=clock,
                        reload_settings=lambda: load_settings(str(env)))
    await c.start()
    p = c.pipelines["BTC/USDT"]
    for _ in range(steps):
        await p.evaluate()
        await p.protect()
        clock.advance(61_000)  # a new idempotency bucket each step
    return c, clock


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[tuple[Container, ManualClock, str]]:
    c, clock = await _traded(tmp_path)
    async with serving(c) as url:
        yield c, clock, url
    await c.close()


async def test_reads_answer_what_the_bot_did(
    bot: tuple[Container, ManualClock, str],
) -> None:
    c, clock, url = bot
    fills = c.repos.trades.between(0, clock.now_ms() + 1)
    sells = [f for f in fills if f.side is Side.SELL]
    assert len(sells) >= 3, "the synthetic market should have made a few round trips"
    async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
        # an open position, entered by the operator through risk
        entered = (await http.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})).json()
        assert entered["ok"] and entered["sent"], entered
        clock.advance(5_000)

        status = (await http.get("/api/v1/status")).json()
        assert status["mode"] == "paper" and status["label"] == "[PAPER]"
        assert status["trading_state"] == "ACTIVE" and status["quote"] == "USDT"
        (sym,) = status["symbols"]
        pos = c.repos.positions.get("BTC/USDT")
        assert sym["in_position"] and Decimal(sym["amount"]) == pos.base_amount
        assert Decimal(sym["entry_price"]) == pos.entry_price
        price = c.board.get("BTC/USDT").bid  # type: ignore[union-attr]
        assert Decimal(sym["price"]) == price
        assert Decimal(sym["unrealised_pnl_quote"]) == price * pos.base_amount - pos.cost_basis
        level = c.pipelines["BTC/USDT"].stop_level()
        assert level is not None and Decimal(sym["stop_price"]) == level.price
        assert sym["stop_reason"] == level.reason.value
        assert sym["exchange_stop_resting"] is None  # the paper venue has no exchange stops
        assert sym["trade_age_ms"] == 5_000 and sym["opened_ms"] == pos.opened_ms
        assert sym["price_precision"] == 2 and sym["amount_precision"] == 8

        trades = (await http.get("/api/v1/trades", params={"limit": 2})).json()
        assert trades["total"] == len(sells) and len(trades["items"]) == 2
        newest = trades["items"][0]
        assert newest["exit_ms"] >= trades["items"][1]["exit_ms"]  # newest first
        last_sell = sells[-1]
        assert newest["exit_ms"] == last_sell.ts_ms
        assert Decimal(newest["pnl_quote"]) == last_sell.realized_pnl
        assert Decimal(newest["exit_price"]) == last_sell.price
        assert newest["exit_reason"] in ("signal", "hard_stop", "trailing_stop")
        assert newest["duration_ms"] == newest["exit_ms"] - newest["entry_ms"] > 0
        entry = c.repos.orders.get(newest["id"])
        assert entry is not None and entry.side is Side.BUY
        page2 = (await http.get("/api/v1/trades", params={"limit": 2, "offset": 2})).json()
        assert page2["total"] == trades["total"]
        assert {t["id"] for t in page2["items"]}.isdisjoint(t["id"] for t in trades["items"])

        orders = (await http.get("/api/v1/orders", params={"limit": 3})).json()["items"]
        assert orders[0]["client_order_id"] == entered["client_order_id"]
        assert orders[0]["intent"] == "entry" and orders[0]["status"] == "FILLED"
        history = [e["event"] for e in orders[0]["events"]]
        assert history[0] == "recorded" and history[-1] == "filled", history
        assert orders[0]["created_ms"] >= orders[1]["created_ms"]

        balance = (await http.get("/api/v1/balance")).json()
        cur = {b["currency"]: b for b in balance["currencies"]}
        assert Decimal(cur["BTC"]["total"]) == c.broker.balance("BTC")  # type: ignore[attr-defined]
        assert Decimal(cur["USDT"]["total"]) == c.broker.balance("USDT")  # type: ignore[attr-defined]
        assert Decimal(cur["BTC"]["value_quote"]) == Decimal(cur["BTC"]["total"]) * price
        assert Decimal(balance["equity_quote"]) == (Decimal(cur["USDT"]["total"])
                                                    + Decimal(cur["BTC"]["value_quote"]))

        profit = (await http.get("/api/v1/profit")).json()
        realised = sum((f.realized_pnl for f in fills), Decimal(0))
        assert Decimal(profit["realised_quote"]) == realised
        assert Decimal(profit["unrealised_quote"]) == Decimal(sym["unrealised_pnl_quote"])
        assert profit["trades"] == len(sells) == profit["wins"] + profit["losses"]
        assert Decimal(profit["best"]["pnl_quote"]) == max(s.realized_pnl for s in sells)
        assert Decimal(profit["worst"]["pnl_quote"]) == min(s.realized_pnl for s in sells)
        assert profit["by_symbol"][0]["symbol"] == "BTC/USDT"

        perf = (await http.get("/api/v1/performance", params={"period": "day", "n": 3})).json()
        assert [i["label"] for i in perf["items"]] == ["2025-12-30", "2025-12-31", "2026-01-01"]
        assert sum(Decimal(i["pnl_quote"]) for i in perf["items"]) == realised
        assert sum(i["trades"] for i in perf["items"]) == len(sells)
        month = (await http.get("/api/v1/performance", params={"period": "month",
                                                                "n": 2})).json()
        assert [i["label"] for i in month["items"]] == ["2025-12", "2026-01"]

        equity = (await http.get("/api/v1/equity")).json()["points"]
        assert Decimal(equity[-1]["equity_quote"]) == Decimal(balance["equity_quote"])
        assert len(equity) == len(sells) + 2  # the start, each exit, now
        cent = Decimal("1E-12")  # the levels carry 28 digits, about 24 of them decimals
        steps = [(Decimal(b["equity_quote"]) - Decimal(a["equity_quote"])).quantize(cent)
                 for a, b in itertools.pairwise(equity[1:-1])]
        assert steps == [s.realized_pnl.quantize(cent) for s in sells[1:]]

        chart = (await http.get("/api/v1/candles", params={"symbol": "BTC/USDT",
                                                            "limit": 1000})).json()
        evaluated = c.pipelines["BTC/USDT"].stats.candles  # every one the bot evaluated
        assert chart["timeframe"] == "5m" and len(chart["candles"]) == evaluated > 300
        times = [k["ts_ms"] for k in chart["candles"]]
        assert times == sorted(times) and times[1] - times[0] == 300_000
        assert set(chart["indicators"]) == {"ema12", "ema26"}
        assert [p["ts_ms"] for p in chart["indicators"]["ema26"]] == times
        sides = [m["side"] for m in chart["markers"]]
        assert sides.count("sell") == len(sells) and sides.count("buy") == len(sells) + 1
        assert {m["kind"] for m in chart["markers"] if m["side"] == "sell"} <= {
            "signal", "hard_stop", "trailing_stop"}
        assert all(m["ts_ms"] in set(times) for m in chart["markers"])
        assert Decimal(chart["stop_price"]) == level.price
        unknown = await http.get("/api/v1/candles", params={"symbol": "DOGE/USDT"})
        assert unknown.status_code == 404 and "BTC/USDT" in unknown.json()["detail"]

        events = (await http.get("/api/v1/events", params={"limit": 5})).json()["items"]
        ids = [e["id"] for e in events]
        assert ids == sorted(ids, reverse=True) and len(ids) == 5
        assert ids[0] == c.repos.audit.count()
        older = (await http.get("/api/v1/events", params={"limit": 5,
                                                           "before_id": ids[-1]})).json()
        assert [e["id"] for e in older["items"]] == list(range(ids[-1] - 1, ids[-1] - 6, -1))
        filled = (await http.get("/api/v1/events", params={"topic": "order.filled",
                                                            "symbol": "BTC/USDT",
                                                            "limit": 1000})).json()["items"]
        assert len(filled) == len(fills) + 1  # the force-enter's too
        assert {e["topic"] for e in filled} == {"order.filled"}

        cfg = await http.get("/api/v1/config")
        settings = cfg.json()["settings"]
        assert settings["API_TOKEN"] == "***" and settings["API_KEY"] == "***"
        assert settings["API_SECRET"] == "" and settings["MODE"] == "paper"
        assert settings["RISK_COOLDOWN_SEC"] == 0 and settings["FIXED_AMOUNT"] == "100"
        assert TOKEN not in cfg.text and "key-never-shown" not in cfg.text


class _Gate:
    """The paper venue, its answer to sells held until released: an exit stays in flight."""

    def __init__(self, c: Container) -> None:
        self.inner = c.broker.create_order
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self.sells = 0
        c.broker.create_order = self  # type: ignore[method-assign]

    async def __call__(self, request: Any) -> Any:
        if request.side is Side.SELL:
            self.sells += 1
            self.reached.set()
            await self.release.wait()
        return await self.inner(request)


async def test_force_exit_is_written_ahead_and_sends_once(
    bot: tuple[Container, ManualClock, str],
) -> None:
    c, _, url = bot
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) as http:
        assert (await http.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})).json()["ok"]
        gate = _Gate(c)
        first = asyncio.create_task(http.post("/api/v1/force-exit",
                                              json={"symbol": "btc/usdt"}))
        await asyncio.wait_for(gate.reached.wait(), 10)  # recorded, sent, not answered yet
        second = (await http.post("/api/v1/force-exit", json={"symbol": "BTC/USDT"})).json()
        assert second["ok"] is False and second["sent"] is False, second
        assert "already in flight" in second["message"] and "nothing sent" in second["message"]
        gate.release.set()
        answer = (await first).json()
        assert answer["ok"] and answer["sent"] and second["client_order_id"] == \
            answer["client_order_id"], (answer, second)
        assert gate.sells == 1  # one request reached the venue
        exit_order = c.repos.orders.get(answer["client_order_id"])
        assert exit_order is not None and exit_order.reason == "force_exit: operator"
        assert not c.pipelines["BTC/USDT"].in_position()
        again = (await http.post("/api/v1/force-exit", json={"symbol": "BTC/USDT"})).json()
        assert again == {**again, "ok": False, "sent": False}
        assert "no open position" in again["message"] and gate.sells == 1
        newest = (await http.get("/api/v1/trades", params={"limit": 1})).json()["items"][0]
        assert newest["exit_reason"] == "force_exit"
        bad = await http.post("/api/v1/force-exit", json={"symbol": "BTC/USDT", "x": 1})
        assert bad.status_code == 422
        assert (await http.post("/api/v1/force-exit", content=b"{not json")).status_code == 400


async def test_force_enter_goes_through_risk_and_the_state_switches(
    bot: tuple[Container, ManualClock, str],
) -> None:
    c, clock, url = bot
    async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
        r = (await http.post("/api/v1/stop-entries", json={"reason": "news at 14:00"})).json()
        assert r["ok"] and r["trading_state"] == "REDUCING"
        refused = (await http.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})).json()
        assert refused["ok"] is False and refused["sent"] is False
        assert refused["reasons"] == ["trading state is REDUCING: no new entries"], refused
        assert c.repos.audit.count("risk.denied") >= 1
        halted = (await http.post("/api/v1/halt", json={"reason": "maintenance"})).json()
        assert halted["trading_state"] == "HALTED"
        assert (await http.post("/api/v1/halt", content=b"")).status_code == 400
        assert (await http.post("/api/v1/halt", json={"reason": ""})).status_code == 422
        status = (await http.get("/api/v1/status")).json()
        assert status["trading_state"] == "HALTED"
        assert status["trading_reason"].endswith("maintenance")
        resumed = (await http.post("/api/v1/resume")).json()
        assert resumed["ok"] and resumed["trading_state"] == "ACTIVE"
        clock.advance(61_000)
        entered = (await http.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})).json()
        assert entered["ok"] and entered["sent"], entered
        held = (await http.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})).json()
        assert held["ok"] is False and "already in position" in held["message"]
        assert (await http.post("/api/v1/stop")).json()["running"] is False
        started = (await http.post("/api/v1/start")).json()
        assert started["ok"] and started["running"] is True
        stopped = (await http.post("/api/v1/stop")).json()
        assert stopped == {**stopped, "ok": True, "message": "stopped", "running": False}


async def test_reload_applies_limits_and_refuses_what_needs_a_restart(
    bot: tuple[Container, ManualClock, str], tmp_path: Path,
) -> None:
    c, clock, url = bot
    async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
        same = (await http.post("/api/v1/reload")).json()
        assert same["ok"] and same["message"] == "no setting changed"
        for path in ("/api/v1/force-enter", "/api/v1/force-exit"):  # two orders this hour
            assert (await http.post(path, json={"symbol": "BTC/USDT"})).json()["sent"]
        _env_file(tmp_path, "RISK_MAX_ORDERS_PER_HOUR=1\nEXITS_HARD_STOP_PCT=3\n")
        r = (await http.post("/api/v1/reload")).json()
        assert r["ok"], r
        assert r["changed"] == {"EXITS_HARD_STOP_PCT": "3", "RISK_MAX_ORDERS_PER_HOUR": "1"}
        settings = (await http.get("/api/v1/config")).json()["settings"]
        assert settings["RISK_MAX_ORDERS_PER_HOUR"] == 1
        assert settings["EXITS_HARD_STOP_PCT"] == "3"
        clock.advance(61_000)
        refused = (await http.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})).json()
        assert refused["ok"] is False
        assert "2 orders in the last hour (limit 1)" in refused["reasons"], refused
        _env_file(tmp_path, "RISK_MAX_ORDERS_PER_HOUR=5\nEVAL_INTERVAL_SEC=7\nTIMEFRAME=1h\n")
        no = (await http.post("/api/v1/reload")).json()
        assert no["ok"] is False and no["refused"] == ["EVAL_INTERVAL_SEC", "TIMEFRAME"]
        assert "EVAL_INTERVAL_SEC, TIMEFRAME" in no["message"] and "restart" in no["message"]
        settings = (await http.get("/api/v1/config")).json()["settings"]
        assert settings["RISK_MAX_ORDERS_PER_HOUR"] == 1  # all or nothing
        assert c.control is not None and c.settings.eval_interval_sec == 2.0
        _env_file(tmp_path, "RISK_MAX_ORDERS_PER_HOUR=lots\n")
        broken = (await http.post("/api/v1/reload")).json()
        assert broken["ok"] is False and "RISK_MAX_ORDERS_PER_HOUR" in broken["message"]


async def test_reload_adds_and_drops_symbols_while_the_loops_run(
    bot: tuple[Container, ManualClock, str], tmp_path: Path,
) -> None:
    """SYMBOLS changes without a restart: the loops stop, the pipelines change, the loops
    start again. A symbol is dropped only once it holds nothing; a symbol in another quote
    currency is refused; a refusal changes nothing."""
    c, _, url = bot
    async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
        assert (await http.post("/api/v1/start")).json()["running"]
        _env_file(tmp_path, "SYMBOLS=BTC/USDT,ETH/USDT\n")
        added = (await http.post("/api/v1/reload")).json()
        assert added["ok"] and added["changed"] == {"SYMBOLS": "BTC/USDT,ETH/USDT"}, added
        assert "added ETH/USDT" in added["message"], added
        status = (await http.get("/api/v1/status")).json()
        assert [s["symbol"] for s in status["symbols"]] == ["BTC/USDT", "ETH/USDT"]
        assert status["running"] and "evaluate:ETH/USDT" in c.heartbeats.snapshot()
        health = (await http.get("/health")).json()
        assert health["symbols"] == ["BTC/USDT", "ETH/USDT"], health
        entered = (await http.post("/api/v1/force-enter", json={"symbol": "ETH/USDT"})).json()
        assert entered["sent"], entered

        _env_file(tmp_path, "SYMBOLS=BTC/USDT\n")
        held = (await http.post("/api/v1/reload")).json()
        assert held["ok"] is False and "ETH/USDT holds a position" in held["message"], held
        assert list(c.pipelines) == ["BTC/USDT", "ETH/USDT"]  # nothing changed
        settings = (await http.get("/api/v1/config")).json()["settings"]
        assert settings["SYMBOLS"] == "BTC/USDT,ETH/USDT"
        exited = (await http.post("/api/v1/force-exit", json={"symbol": "ETH/USDT"})).json()
        assert exited["sent"], exited
        dropped = (await http.post("/api/v1/reload")).json()
        assert dropped["ok"] and "dropped ETH/USDT" in dropped["message"], dropped
        assert list(c.pipelines) == ["BTC/USDT"] and c.orchestrator.running
        assert "evaluate:ETH/USDT" not in c.heartbeats.snapshot()  # no silent loop left

        _env_file(tmp_path, "SYMBOLS=BTC/USDT,ETH/EUR\n")
        other = (await http.post("/api/v1/reload")).json()
        assert other["ok"] is False and "ETH/EUR: not in USDT" in other["message"], other
        assert list(c.pipelines) == ["BTC/USDT"]


async def _frames(lines: AsyncIterator[str], want: int) -> list[dict[str, Any]]:
    """Server-sent events as they arrive, until `want` of them (comments kept apart)."""
    out: list[dict[str, Any]] = []
    frame: dict[str, Any] = {}
    async for line in lines:
        if line.startswith(":"):
            out.append({"comment": line[1:].strip()})
        elif line.startswith(("id: ", "event: ", "data: ")):
            key, _, value = line.partition(": ")
            frame[key] = value
        elif not line and frame:
            out.append(frame)
            frame = {}
        if sum(1 for f in out if "data" in f) >= want:
            return out
    return out


async def test_stream_delivers_the_bus_events_in_order(
    bot: tuple[Container, ManualClock, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    c, _, url = bot
    monkeypatch.setattr(v1, "HEARTBEAT_S", 0.2)
    first_new = c.repos.audit.count() + 1
    async with (httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) as http,
                http.stream("GET", "/api/v1/stream") as response):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert await anext(lines) == ": connected"
        await asyncio.sleep(0.5)  # a heartbeat or two while nothing happens

        async def act() -> None:
            async with httpx.AsyncClient(base_url=url, headers=AUTH) as other:
                await other.post("/api/v1/halt", json={"reason": "drill"})
                await other.post("/api/v1/resume", json={"reason": "drill over"})
                await other.post("/api/v1/force-exit", json={"symbol": "BTC/USDT"})
                await other.post("/api/v1/force-enter", json={"symbol": "BTC/USDT"})

        doer = asyncio.create_task(act())
        got = await asyncio.wait_for(_frames(lines, 4), 20)
        await doer
        assert c.stream.clients == 1
    for _ in range(100):  # the client went away: the server lets its queue go
        if c.stream.clients == 0:
            break
        await asyncio.sleep(0.05)
    assert c.stream.clients == 0
    assert {"comment": "ping"} in got
    events = [f for f in got if "data" in f]
    data = [json.loads(f["data"]) for f in events]
    assert [int(f["id"]) for f in events] == sorted(int(f["id"]) for f in events)
    assert [f["event"] for f in events] == [d["topic"] for d in data]
    # the same events, in the same order, as the audit recorded them
    audit = c.repos.audit.query(1000)
    recorded = [a for a in reversed(audit) if a.id >= first_new][:len(data)]
    assert [(d["topic"], d["payload"]) for d in data] == \
        [(a.topic, a.payload) for a in recorded]
    assert data[0]["topic"] == "trading_state.changed" and data[0]["payload"]["state"] == \
        "HALTED"
    assert data[1]["payload"] == {"state": "ACTIVE", "reason": "operator: drill over"}


async def _all_paths(url: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=url) as http:
        spec = (await http.get("/openapi.json")).json()
    return [(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if path.startswith("/api/v1/")]


async def test_nothing_answers_without_the_token(
    bot: tuple[Container, ManualClock, str],
) -> None:
    c, _, url = bot
    paths = await _all_paths(url)
    assert len(paths) == 19
    sent_before = c.repos.orders.count()
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for method, path in paths:
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}):
                r = await http.request(method, path, headers=headers,
                                       json={"symbol": "BTC/USDT", "reason": "x"})
                assert r.status_code == 401, (method, path, headers, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
        big = await http.post("/api/v1/halt", headers=AUTH,
                              content=b'{"reason": "' + b"x" * 5000 + b'"}')
        assert big.status_code == 413 and "4096 bytes" in big.json()["detail"]
    assert c.repos.orders.count() == sent_before
    assert c.states.current.value == "ACTIVE"


async def test_no_token_set_closes_the_api(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"DB_PATH={tmp_path / 'bot.sqlite3'}\nAUTOSTART=0\nINSTANCE_LOCK=off\n")
    c = build_container(load_settings(str(env)))
    async with serving(c) as url, httpx.AsyncClient(base_url=url) as http:
        for method, path in await _all_paths(url):
            for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer x"}):
                r = await http.request(method, path, headers=headers)
                assert r.status_code == 401, (method, path, r.text)
                assert "API_TOKEN is not set" in r.json()["detail"]
        assert (await http.get("/health")).status_code == 200  # the open paths stay open
    await c.close()



def test_a_server_with_streams_open_stops_on_sigterm(tmp_path: Path) -> None:
    """uvicorn waits for every open response before it stops: the streams end first, with a
    word to reconnect, so that a dashboard left open does not hold the server up."""
    port = free_port()
    env = subprocess_env(API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "bot.sqlite3"),
                         AUTOSTART="0")
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--host", "127.0.0.1",
             "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        with httpx.stream("GET", url + "/api/v1/stream", headers=AUTH, timeout=30) as r:
            lines = r.iter_lines()
            assert next(lines) == ": connected"
            proc.send_signal(signal.SIGTERM)
            rest = list(lines)
        assert ": end of stream: reconnect" in rest, rest
        # uvicorn raises the signal again once it has shut down: SIGTERM's own exit status
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = (tmp_path / "server.log").read_text()
    assert "Application shutdown complete" in text, text[-2000:]  # gracefully, lifespan and all
    assert TOKEN not in text


async def test_candles_merge_what_is_stored_with_what_the_pipeline_holds(
    bot: tuple[Container, ManualClock, str],
) -> None:
    c, _, url = bot
    assert isinstance(c.feed, RecentCandles)  # what the pipelines poll, kept in memory
    held = [cdl for _, cdl in c.feed.of("BTC/USDT")]
    first = held[0].ts_ms
    older = [Candle(first - (20 - i) * 300_000, *(Decimal(100 + i),) * 4, Decimal(1))
             for i in range(20)]
    c.repos.market_data.upsert("BTC/USDT", "5m@synthetic", older + held[:5])  # overlaps: one
    hourly = [Candle(first + i * 3_600_000, *(Decimal(7),) * 4, Decimal(2)) for i in range(10)]
    c.repos.market_data.upsert("BTC/USDT", "1h", hourly)
    async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
        chart = (await http.get("/api/v1/candles", params={"symbol": "BTC/USDT",
                                                            "limit": 1000})).json()
        times = [k["ts_ms"] for k in chart["candles"]]
        assert times == [k.ts_ms for k in older] + [k.ts_ms for k in held]
        assert Decimal(chart["candles"][0]["close"]) == Decimal(100)
        assert len(chart["indicators"]["ema12"]) == len(times)
        h = (await http.get("/api/v1/candles", params={"symbol": "BTC/USDT",
                                                        "timeframe": "1h"})).json()
        assert [k["ts_ms"] for k in h["candles"]] == [k.ts_ms for k in hourly]
        assert h["timeframe"] == "1h" and h["indicators"] == {}  # the strategy runs on 5m
        bad = await http.get("/api/v1/candles", params={"symbol": "BTC/USDT",
                                                         "timeframe": "7x"})
        assert bad.status_code == 404 and "7x" in bad.json()["detail"]


async def test_an_order_the_broker_cannot_start_sends_nothing_and_says_why(
    tmp_path: Path,
) -> None:
    """Markets not loaded (the broker not ready): the operator's exit is refused before any
    order is recorded, with the broker's words; nothing is written ahead."""
    c = build_container(load_settings(str(_env_file(tmp_path))))  # not started
    pos = c.repos.positions.get("BTC/USDT")
    pos.base_amount, pos.cost_basis, pos.entry_price = Decimal("0.01"), Decimal(600), \
        Decimal(60000)
    c.repos.positions.save(pos)
    out = await c.control.force_exit("BTC/USDT")
    assert out.ok is False and out.sent is False and "nothing sent" in out.message, out
    assert c.repos.orders.count() == 0
    started = await c.control.start()
    assert started.ok is False and "broker not ready" in started.message
    (row,) = c.cockpit.status().symbols
    assert row.in_position and row.price_precision is None and row.price is None
    c.db.close()
