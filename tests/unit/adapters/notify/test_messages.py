"""Which events are notified, and the webhook bodies' shapes (json, Discord, Slack)."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.notify.config import NotifyConfig
from crypto_ai_bot.adapters.notify.messages import Messages, Notification, Pending, Selector
from crypto_ai_bot.adapters.notify.webhook import DISCORD_SUPPRESS_NOTIFICATIONS, body
from crypto_ai_bot.adapters.storage.memory import MemoryRepositories
from crypto_ai_bot.domain.events import (
    ExchangeStopFired,
    LoopsStarted,
    OrderFilled,
    PositionChecked,
    ReconcileMismatch,
    RiskDenied,
    TradingStateChanged,
)
from crypto_ai_bot.domain.model import Side, TradingState

DAY = 86_400_000


def fill(side: Side) -> OrderFilled:
    return OrderFilled(1, "BTC/USDT", "c1", side, Decimal(1), Decimal(100), Decimal(0), "USDT",
                       Decimal(0))


def test_levels_on_silent_off() -> None:
    sel = Selector(NotifyConfig(levels={"entry": "silent", "exit": "on", "state": "off"}))
    entry, exit_ = sel.select(fill(Side.BUY)), sel.select(fill(Side.SELL))
    assert entry is not None and entry.kind == "entry" and entry.silent
    assert exit_ is not None and exit_.kind == "exit" and not exit_.silent
    assert sel.select(TradingStateChanged(1, "", TradingState.HALTED, "x")) is None


def test_the_daily_loss_limit_is_told_once_a_day() -> None:
    sel = Selector(NotifyConfig())

    def denied(ts: int, rule: str = "daily_loss") -> RiskDenied:
        return RiskDenied(ts, "BTC/USDT", False, ["daily loss 50 reached limit 40"], {},
                          (rule,))

    assert sel.select(denied(10)) is not None
    assert sel.select(denied(20)) is None  # every later evaluation of the day: quiet
    assert sel.select(denied(30, "cooldown")) is None  # other denials are not news
    assert sel.select(denied(DAY + 10)) is not None  # the next UTC day, again


def test_a_mismatch_is_told_again_only_when_it_changes_or_comes_back() -> None:
    sel = Selector(NotifyConfig())
    m = ReconcileMismatch(1, "BTC/USDT", "1", "0", "-1")
    assert sel.select(m) is not None
    assert sel.select(m) is None
    assert sel.select(ReconcileMismatch(2, "BTC/USDT", "1", "0.5", "-0.5")) is not None
    assert sel.select(PositionChecked(3, "BTC/USDT", True)) is None
    assert sel.select(m) is not None  # settled, then wrong again


NOTE = Notification("exit", 5, "BTC/USDT", "[LIVE] BTC/USDT exit filled",
                    "[LIVE] BTC/USDT exit filled\nsold 1 at 100\nPnL +1.00 USDT (+1.01 %)",
                    True, {"pnl_quote": "1.00"})


def test_json_body() -> None:
    b = body(NOTE, "json", "[LIVE]")
    assert b["label"] == "[LIVE]" and b["kind"] == "exit" and b["silent"] is True
    assert b["fields"] == {"pnl_quote": "1.00"} and b["text"].startswith("[LIVE] ")


def test_discord_body() -> None:
    b = body(NOTE, "discord", "[LIVE]")
    assert set(b) == {"content", "allowed_mentions", "flags"}
    assert b["content"] == NOTE.text and b["allowed_mentions"] == {"parse": []}
    assert b["flags"] == DISCORD_SUPPRESS_NOTIFICATIONS
    long = Notification("x", 1, "", "t", "y" * 5000)
    assert len(body(long, "discord", "")["content"]) == 2000 and "flags" not in body(
        long, "discord", "")


def test_slack_body() -> None:
    b = body(NOTE, "slack", "[LIVE]")
    assert b["text"] == NOTE.text
    assert b["blocks"][0] == {"type": "section", "text": {
        "type": "mrkdwn", "text": "*[LIVE] BTC/USDT exit filled*"}}
    assert b["blocks"][1]["text"]["text"].startswith("sold 1 at 100")


def messages() -> Messages:
    repos = MemoryRepositories()
    return Messages("[LIVE]", trades=repos.trades, orders=repos.orders, market=lambda s: None)


def test_an_exchange_stop_and_a_mismatch_read_as_people_read_them() -> None:
    m = messages()
    fired = m.render(Pending(ExchangeStopFired(1, "BTC/USDT", "exchange_stop", "97.5", "s1",
                                               "o9"), "stop", False))
    assert fired.text == ("[LIVE] BTC/USDT exchange stop fired\n"
                          "stop 97.5 sold the position (order o9)")
    mismatch = m.render(Pending(ReconcileMismatch(1, "BTC/USDT", "0.5", "0.4", "-0.1"),
                                "reconcile", True))
    assert mismatch.silent and mismatch.text.splitlines() == [
        "[LIVE] BTC/USDT reconcile mismatch", "bot: 0.5", "exchange: 0.4", "diff: -0.1"]
    started = m.render(Pending(LoopsStarted(1, "", ("BTC/USDT", "ETH/USDT")), "lifecycle",
                               False))
    assert started.text == "[LIVE] bot started\ntrading BTC/USDT, ETH/USDT"
