"""The notifiers' own configuration (the bootstrap builds it from the settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Level = Literal["on", "silent", "off"]

# What can be notified, each switched by NOTIFY_<KIND> (on | silent | off)
KINDS = ("entry", "exit", "stop", "risk", "state", "reconcile", "dms", "lifecycle")
TELEGRAM_API = "https://api.telegram.org"


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """TELEGRAM_*, WEBHOOK_*, NOTIFY_*: the secrets (the bot token; a webhook URL, which for
    Discord and Slack carries one) never appear in a repr."""

    label: str = "[PAPER]"
    levels: Mapping[str, Level] = field(default_factory=lambda: MappingProxyType({}))
    telegram_token: str = field(default="", repr=False)
    telegram_chat_id: str = ""
    telegram_api_url: str = TELEGRAM_API
    telegram_poll_s: int = 25  # getUpdates long-poll
    webhook_url: str = field(default="", repr=False)
    webhook_format: Literal["json", "discord", "slack"] = "json"
    queue_size: int = 100
    timeout_ms: int = 10_000
    retries: int = 5
    backoff_ms: int = 1_000  # the first retry's wait; doubled each time, at most a minute

    def level(self, kind: str) -> Level:
        return self.levels.get(kind, "on")

    @property
    def telegram(self) -> bool:
        return bool(self.telegram_token)

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)
