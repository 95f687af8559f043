"""Telegram against the local fake Bot API, with the real server (uvicorn in a subprocess)
running a paper bot: notifications in order and labelled, silent and off honoured, the
commands answered by the cockpit's services, other chats ignored, the token in no log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import running_server, subprocess_env
from tests.fakes.telegram_api import FakeTelegram

pytest.importorskip("telegram", reason="python-telegram-bot is not installed (the telegram "
                    "extra)")

TG_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
SECRET_PART = TG_TOKEN.split(":")[1]
CHAT = 4242
OUTSIDER = 777
API_TOKEN = "api-token-telegram"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _env(tmp_path: Path, tg: FakeTelegram, **extra: str) -> dict[str, str]:
    return subprocess_env(
        API_TOKEN=API_TOKEN, EVAL_INTERVAL_SEC="0.2", EXITS_INTERVAL_SEC="0.2",
        RISK_COOLDOWN_SEC="0", DB_PATH=str(tmp_path / "bot.db"), LOG_LEVEL="DEBUG",
        TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_CHAT_ID=str(CHAT), TELEGRAM_API_URL=tg.url,
        **extra,
    )


def _texts(tg: FakeTelegram, chat: int = CHAT) -> list[str]:
    return [m["text"] for m in tg.messages_to(chat)]


def _no_secret_in(log: str) -> None:
    assert TG_TOKEN not in log and SECRET_PART not in log


def test_trades_are_told_in_order_labelled_entries_silent(tmp_path: Path) -> None:
    with FakeTelegram(TG_TOKEN) as tg:
        env = _env(tmp_path, tg, EMA_FAST="2", EMA_SLOW="3", NOTIFY_ENTRY="silent")
        with running_server(tmp_path, env):
            assert tg.wait_for(
                lambda t: sum("exit filled" in x for x in _texts(t)) >= 2, 90), _texts(tg)
        # the server stopped (SIGTERM): its stop was told before it exited
        assert tg.wait_for(lambda t: "bot stopped" in _texts(t)[-1], 10), _texts(tg)
        sent = tg.messages_to(CHAT)
        methods = tg.methods()
    assert methods[0] == "getMe" and "deleteWebhook" in methods and "getUpdates" in methods
    assert all(m["text"].startswith("[PAPER] ") for m in sent)
    assert "bot started" in sent[0]["text"] and "BTC/USDT" in sent[0]["text"]
    trades = [m for m in sent if "filled" in m["text"]]
    kinds = ["entry" if "entry filled" in m["text"] else "exit" for m in trades]
    # a long-only bot: entry, exit, entry, exit ... in the order they happened
    assert kinds[0] == "entry" and all(a != b for a, b in pairwise(kinds))
    for m in trades:
        if "entry filled" in m["text"]:
            assert m.get("disable_notification") is True  # NOTIFY_ENTRY=silent
            assert "bought" in m["text"]
        else:
            assert not m.get("disable_notification")
            assert " USDT (" in m["text"] and "PnL " in m["text"]  # the round trip's PnL
    _no_secret_in((tmp_path / "server.log").read_text())


def _ask(tg: FakeTelegram, text: str, expect: Callable[[str], bool],
         timeout_s: float = 30) -> str:
    """Send `text` from the operator's chat; the first message after it that `expect`s."""
    before = len(_texts(tg))
    tg.inject(CHAT, text)
    found: list[str] = []

    def seen(t: FakeTelegram) -> bool:
        found[:] = [x for x in _texts(t)[before:] if expect(x)]
        return bool(found)

    assert tg.wait_for(seen, timeout_s), (text, _texts(tg)[before:])
    return found[0]


def test_the_commands_answer_only_the_operator(tmp_path: Path) -> None:
    with FakeTelegram(TG_TOKEN) as tg:
        # fixed prices: the strategy never trades, every trade here is the operator's
        env = _env(tmp_path, tg, PRICE_FEED="fixed", NOTIFY_STATE="off")
        tg.inject(CHAT, "/stop")  # sent while the bot was down: dropped, never run
        with running_server(tmp_path, env) as url:
            assert tg.wait_for(lambda t: any("bot started" in x for x in _texts(t)))
            # another chat's commands get nothing, and do nothing
            tg.inject(OUTSIDER, "/stop")
            tg.inject(OUTSIDER, "/status")
            help_ = _ask(tg, "/help", lambda x: "commands:" in x)
            assert help_.startswith("[PAPER] ") and "/forceexit <symbol>" in help_
            status = _ask(tg, "/status", lambda x: "status:" in x)
            assert "running, trading ACTIVE" in status and "BTC/USDT" in status
            balance = _ask(tg, "/balance", lambda x: "balance:" in x)
            assert "equity 10000.00 USDT" in balance
            assert "none closed yet" in _ask(tg, "/trades", lambda x: "trades" in x)
            # a position opened through the API, closed from the chat
            r = httpx.post(url + "/api/v1/force-enter", json={"symbol": "BTC/USDT"},
                           headers=AUTH, timeout=30).json()
            assert r["ok"], r
            assert tg.wait_for(lambda t: any("entry filled" in x for x in _texts(t)))
            in_pos = _ask(tg, "/status", lambda x: "status:" in x and " from " in x)
            assert "PnL" in in_pos
            out = _ask(tg, "/forceexit btc", lambda x: "exit" in x and "ok:" in x)
            assert "BTC/USDT: exit sent" in out
            told = tg.wait_for(lambda t: any("exit filled" in x for x in _texts(t)))
            assert told and any("force_exit" in x for x in _texts(tg) if "exit filled" in x)
            again = _ask(tg, "/forceexit BTC/USDT", lambda x: "nothing sent" in x)
            assert "no open position" in again
            trades = _ask(tg, "/trades", lambda x: "trades:" in x)
            assert "last 1 of 1 trades" in trades and "force_exit" in trades
            profit = _ask(tg, "/profit", lambda x: "profit:" in x)
            assert "trades 1:" in profit and "worst:" in profit
            daily = _ask(tg, "/daily 3", lambda x: "daily PnL" in x)
            assert daily.count("trades)") == 3 and "(1 trades)" in daily
            # NOTIFY_STATE=off: the reply says REDUCING, no notification of it is sent
            reduced = _ask(tg, "/stopentry", lambda x: "REDUCING" in x)
            assert reduced.startswith("[PAPER] ok: trading state REDUCING")
            assert _ask(tg, "/resume", lambda x: "ACTIVE" in x).startswith("[PAPER] ok:")
            assert "unknown command /nope" in _ask(tg, "/nope", lambda x: "/nope" in x)
            stop = _ask(tg, "/stop", lambda x: "stopped" in x and "ok:" in x)
            assert "ok: stopped" in stop
            assert tg.wait_for(lambda t: any("bot stopped" in x for x in _texts(t)))
            running = httpx.get(url + "/api/v1/status", headers=AUTH).json()["running"]
            assert running is False
            assert "ok: started" in _ask(tg, "/start", lambda x: "started" in x and "ok:" in x)
            status_after: dict[str, Any] = httpx.get(url + "/api/v1/status",
                                                     headers=AUTH).json()
            assert status_after["running"] is True
        texts = _texts(tg)
        outsider = tg.messages_to(OUTSIDER)
    assert outsider == []  # the other chat got nothing
    # NOTIFY_STATE=off: the replies said it, no notification did
    assert not any(x.startswith("[PAPER] trading state") for x in texts)
    assert sum(x.startswith("[PAPER] ok: trading state") for x in texts) == 2
    _no_secret_in((tmp_path / "server.log").read_text())


def test_a_rejected_token_is_logged_without_it(tmp_path: Path) -> None:
    with FakeTelegram("999:another-token") as tg:  # answers 401 to our token
        with running_server(tmp_path, _env(tmp_path, tg)):
            assert tg.wait_for(lambda t: t.methods().count("getMe") >= 2, 30)
        log = (tmp_path / "server.log").read_text()
    assert "telegram_poll_failed" in log or "notification_failed" in log, log[-3000:]
    _no_secret_in(log)


async def test_flood_control_is_waited_out_and_a_refusal_given_up(
    make_settings: Callable[..., Any],
) -> None:
    """In process, over real HTTP: Telegram's 429 (retry_after) is retried after the wait it
    asks for; a 400 is not retried, and the next message still goes."""
    from crypto_ai_bot.bootstrap import build_container
    from crypto_ai_bot.domain.model import TradingState
    from crypto_ai_bot.ports.clock import ManualClock

    with FakeTelegram(TG_TOKEN) as tg:
        tg.fail("sendMessage", 429, "Too Many Requests: retry after 1",
                parameters={"retry_after": 1})
        c = build_container(make_settings(
            autostart=False, telegram_bot_token=TG_TOKEN, telegram_chat_id=str(CHAT),
            telegram_api_url=tg.url), clock=ManualClock(1_767_225_600_000))
        await c.start()
        c.states.set(TradingState.REDUCING, "first")
        assert await asyncio.to_thread(tg.wait_for, lambda t: len(t.sent) == 1, 20)
        tg.fail("sendMessage", 400, "Bad Request: chat not found")
        c.states.set(TradingState.HALTED, "second")
        c.states.set(TradingState.ACTIVE, "third")
        assert await asyncio.to_thread(tg.wait_for, lambda t: len(t.sent) == 2, 20)
        assert c.notifiers is not None
        stats = c.notifiers.outboxes[0].stats
        await c.close()
        sends = tg.methods().count("sendMessage")
    assert [m["text"].splitlines()[0] for m in tg.sent] == [
        "[PAPER] trading state REDUCING", "[PAPER] trading state ACTIVE"]
    assert sends == 4  # the 429, its retry, the 400 (never again), the third
    assert (stats.retries, stats.failed, stats.sent) == (1, 1, 2)


async def test_library_loggers_never_print_the_token(caplog: pytest.LogCaptureFixture) -> None:
    """python-telegram-bot logs the Bot API URL (token inside) at DEBUG, httpx every request
    URL at INFO: with the root logger at DEBUG, none of it comes out."""
    import logging

    from crypto_ai_bot.adapters.notify.config import NotifyConfig
    from crypto_ai_bot.adapters.notify.messages import Notification
    from crypto_ai_bot.adapters.notify.telegram import TelegramChannel

    caplog.set_level(logging.DEBUG)
    with FakeTelegram(TG_TOKEN) as tg:
        channel = TelegramChannel(NotifyConfig(telegram_token=TG_TOKEN,
                                               telegram_chat_id=str(CHAT),
                                               telegram_api_url=tg.url))
        await channel.send(Notification("lifecycle", 1, "", "t", "[PAPER] hello"))
        await channel.close()
        assert [m["text"] for m in tg.sent] == ["[PAPER] hello"]
    _no_secret_in(caplog.text)
