"""ExchangeStopKeeper: one resting exchange-side stop per position, so it stays protected while
the bot is down (DESIGN §6).

`follow` (a bus handler: a position changed, the stops were checked) places a price-triggered
sell at the stop level and moves it up as the trailing stop rises, throttled; `settle_fired` (a
reconcile hook) records a stop that fired as an EXIT order with its fills, cancels the stop of
a closed position and orphans.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.execution import OrderExecutor
from crypto_ai_bot.domain.errors import BrokerError, OrderNotFound, OrderRejected
from crypto_ai_bot.domain.events import ExchangeStopFired, PositionChanged, StopMoved, StopsChecked
from crypto_ai_bot.domain.model import (
    ZERO,
    ExitReason,
    Intent,
    OrderType,
    Position,
    Side,
    StopLevel,
    StopOrderReport,
)
from crypto_ai_bot.domain.orders import OrderEvent
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("exchange_stops")


@dataclass(frozen=True, slots=True)
class StopKeeperConfig:
    """EXCHANGE_STOP_OFFSET_PCT (how far under the bot's stop the resting one waits),
    EXCHANGE_STOP_LIMIT_PCT (its limit price under its trigger), EXCHANGE_STOP_MIN_MOVE_PCT
    and EXCHANGE_STOP_MIN_INTERVAL_SEC (how much and how often it may move up)."""

    offset_pct: Decimal = Decimal("0.5")
    limit_pct: Decimal = Decimal("1")
    min_move_pct: Decimal = Decimal("0.2")
    min_interval_ms: int = 10_000


class ExchangeStopKeeper:
    def __init__(
        self, broker: Broker, repos: Repositories, bus: MessageBus, clock: Clock, *,
        executor: OrderExecutor | None = None, config: StopKeeperConfig | None = None,
    ) -> None:
        config = config or StopKeeperConfig()
        self._broker = broker
        self._repos = repos
        self._bus = bus
        self._clock = clock
        self.executor = executor  # needed by settle_fired to apply the fired sell's fills
        self.min_move = 1 + config.min_move_pct / 100
        self.min_interval_ms = config.min_interval_ms
        self._limit_factor = 1 - config.limit_pct / 100
        # The resting stop is a backstop: a little under the client-side stop, so that the
        # bot's own exit acts first while it runs, and the exchange's only when it does not.
        self._backstop = 1 - config.offset_pct / 100
        self._locks: dict[str, asyncio.Lock] = {}
        self._moved_ms: dict[str, int] = {}
        self._amounts: dict[str, Decimal] = {}  # amount of the resting stop, when known

    def _lock(self, symbol: str) -> asyncio.Lock:
        return self._locks.setdefault(symbol, asyncio.Lock())

    # the bus's handler ------------------------------------------------------------------

    async def follow(self, event: PositionChanged | StopsChecked) -> None:
        """An entry or exit was sent, or the exits loop checked the stops: keep step."""
        await self.sync(event.symbol, event.position, event.level)

    async def sync(self, symbol: str, position: Position, level: StopLevel | None) -> None:
        """Keep the resting stop in step with `level` (None or a closed position: cancel it)."""
        async with self._lock(symbol):
            try:
                await self._sync(symbol, level)
            except BrokerError as exc:  # the client-side stop still guards the position
                log.warning("exchange_stop_sync_failed", symbol=symbol, error=str(exc),
                            error_type=type(exc).__name__)

    async def _sync(self, symbol: str, level: StopLevel | None) -> None:
        market = self._broker.market(symbol)
        pos = self._repos.positions.get(symbol)
        if level is None or not pos.is_open(market.min_amount):
            await self._cancel(symbol, pos)
            return
        amount = market.round_amount(pos.base_amount)
        trigger = market.round_price(level.price * self._backstop)
        now = self._clock.now_ms()
        if now - self._moved_ms.get(symbol, 0) < self.min_interval_ms:
            return  # throttled: the next call (every exits cycle) catches up
        if pos.stop_order_id:
            same_amount = await self._resting_amount(symbol, pos) == amount
            if same_amount and trigger < pos.stop_price * self.min_move:
                return
            # about to replace it: if it already fired, record that instead of losing it
            resting = await self._broker.fetch_stop(symbol, pos.stop_order_id)
            if resting is None or resting.status != "open":
                await self._settle(symbol, pos, resting)
                return
        limit = market.round_price(trigger * self._limit_factor)
        self._moved_ms[symbol] = now  # a rejected placement waits as long as a move
        try:
            stop = await self._broker.place_stop(symbol, amount, trigger, limit)
        except OrderRejected as exc:  # e.g. trigger above the price, or below the minimums
            log.warning("exchange_stop_rejected", symbol=symbol, trigger=str(trigger),
                        error=str(exc))
            return
        old = pos.stop_order_id
        pos = self._repos.positions.get(symbol)
        pos.stop_order_id, pos.stop_price = stop.id, trigger
        self._repos.positions.save(pos)
        self._amounts[symbol] = amount
        if old:  # placed first, then cancelled: never a moment without a stop
            await self._cancel_id(symbol, old)
        log.info("exchange_stop_placed", symbol=symbol, stop_id=stop.id, trigger=str(trigger),
                 limit=str(limit), amount=str(amount), replaced=old or None)
        self._bus.publish(StopMoved(now, symbol, stop.id, str(trigger), str(limit), str(amount),
                                    level.reason, old))

    async def _resting_amount(self, symbol: str, pos: Position) -> Decimal:
        if symbol not in self._amounts:
            stop = await self._broker.fetch_stop(symbol, pos.stop_order_id)
            self._amounts[symbol] = stop.amount if stop and stop.status == "open" else ZERO
        return self._amounts[symbol]

    async def _cancel(self, symbol: str, pos: Position) -> None:
        if not pos.stop_order_id:
            return
        await self._cancel_id(symbol, pos.stop_order_id)
        self._clear(symbol)

    async def _cancel_id(self, symbol: str, stop_id: str) -> None:
        try:
            await self._broker.cancel_stop(symbol, stop_id)
        except OrderNotFound:  # already gone: fired, cancelled or expired
            log.info("exchange_stop_already_gone", symbol=symbol, stop_id=stop_id)

    def _clear(self, symbol: str) -> None:
        pos = self._repos.positions.get(symbol)
        pos.stop_order_id, pos.stop_price = "", ZERO
        self._repos.positions.save(pos)
        self._amounts.pop(symbol, None)
        self._moved_ms.pop(symbol, None)  # the next position's first stop goes at once

    # the reconcile hook ----------------------------------------------------------------

    async def settle_fired(self, symbol: str) -> None:
        """Record a fired stop's sell; drop the stop of a closed position; cancel orphans."""
        async with self._lock(symbol):
            pos = self._repos.positions.get(symbol)
            if pos.stop_order_id:
                stop = await self._broker.fetch_stop(symbol, pos.stop_order_id)
                if stop is None or stop.status != "open":
                    await self._settle(symbol, pos, stop)
                elif not pos.is_open(self._broker.market(symbol).min_amount):
                    await self._cancel(symbol, pos)
            await self._cancel_orphans(symbol)

    async def _settle(self, symbol: str, pos: Position, stop: StopOrderReport | None) -> None:
        if stop is not None and stop.fired_order_id and self.executor is not None:
            report = await self._broker.fetch_order(symbol, exchange_order_id=stop.fired_order_id)
            if report is None:
                return  # the exchange will know it soon; try again next pass
            cid = f"stop-{stop.id}"
            now = self._clock.now_ms()
            if self._repos.orders.get(cid) is None:
                with self._repos.transaction():
                    self._repos.orders.insert(
                        OrderEvent.DISCOVERED, client_order_id=cid, symbol=symbol,
                        side=Side.SELL, type=OrderType.LIMIT,
                        intent=Intent.EXIT, amount=stop.amount, cost=None,
                        price=None, idempotency_key=f"{symbol}:stop:{stop.id}",
                        reason="exchange stop fired", now_ms=now,
                    )
            self.executor.apply_report(report, cid)
            log.warning("exchange_stop_fired", symbol=symbol, stop_id=stop.id,
                        order_id=stop.fired_order_id, filled=str(report.filled),
                        status=report.status.value)
            self._bus.publish(ExchangeStopFired(now, symbol, ExitReason.EXCHANGE_STOP,
                                                str(stop.trigger_price), stop.id,
                                                stop.fired_order_id))
        else:
            log.warning("exchange_stop_gone", symbol=symbol, stop_id=pos.stop_order_id,
                        status=stop.status if stop else "not found")
        self._clear(symbol)

    async def _cancel_orphans(self, symbol: str) -> None:
        """Stops of ours left behind (a cancel that failed after a move, a lost answer)."""
        fetch_open: Any = getattr(self._broker, "fetch_open_stops", None)
        if fetch_open is None:
            return
        keep = self._repos.positions.get(symbol).stop_order_id
        for stop in await fetch_open(symbol):
            if stop.id != keep:
                log.warning("exchange_stop_orphan_cancelled", symbol=symbol, stop_id=stop.id)
                await self._cancel_id(symbol, stop.id)
