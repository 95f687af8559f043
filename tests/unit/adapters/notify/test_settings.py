"""The notification settings: checked at start with one clear line, secrets never shown."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.domain.errors import ConfigError

TOKEN = "123456:SeCrEt-token_value"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"telegram_bot_token": TOKEN}, "TELEGRAM_CHAT_ID is required"),
    ({"telegram_bot_token": "not a token", "telegram_chat_id": "1"}, "TELEGRAM_BOT_TOKEN"),
    ({"telegram_bot_token": TOKEN, "telegram_chat_id": "@me"}, "TELEGRAM_CHAT_ID"),
    ({"webhook_url": "ftp://x/SeCrEt"}, "WEBHOOK_URL: not an http"),
    ({"notify_exit": "loud"}, "NOTIFY_EXIT"),
])
def test_bad_notification_settings_name_the_variable(
    make_settings: Callable[..., Any], overrides: dict[str, str], message: str,
) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        make_settings(**overrides)
    assert "SeCrEt" not in str(err.value)


def test_secrets_are_masked_and_kept_out_of_reprs(make_settings: Callable[..., Any]) -> None:
    s = make_settings(telegram_bot_token=TOKEN, telegram_chat_id="-100", mode="paper",
                      webhook_url="https://discord.com/api/webhooks/1/SeCrEt")
    view = s.public_view()
    assert view["telegram_bot_token"] == "set" and view["webhook_url"] == "set"
    config = s.notify_config
    assert config.label == "[PAPER]" and config.telegram_chat_id == "-100"
    assert "SeCrEt" not in repr(config) and "SeCrEt" not in repr(s)


def test_telegram_configured_without_its_library_is_one_clear_error(
    make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "telegram", None)  # as if not installed
    settings = make_settings(telegram_bot_token=TOKEN, telegram_chat_id="1")
    with pytest.raises(ConfigError, match=r"pip install 'crypto-ai-bot\[telegram\]'"):
        build_container(settings)
