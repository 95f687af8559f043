"""A generic webhook: one JSON POST per notification, in the shape WEBHOOK_FORMAT names.

- json: {source, label, kind, ts_ms, symbol, title, text, silent, fields}
- discord: {content, allowed_mentions} (a Discord channel webhook; silent ones carry Discord's
  SUPPRESS_NOTIFICATIONS flag)
- slack: {text, blocks} (a Slack incoming webhook, mrkdwn)

The URL is a secret (Discord's and Slack's carry their token): it is never logged, and no
error that quotes it leaves this module unredacted.
"""

from __future__ import annotations

from typing import Any

import httpx

from crypto_ai_bot.adapters.notify.messages import Notification
from crypto_ai_bot.adapters.notify.outbox import SendError

DISCORD_LIMIT = 2000  # characters of a message's content
DISCORD_SUPPRESS_NOTIFICATIONS = 1 << 12


def body(note: Notification, fmt: str, label: str) -> dict[str, Any]:
    if fmt == "discord":
        out: dict[str, Any] = {"content": note.text[:DISCORD_LIMIT],
                               "allowed_mentions": {"parse": []}}
        if note.silent:
            out["flags"] = DISCORD_SUPPRESS_NOTIFICATIONS
        return out
    if fmt == "slack":
        rest = note.text.partition("\n")[2]
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{note.title}*"}}]
        if rest:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": rest}})
        return {"text": note.text, "blocks": blocks}
    return {"source": "crypto-ai-bot", "label": label, "kind": note.kind, "ts_ms": note.ts_ms,
            "symbol": note.symbol, "title": note.title, "text": note.text,
            "silent": note.silent, "fields": note.fields}


class WebhookSender:
    def __init__(self, url: str, fmt: str, label: str, timeout_s: float) -> None:
        self._url = url
        self._fmt = fmt
        self._label = label
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False,
                                         headers={"User-Agent": "crypto-ai-bot"})

    async def send(self, note: Notification) -> None:
        try:
            r = await self._client.post(self._url, json=body(note, self._fmt, self._label))
        except httpx.TimeoutException:
            raise SendError("webhook: no answer in time") from None
        except httpx.HTTPError as exc:
            raise SendError(f"webhook: {type(exc).__name__}") from None
        if r.is_success:
            return
        if r.status_code == 429 or r.status_code >= 500:
            raise SendError(f"webhook answered {r.status_code}",
                            retry_after_s=_retry_after(r.headers.get("Retry-After")))
        raise SendError(f"webhook answered {r.status_code}", retry=False)

    async def close(self) -> None:
        await self._client.aclose()


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), 300.0) if value else None
    except ValueError:
        return None
