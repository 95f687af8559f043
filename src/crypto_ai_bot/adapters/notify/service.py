"""The notifiers together: one selector for the bus, one outbox per channel, their counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from crypto_ai_bot.adapters.notify.config import NotifyConfig
from crypto_ai_bot.adapters.notify.messages import SUBSCRIBED, Messages, Selector
from crypto_ai_bot.adapters.notify.outbox import Outbox, Sender, redacting
from crypto_ai_bot.adapters.notify.telegram import Commands, TelegramChannel
from crypto_ai_bot.adapters.notify.webhook import WebhookSender
from crypto_ai_bot.domain.events import Event
from crypto_ai_bot.domain.model import MarketInfo
from crypto_ai_bot.ports.storage import OrdersRepository, TradesRepository


class Notifiers:
    def __init__(self, config: NotifyConfig, *, trades: TradesRepository,
                 orders: OrdersRepository, market: Callable[[str], MarketInfo | None],
                 commands: Commands | None = None,
                 loss_limit: Callable[[], Decimal] = lambda: Decimal(0)) -> None:
        self.config = config
        self.selector = Selector(config)
        messages = Messages(config.label, trades=trades, orders=orders, market=market,
                            loss_limit=loss_limit)
        self.outboxes: list[Outbox] = []
        self.telegram: TelegramChannel | None = None
        self._webhook: WebhookSender | None = None
        timeout_s = config.timeout_ms / 1000

        def outbox(channel: str, send: Sender,
                   describe: Callable[[BaseException], str]) -> None:
            self.outboxes.append(Outbox(
                channel, send, messages.render,
                capacity=config.queue_size, timeout_s=timeout_s, retries=config.retries,
                backoff_s=config.backoff_ms / 1000, describe=describe))

        if config.telegram:
            self.telegram = TelegramChannel(config, commands)
            outbox("telegram", self.telegram.send, self.telegram.describe)
        if config.webhook:
            self._webhook = WebhookSender(config.webhook_url, config.webhook_format,
                                          config.label, timeout_s)
            outbox("webhook", self._webhook.send, redacting(config.webhook_url))

    @property
    def enabled(self) -> bool:
        return bool(self.outboxes)

    def handle(self, event: Event) -> None:
        """The bus handler: decide, enqueue, return (never formats, never waits)."""
        pending = self.selector.select(event)
        if pending is not None:
            for box in self.outboxes:
                box.put(pending)

    def handlers(self) -> list[tuple[type[Event], Callable[[Event], None]]]:
        return [(kind, self.handle) for kind in SUBSCRIBED]

    async def start(self) -> None:
        for box in self.outboxes:
            await box.start()
        if self.telegram is not None:
            await self.telegram.start()

    async def close(self, drain_s: float = 5.0) -> None:
        """Stop answering commands, send what is queued (each channel for up to drain_s, at
        the same time), then close the connections."""
        if self.telegram is not None:
            await self.telegram.close_polling()
        await asyncio.gather(*(box.close(drain_s) for box in self.outboxes))
        if self.telegram is not None:
            await self.telegram.close()
        if self._webhook is not None:
            with contextlib.suppress(Exception):
                await self._webhook.close()

    def collector(self) -> Collector:
        return _Counters(self.outboxes)


class _Counters(Collector):
    """cab_notify_{sent,dropped,failed,retries}_total and cab_notify_queued, by channel."""

    def __init__(self, outboxes: list[Outbox]) -> None:
        self._outboxes = outboxes

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        helps = {"sent": "Notifications sent", "dropped": "Notifications dropped (queue full)",
                 "failed": "Notifications given up", "retries": "Notification send retries"}
        for name, help_text in helps.items():
            family = CounterMetricFamily(f"cab_notify_{name}", help_text, labels=["channel"])
            for box in self._outboxes:
                family.add_metric([box.channel], getattr(box.stats, name))
            yield family
        queued = GaugeMetricFamily("cab_notify_queued", "Notifications waiting to be sent",
                                   labels=["channel"])
        for box in self._outboxes:
            queued.add_metric([box.channel], box.queued)
        yield queued
