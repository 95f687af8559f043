"""ExchangeStopKeeper: one resting exchange-side stop per position, so it stays protected while
the bot is down (DESIGN §6).

`follow` (a bus handler: a position changed, the stops were checked) places a price-triggered
sell at the stop level, moves it up as the trailing stop rises (throttled) and renews it well
before its expiration, always placing the new one before cancelling the old. Every stop is
recorded write-ahead (repos.stops) before its request leaves: real Gate echoes no client id on
price orders, so a stop whose answer was lost, or whose id could not be saved, is recognised
later by those fields among the symbol's open and finished price orders. `settle_fired` (a
reconcile hook) books a stop that fired as an EXIT order with its fills, however it was
found, cancels the stops of closed positions and our orphans, and reports price orders it
cannot account for (cancelled too with EXCHANGE_STOPS_EXCLUSIVE). A position whose stop could
not be placed is an alarm (`unprotected`), retried with backoff.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.execution import OrderExecutor, Outcome
from crypto_ai_bot.domain.errors import (
    BrokerError,
    ExchangeUnavailable,
    OrderNotFound,
    OrderRejected,
)
from crypto_ai_bot.domain.events import (
    ExchangeStopFired,
    ExitTriggered,
    PositionChanged,
    StopMoved,
    StopsChecked,
    StopUnprotected,
    UnknownStopFound,
)
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
from crypto_ai_bot.ports.storage import Repositories, StopRecord
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("exchange_stops")

RULE = "<="  # a stop-loss sell fires when the price falls to its trigger
SKEW_MS = 60_000  # the exchange's clock may differ this much (Gate refuses beyond it)
LOST_AFTER_MS = 120_000  # a recorded stop not on the exchange after this never arrived


@dataclass(frozen=True, slots=True)
class StopKeeperConfig:
    """EXCHANGE_STOP_OFFSET_PCT (how far under the bot's stop the resting one waits),
    EXCHANGE_STOP_LIMIT_PCT (its limit price under its trigger), EXCHANGE_STOP_MIN_MOVE_PCT
    and EXCHANGE_STOP_MIN_INTERVAL_SEC (how much and how often it may move up),
    EXCHANGE_STOP_EXPIRATION_SEC (how long Gate keeps it waiting; renewed at half of it),
    EXCHANGE_STOP_RETRY_MAX_SEC (the longest wait between placement attempts) and
    EXCHANGE_STOPS_EXCLUSIVE (a dedicated account: cancel price orders we cannot account for)."""

    offset_pct: Decimal = Decimal("0.5")
    limit_pct: Decimal = Decimal("1")
    min_move_pct: Decimal = Decimal("0.2")
    min_interval_ms: int = 10_000
    expiration_sec: int = 86_400
    retry_max_ms: int = 300_000
    exclusive: bool = False


class ExchangeStopKeeper:
    def __init__(
        self, broker: Broker, repos: Repositories, bus: MessageBus, clock: Clock, *,
        executor: OrderExecutor | None = None, config: StopKeeperConfig | None = None,
    ) -> None:
        self._broker = broker
        self._repos = repos
        self._bus = bus
        self._clock = clock
        self.executor = executor  # needed by settle_fired to apply the fired sell's fills
        self.reconfigure(config or StopKeeperConfig())
        self._locks: dict[str, asyncio.Lock] = {}
        self._moved_ms: dict[str, int] = {}
        self._amounts: dict[str, Decimal] = {}  # amount of the resting stop, when known
        self._unprotected: dict[str, str] = {}  # symbol -> why its position has no stop
        self._retry_at: dict[str, int] = {}  # symbol -> when the next placement may be tried
        self._failures: dict[str, int] = {}
        self._reported: set[str] = set()  # unknown price orders already reported

    def reconfigure(self, config: StopKeeperConfig) -> None:
        """The distances and pacing, from the next move on (the cockpit's reload: a stop
        already resting stays where it is until it moves)."""
        self.config = config
        self.min_move = 1 + config.min_move_pct / 100
        self.min_interval_ms = config.min_interval_ms
        self.expiration_sec = config.expiration_sec
        self.retry_max_ms = config.retry_max_ms
        self.exclusive = config.exclusive
        self._limit_factor = 1 - config.limit_pct / 100
        # The resting stop is a backstop: a little under the client-side stop, so that the
        # bot's own exit acts first while it runs, and the exchange's only when it does not.
        self._backstop = 1 - config.offset_pct / 100

    def _lock(self, symbol: str) -> asyncio.Lock:
        return self._locks.setdefault(symbol, asyncio.Lock())

    def unprotected(self) -> dict[str, str]:
        """Open positions without a resting stop, with why (for /health, status, metrics)."""
        out = {}
        for symbol, amount in self._repos.positions.without_stop():  # cheap: /health asks
            try:
                min_amount = self._broker.market(symbol).min_amount
            except BrokerError:  # markets not loaded yet: nothing is known of it
                continue
            if Position(symbol, amount).is_open(min_amount):
                out[symbol] = self._unprotected.get(symbol, "no resting stop")
        return out

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
            self._protected(symbol)
            return
        amount = market.round_amount(pos.base_amount)
        trigger = market.round_price(level.price * self._backstop)
        now = self._clock.now_ms()
        if now - self._moved_ms.get(symbol, 0) < self.min_interval_ms:
            return  # throttled: the next call (every exits cycle) catches up
        if not pos.stop_order_id and now < self._retry_at.get(symbol, 0):
            return  # a placement failed: backing off
        if pos.stop_order_id:
            same_amount = await self._resting_amount(symbol, pos) == amount
            if same_amount and trigger < pos.stop_price * self.min_move and not self._due(pos):
                return
            # about to replace it: if it already fired, record that instead of losing it
            resting = await self._broker.fetch_stop(symbol, pos.stop_order_id)
            if resting is None or resting.status != "open":
                await self._settle(symbol, pos, resting)
                return
        await self._place(symbol, pos, amount, trigger, level.reason, now)

    def _due(self, pos: Position) -> bool:
        """The resting stop is past half its expiration: renew it."""
        rec = self._repos.stops.by_exchange_id(pos.stop_order_id)
        return rec is not None and (
            self._clock.now_ms() - rec.created_ms >= rec.expiration_sec * 500)

    async def _place(self, symbol: str, pos: Position, amount: Decimal, trigger: Decimal,
                     reason: str, now: int) -> None:
        limit = self._broker.market(symbol).round_price(trigger * self._limit_factor)
        self._moved_ms[symbol] = now
        rec = self._repos.stops.record(  # committed before the request leaves
            symbol=symbol, rule=RULE, trigger_price=trigger, limit_price=limit, amount=amount,
            expiration_sec=self.expiration_sec, now_ms=now)
        try:
            stop = await self._broker.place_stop(symbol, amount, trigger, limit,
                                                 expiration_sec=self.expiration_sec)
        except OrderRejected as exc:  # e.g. trigger above the price, or below the minimums
            self._repos.stops.finish(rec.id, "rejected", now)
            if _breached(exc) and await self._sell_now(symbol, reason, trigger):
                return
            self._failed(symbol, pos, f"placement rejected: {exc}", now)
            return
        except ExchangeUnavailable as exc:  # surely not sent
            self._repos.stops.finish(rec.id, "lost", now)
            self._failed(symbol, pos, f"exchange unavailable: {exc}", now)
            return
        except BrokerError as exc:  # may rest: recognised by its fields at the next reconcile
            self._failed(symbol, pos, f"placement outcome unknown: {exc}", now)
            return
        self._repos.stops.placed(rec.id, stop.id, now)
        old = pos.stop_order_id
        pos = self._repos.positions.get(symbol)
        pos.stop_order_id, pos.stop_price = stop.id, trigger
        self._repos.positions.save(pos)
        self._amounts[symbol] = amount
        self._protected(symbol)
        if old:  # placed first, then cancelled: never a moment without a stop
            await self._cancel_id(symbol, old)
        log.info("exchange_stop_placed", symbol=symbol, stop_id=stop.id, trigger=str(trigger),
                 limit=str(limit), amount=str(amount), replaced=old or None)
        self._bus.publish(StopMoved(now, symbol, stop.id, str(trigger), str(limit), str(amount),
                                    reason, old))

    async def _sell_now(self, symbol: str, reason: str, trigger: Decimal) -> bool:
        """The price is already at or under the stop's trigger (Gate: "Trigger.Price must <
        last_price"): the stop is breached, so the position is sold at market now."""
        if self.executor is None:
            return False
        log.warning("exchange_stop_breached_selling", symbol=symbol, trigger=str(trigger))
        self._bus.publish(ExitTriggered(self._clock.now_ms(), symbol, reason, trigger, trigger))
        result = await self.executor.exit(symbol, reason)
        return result.outcome is Outcome.SENT or result.detail == "exit in flight"

    def _failed(self, symbol: str, pos: Position, why: str, now: int) -> None:
        """A placement failed: with no stop resting the position is unprotected; retry later,
        backing off from the move interval (at least 1 s) to EXCHANGE_STOP_RETRY_MAX_SEC."""
        n = self._failures[symbol] = self._failures.get(symbol, 0) + 1
        wait = min(max(self.min_interval_ms, 1000) * 2 ** (n - 1), self.retry_max_ms)
        self._retry_at[symbol] = now + wait
        log.warning("exchange_stop_failed", symbol=symbol, error=why, retry_in_ms=wait,
                    unprotected=not pos.stop_order_id)
        if not pos.stop_order_id:
            self._unprotected[symbol] = why
            self._bus.publish(StopUnprotected(now, symbol, why, wait))

    def _protected(self, symbol: str) -> None:
        self._unprotected.pop(symbol, None)
        self._failures.pop(symbol, None)
        self._retry_at.pop(symbol, None)

    async def _resting_amount(self, symbol: str, pos: Position) -> Decimal:
        if symbol not in self._amounts:
            stop = await self._broker.fetch_stop(symbol, pos.stop_order_id)
            self._amounts[symbol] = stop.amount if stop and stop.status == "open" else ZERO
        return self._amounts[symbol]

    async def _cancel(self, symbol: str, pos: Position) -> None:
        if not pos.stop_order_id:
            return
        if await self._cancel_id(symbol, pos.stop_order_id):
            self._clear(symbol)
        else:  # gone already: it may have fired; settle it rather than forget it
            await self._settle(symbol, pos, await self._broker.fetch_stop(symbol,
                                                                          pos.stop_order_id))

    async def _cancel_id(self, symbol: str, stop_id: str) -> bool:
        """Cancel a stop; False when it was already gone (its record stays for settling)."""
        try:
            await self._broker.cancel_stop(symbol, stop_id)
        except OrderNotFound:  # already gone: fired, cancelled or expired
            log.info("exchange_stop_already_gone", symbol=symbol, stop_id=stop_id)
            return False
        rec = self._repos.stops.by_exchange_id(stop_id)
        if rec is not None:
            self._repos.stops.finish(rec.id, "cancelled", self._clock.now_ms())
        return True

    def _clear(self, symbol: str) -> None:
        pos = self._repos.positions.get(symbol)
        pos.stop_order_id, pos.stop_price = "", ZERO
        self._repos.positions.save(pos)
        self._amounts.pop(symbol, None)
        self._moved_ms.pop(symbol, None)  # the next position's first stop goes at once

    # the reconcile hook ----------------------------------------------------------------

    async def settle_fired(self, symbol: str) -> None:
        """Book fired stops; drop the stop of a closed position; recognise stops whose answer
        or id was lost; cancel our orphans; report price orders we cannot account for."""
        async with self._lock(symbol):
            pos = self._repos.positions.get(symbol)
            if pos.stop_order_id:
                stop = await self._broker.fetch_stop(symbol, pos.stop_order_id)
                if stop is None or stop.status != "open":
                    await self._settle(symbol, pos, stop)
                elif not pos.is_open(self._broker.market(symbol).min_amount):
                    await self._cancel(symbol, pos)
            await self._resolve(symbol)
            await self._sweep_unknown(symbol)
            pos = self._repos.positions.get(symbol)
            if not pos.is_open(self._broker.market(symbol).min_amount) or pos.stop_order_id:
                self._unprotected.pop(symbol, None)

    async def _book_fired(self, symbol: str, stop: StopOrderReport) -> bool:
        """Record a fired stop's sell as an EXIT order with its fills (once); False while the
        exchange does not show the sell yet."""
        if self.executor is None:
            return False
        report = await self._broker.fetch_order(symbol, exchange_order_id=stop.fired_order_id)
        if report is None:
            return False  # the exchange will know it soon; try again next pass
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
        return True

    async def _settle(self, symbol: str, pos: Position, stop: StopOrderReport | None) -> None:
        """The position's stop is no longer open: book it if it fired, then let it go."""
        rec = self._repos.stops.by_exchange_id(pos.stop_order_id)
        if stop is not None and stop.fired_order_id:
            if not await self._book_fired(symbol, stop):
                return
            status = "fired"
        else:
            status = stop.status if stop else "gone"
            log.warning("exchange_stop_gone", symbol=symbol, stop_id=pos.stop_order_id,
                        status=status)
        if rec is not None:
            self._repos.stops.finish(rec.id, status, self._clock.now_ms())
        self._clear(symbol)

    async def _resolve(self, symbol: str) -> None:
        """Every stop record not final, other than the position's own stop: find it (by its
        id, else by its fields), then book it if it fired, adopt it if the position has none,
        or cancel it as an orphan."""
        pos = self._repos.positions.get(symbol)
        records = [r for r in self._repos.stops.active(symbol)
                   if not (r.exchange_id and r.exchange_id == pos.stop_order_id)]
        if not records:
            return
        candidates: list[StopOrderReport] | None = None
        claimed = self._repos.stops.exchange_ids(symbol) | {pos.stop_order_id}
        for rec in records:
            now = self._clock.now_ms()
            stop: StopOrderReport | None
            if rec.exchange_id:
                stop = await self._broker.fetch_stop(symbol, rec.exchange_id)
            else:
                if candidates is None:
                    candidates = (await self._broker.fetch_stops(symbol)
                                  + await self._broker.fetch_stops(symbol, finished=True))
                stop = _match(rec, candidates, claimed)
                if stop is None:
                    if now - rec.created_ms > LOST_AFTER_MS:
                        log.info("exchange_stop_never_arrived", symbol=symbol, record=rec.id)
                        self._repos.stops.finish(rec.id, "lost", now)
                    continue
                claimed.add(stop.id)
                self._repos.stops.placed(rec.id, stop.id, now)
                log.warning("exchange_stop_recognised", symbol=symbol, record=rec.id,
                            stop_id=stop.id, status=stop.status)
            if stop is None:
                self._repos.stops.finish(rec.id, "gone", now)
            elif stop.status == "open":
                await self._adopt_or_cancel(symbol, rec, stop)
            elif stop.fired_order_id:
                if await self._book_fired(symbol, stop):
                    self._repos.stops.finish(rec.id, "fired", now)
            else:
                self._repos.stops.finish(rec.id, stop.status, now)

    async def _adopt_or_cancel(self, symbol: str, rec: StopRecord, stop: StopOrderReport) -> None:
        pos = self._repos.positions.get(symbol)
        if pos.is_open(self._broker.market(symbol).min_amount) and not pos.stop_order_id:
            pos.stop_order_id, pos.stop_price = stop.id, stop.trigger_price
            self._repos.positions.save(pos)
            self._protected(symbol)
            log.warning("exchange_stop_adopted", symbol=symbol, stop_id=stop.id)
            return
        log.warning("exchange_stop_orphan_cancelled", symbol=symbol, stop_id=stop.id)
        await self._cancel_id(symbol, stop.id)  # gone meanwhile: the next pass reads it

    async def _sweep_unknown(self, symbol: str) -> None:
        """Open price orders of the symbol that are none of ours: reported (and with
        EXCHANGE_STOPS_EXCLUSIVE cancelled): one could sell a position it was not meant for."""
        ours = self._repos.stops.exchange_ids(symbol) | {
            self._repos.positions.get(symbol).stop_order_id}
        for stop in await self._broker.fetch_stops(symbol):
            if stop.id in ours or (stop.id in self._reported and not self.exclusive):
                continue
            cancelled = False
            if self.exclusive:
                try:
                    await self._broker.cancel_stop(symbol, stop.id)
                    cancelled = True
                except OrderNotFound:
                    continue
            self._reported.add(stop.id)
            log.warning("exchange_stop_unknown", symbol=symbol, stop_id=stop.id,
                        trigger=str(stop.trigger_price), cancelled=cancelled)
            self._bus.publish(UnknownStopFound(self._clock.now_ms(), symbol, stop.id,
                                               str(stop.trigger_price), str(stop.amount),
                                               cancelled))


def _breached(exc: BaseException) -> bool:
    """Gate refused a `<=` trigger at or above the last price."""
    text = str(exc)
    return "AUTO_TRIGGER_PRICE_LESS_LAST" in text or "must < last_price" in text


def _match(rec: StopRecord, candidates: list[StopOrderReport],
           claimed: set[str]) -> StopOrderReport | None:
    """The exchange's price order that is this record: same trigger, amount and limit, taken
    no earlier than the record was made (less the clock skew); the oldest such."""
    found = [s for s in candidates
             if s.id not in claimed and s.trigger_price == rec.trigger_price
             and s.amount == rec.amount
             and (not s.limit_price or s.limit_price == rec.limit_price)
             and (not s.created_ms or s.created_ms >= rec.created_ms - SKEW_MS)]
    return min(found, key=lambda s: (s.created_ms, s.id)) if found else None
