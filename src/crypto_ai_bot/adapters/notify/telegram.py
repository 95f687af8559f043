"""Telegram (python-telegram-bot): notifications to one chat, and its commands by long polling.

The bot has no public URL, so it polls (getUpdates, after deleteWebhook, which drops the
commands sent while the bot was down: none runs late). Only
TELEGRAM_CHAT_ID is answered: an update from any other chat gets nothing and is logged by
its chat id only. The token sits in every Bot API URL (…/bot<token>/sendMessage): the
library's and httpx's loggers are kept at WARNING (they print URLs below that), and every
error this module logs goes through `describe`, which hides the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from crypto_ai_bot.adapters.notify.config import NotifyConfig
from crypto_ai_bot.adapters.notify.messages import Notification
from crypto_ai_bot.adapters.notify.outbox import SendError, redacting
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("telegram")

# (command, its arguments) -> the reply's text; "" sends nothing
Commands = Callable[[str, list[str]], Awaitable[str]]
TELEGRAM_LIMIT = 4096  # characters of a message
_QUIET = ("telegram", "httpx", "httpcore")  # they log request URLs, token included, below WARNING


def _library() -> Any:
    try:
        import telegram
        import telegram.request
    except ImportError:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is set but python-telegram-bot is not installed: "
            "pip install 'crypto-ai-bot[telegram]'") from None
    return telegram


class TelegramChannel:
    def __init__(self, config: NotifyConfig, commands: Commands | None = None) -> None:
        tg = _library()
        for name in _QUIET:
            logger = logging.getLogger(name)
            logger.setLevel(max(logger.level, logging.WARNING))
        self._tg = tg
        self._chat_id = int(config.telegram_chat_id)
        self._label = config.label
        self._poll_s = config.telegram_poll_s
        self._commands = commands
        token = config.telegram_token
        self.describe = redacting(token, token.split(":")[-1])
        timeout = config.timeout_ms / 1000
        request = tg.request.HTTPXRequest(
            connection_pool_size=4, connect_timeout=timeout, read_timeout=timeout,
            write_timeout=timeout, pool_timeout=timeout)
        polling = tg.request.HTTPXRequest(
            connection_pool_size=2, connect_timeout=timeout, read_timeout=timeout,
            write_timeout=timeout, pool_timeout=timeout)
        self._bot = tg.Bot(token, base_url=config.telegram_api_url.rstrip("/") + "/bot",
                           request=request, get_updates_request=polling)
        self._ready = False
        self._poller: asyncio.Task[None] | None = None
        self.updates_ignored = 0  # from chats other than TELEGRAM_CHAT_ID
        self.commands_answered = 0

    async def _ensure(self) -> None:
        if not self._ready:
            await self._bot.initialize()  # getMe: the token is checked here
            self._ready = True

    # notifications ------------------------------------------------------------------

    async def send(self, note: Notification) -> None:
        """Send one notification (the outbox retries what this raises as retryable)."""
        try:
            await self._ensure()
            await self._bot.send_message(self._chat_id, note.text[:TELEGRAM_LIMIT],
                                         disable_notification=note.silent)
        except self._tg.error.RetryAfter as exc:
            with warnings.catch_warnings():  # v22 warns that it will become a timedelta
                warnings.simplefilter("ignore", DeprecationWarning)
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise SendError("telegram: flood control", retry_after_s=seconds) from None
        except (self._tg.error.BadRequest, self._tg.error.Forbidden,
                self._tg.error.InvalidToken, self._tg.error.EndPointNotFound) as exc:
            raise SendError(f"telegram refused: {self.describe(exc)}", retry=False) from None
        except self._tg.error.TelegramError as exc:
            raise SendError(f"telegram: {self.describe(exc)}") from None

    # commands -----------------------------------------------------------------------

    async def start(self) -> None:
        if self._commands is not None and self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="telegram:poll")

    async def close_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def close(self) -> None:
        await self.close_polling()
        with contextlib.suppress(Exception):
            await self._bot.shutdown()

    async def _poll(self) -> None:
        offset: int | None = None
        hooked = True  # a webhook set on the bot would make getUpdates fail (409)
        pause = 1.0
        while True:
            try:
                await self._ensure()
                if hooked:  # and what was sent while the bot was down is dropped: a /stop
                    # or /forceexit from hours ago must not run now
                    await self._bot.delete_webhook(drop_pending_updates=True)
                    hooked = False
                updates = await self._bot.get_updates(
                    offset=offset, timeout=self._poll_s, allowed_updates=["message"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("telegram_poll_failed", error=self.describe(exc), retry_in_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)
                continue
            pause = 1.0
            for update in updates:
                offset = update.update_id + 1
                await self._on_update(update)

    async def _on_update(self, update: Any) -> None:
        message = update.message
        if message is None or not message.text:
            return
        if message.chat.id != self._chat_id:
            self.updates_ignored += 1
            log.info("telegram_update_ignored", chat_id=message.chat.id)
            return
        text = message.text.strip()
        if not text.startswith("/") or self._commands is None:
            return
        word, *args = text.split()
        name = word[1:].split("@", 1)[0].lower()
        try:
            reply = await self._commands(name, args)
        except Exception as exc:
            log.warning("telegram_command_failed", command=name, error=self.describe(exc))
            reply = f"/{name} failed: {type(exc).__name__}"
        if not reply:
            return
        try:
            await self._bot.send_message(self._chat_id, f"{self._label} {reply}"[:TELEGRAM_LIMIT])
            self.commands_answered += 1
        except Exception as exc:
            log.warning("telegram_reply_failed", command=name, error=self.describe(exc))
