"""The webhook notifier wired by the bootstrap, over real HTTP and a real SQLite file.

In process: what a paper round trip sends (entry, exit with its PnL, in order, labelled,
silent and off honoured). The real server in a subprocess: a webhook that hangs, or answers
500, costs the paper bot no order and no trade.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import running_server, subprocess_env
from tests.fakes.webhook import FakeWebhook

from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.events import RiskDenied
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000
TOKEN = "api-token-notify"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_a_paper_round_trip_is_told_in_order(make_settings: Callable[..., Any]) -> None:
    with FakeWebhook("ok") as hook:
        settings = make_settings(autostart=False, risk_cooldown_sec=0, webhook_url=hook.url,
                                 notify_entry="silent", notify_state="off",
                                 risk_daily_loss_limit_quote="0.01")  # the fees reach it
        c = build_container(settings, clock=ManualClock(T0))
        await c.start()
        await c.feed.poll("BTC/USDT")
        assert (await c.executor.enter("BTC/USDT", "test entry")).outcome == "sent"
        assert (await c.executor.exit("BTC/USDT", "test exit")).outcome == "sent"
        c.states.set(TradingState.HALTED, "by hand")  # NOTIFY_STATE=off: not sent
        for _ in range(3):  # the limit reached: told once
            c.bus.publish(RiskDenied(T0, "BTC/USDT", False, ["daily loss 9 reached limit 5"],
                                     {}, ("daily_loss",)))
        await c.close()  # drains the outbox
        bodies = hook.bodies
    kinds = [b["kind"] for b in bodies]
    assert kinds == ["entry", "exit", "risk"], bodies
    assert all(b["label"] == "[PAPER]" and b["text"].startswith("[PAPER] ") for b in bodies)
    entry, exit_, risk = bodies
    assert entry["silent"] is True and exit_["silent"] is False
    assert "bought" in entry["text"] and entry["fields"]["side"] == "buy"
    # the round trip's PnL, in quote and %, from the fills stored (fees make it a loss here)
    pnl, pct = Decimal(exit_["fields"]["pnl_quote"]), Decimal(exit_["fields"]["pnl_pct"])
    assert pnl < 0 and pct < 0 and f"PnL {exit_['fields']['pnl_quote']} USDT" in exit_["text"]
    assert "reason: test exit" in exit_["text"]
    assert "daily loss limit reached" in exit_["text"]  # said by the exit that reached it
    assert exit_["fields"]["daily_loss_limit_reached"] == "true"
    assert "daily loss" in risk["text"]


def _metric(text: str, name: str, channel: str = "webhook") -> float:
    for line in text.splitlines():
        if line.startswith(f'{name}{{channel="{channel}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def _orders(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT side, status FROM orders ORDER BY created_ms").fetchall()
    finally:
        con.close()


def _run_against(hook: FakeWebhook, tmp_path: Path, fmt: str = "json",
                 until: str = "cab_notify_retries_total") -> dict[str, Any]:
    """The paper bot trading with the webhook `hook` until it sold three times and the
    counter `until` moved; what it did."""
    env = subprocess_env(
        API_TOKEN=TOKEN, EVAL_INTERVAL_SEC="0.2", EXITS_INTERVAL_SEC="0.2",
        RISK_COOLDOWN_SEC="0", EMA_FAST="2", EMA_SLOW="3", DB_PATH=str(tmp_path / "bot.db"),
        WEBHOOK_URL=hook.url, WEBHOOK_FORMAT=fmt, NOTIFY_QUEUE_SIZE="3",
        NOTIFY_TIMEOUT_MS="300", NOTIFY_RETRIES="2", LOG_LEVEL="DEBUG",
    )
    with running_server(tmp_path, env) as url:
        deadline = time.monotonic() + 120  # a bound on the wait under load, not a timing
        orders: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            orders = _orders(tmp_path / "bot.db")
            metrics = httpx.get(url + "/metrics").text
            if (sum(side == "sell" for side, _ in orders) >= 3 and hook.requests >= 3
                    and _metric(metrics, until) >= 1):
                break
            time.sleep(0.3)
        status = httpx.get(url + "/orchestrator/status", headers=AUTH).json()
        metrics = httpx.get(url + "/metrics").text
    log = (tmp_path / "server.log").read_text()
    return {"orders": _orders(tmp_path / "bot.db"), "status": status, "metrics": metrics,
            "log": log}


def _traded_on_time(run: dict[str, Any], hook: FakeWebhook) -> None:
    orders, status = run["orders"], run["status"]
    assert sum(side == "sell" for side, _ in orders) >= 3, orders
    assert all(st == "FILLED" for _, st in orders), orders  # none lost, none left hanging
    # the loops stayed on time: the dead man's switch never tripped, trading never halted
    assert status["dms"]["tripped"] is False and status["trading_state"] == "ACTIVE", status
    assert hook.requests >= 3
    assert _metric(run["metrics"], "cab_notify_retries_total") >= 1
    assert _metric(run["metrics"], "cab_notify_queued") <= 3
    assert _metric(run["metrics"], "cab_notify_sent_total") == 0
    assert hook.path not in run["log"]  # the webhook URL is a secret


def test_a_hanging_webhook_delays_no_order(tmp_path: Path) -> None:
    with FakeWebhook("hang") as hook:
        run = _run_against(hook, tmp_path, until="cab_notify_dropped_total")
        _traded_on_time(run, hook)
        # more notifications than the queue holds while every send hung: the oldest went
        assert _metric(run["metrics"], "cab_notify_dropped_total") >= 1


def test_a_webhook_answering_500_loses_no_trade(tmp_path: Path) -> None:
    with FakeWebhook("500") as hook:
        run = _run_against(hook, tmp_path, fmt="discord", until="cab_notify_failed_total")
        _traded_on_time(run, hook)
        assert _metric(run["metrics"], "cab_notify_failed_total") >= 1
        # each attempt carried a Discord body: the first is the bot's start
        assert set(hook.bodies[0]) == {"content", "allowed_mentions"}
        assert hook.bodies[0]["content"].startswith("[PAPER] bot started")


async def test_what_the_watchdog_thread_announces_is_told(
    make_settings: Callable[..., Any],
) -> None:
    """The dead man's switch trips on the watchdog's thread: its halt and its trip reach the
    outbox from there (put is thread-safe and wakes the loop's worker)."""
    with FakeWebhook("ok") as hook:
        c = build_container(make_settings(autostart=False, webhook_url=hook.url,
                                          webhook_format="slack"), clock=ManualClock(T0))
        await c.start()
        trip = threading.Thread(target=c.orchestrator.on_dms_trip,
                                args=(["evaluate:BTC/USDT"], "halt"))
        trip.start()
        trip.join()
        assert await asyncio.to_thread(hook.wait_for, lambda h: len(h.bodies) >= 2, 20)
        await c.close()
        bodies = hook.bodies
    halted, tripped = bodies[0], bodies[1]
    assert halted["text"].startswith("[PAPER] trading state HALTED")
    assert "dead man's switch" in halted["text"]
    assert tripped["text"].startswith("[PAPER] dead man's switch tripped")
    assert "silent loops: evaluate:BTC/USDT" in tripped["text"]
    # Slack's incoming-webhook shape
    assert tripped["blocks"][0]["text"] == {"type": "mrkdwn",
                                            "text": "*[PAPER] dead man's switch tripped: "
                                                    "trading HALTED*"}
