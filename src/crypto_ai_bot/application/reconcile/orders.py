"""OrdersReconciler: every local order not final is settled against the exchange."""

from __future__ import annotations

from dataclasses import dataclass, field

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.execution import OrderExecutor
from crypto_ai_bot.domain.events import OrderSettled, UnknownOrderFound
from crypto_ai_bot.domain.model import Intent, OrderStatus
from crypto_ai_bot.domain.orders import OrderEvent
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("reconcile.orders")

_UNSENT = (OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN)
NOT_FOUND = "not found at the exchange: the request never executed"
_RECHECK_MS = 86_400_000  # how far back orders closed as not found are looked for again


@dataclass(slots=True)
class OrdersResult:
    checked: int = 0
    settled: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # open on the exchange, unknown to us


class OrdersReconciler:
    def __init__(
        self, broker: Broker, repos: Repositories, executor: OrderExecutor, bus: MessageBus,
        clock: Clock, *, not_found_grace_ms: int,
    ) -> None:
        self._broker = broker
        self._repos = repos
        self._executor = executor
        self._bus = bus
        self._clock = clock
        self._grace_ms = not_found_grace_ms

    async def run(self, symbol: str, *, settle_before_ms: int | None = None) -> OrdersResult:
        """Settle open/pending/unknown orders of a symbol.

        An order that was never seen by the exchange is closed as CANCELED once it is older
        than the grace period, or at once when it predates `settle_before_ms` (start-up: no
        request of this process can still be in flight for it).
        """
        res = OrdersResult()
        now = self._clock.now_ms()
        for rec in self._repos.orders.not_final(symbol):
            res.checked += 1
            report = await self._broker.fetch_order(
                symbol, exchange_order_id=rec.exchange_order_id,
                client_order_id=rec.client_order_id,
            )
            if report is not None:
                updated = self._executor.apply_report(report, rec.client_order_id)
                if updated.status != rec.status:
                    res.settled.append(rec.client_order_id)
                    self._bus.publish(OrderSettled(now, symbol, rec.client_order_id,
                                                   rec.status.value, updated.status.value))
                continue
            old_enough = now - rec.created_ms >= self._grace_ms or (
                settle_before_ms is not None and rec.created_ms < settle_before_ms
            )
            if rec.status in _UNSENT and old_enough:
                with self._repos.transaction():
                    self._repos.orders.apply(
                        rec.client_order_id, OrderEvent.NOT_FOUND, now, error=NOT_FOUND,
                    )
                    if rec.intent is Intent.EXIT:
                        pos = self._repos.positions.get(symbol)
                        pos.exit_attempt += 1
                        self._repos.positions.save(pos)
                res.not_found.append(rec.client_order_id)
                log.warning("order_not_found_settled", symbol=symbol,
                            client_order_id=rec.client_order_id, was=rec.status.value)
                self._bus.publish(OrderSettled(now, symbol, rec.client_order_id,
                                               rec.status.value, OrderStatus.CANCELED.value,
                                               "not found at exchange"))
        known = {r.client_order_id for r in self._repos.orders.recent(500, symbol)}
        known_ids = {r.exchange_order_id for r in self._repos.orders.recent(500, symbol)}
        for o in await self._broker.fetch_open_orders(symbol):
            if o.client_order_id not in known and o.exchange_order_id not in known_ids:
                res.foreign.append(o.exchange_order_id)
                self._bus.publish(UnknownOrderFound(now, symbol, o.exchange_order_id,
                                                    o.client_order_id, o.side.value,
                                                    str(o.amount)))
        return res

    async def recheck_not_found(self, symbol: str) -> list[str]:
        """Look again for orders closed as never executed (last day): an exchange that showed
        an order late must not leave its fills, and so a position, unrecorded."""
        found: list[str] = []
        since = self._clock.now_ms() - _RECHECK_MS
        for rec in self._repos.orders.closed_with_error(symbol, NOT_FOUND, since):
            report = await self._broker.fetch_order(
                symbol, exchange_order_id=rec.exchange_order_id,
                client_order_id=rec.client_order_id,
            )
            if report is not None and report.fills:
                self._executor.apply_report(report, rec.client_order_id)
                found.append(rec.client_order_id)
                log.error("order_found_late", symbol=symbol,
                          client_order_id=rec.client_order_id, filled=str(report.filled))
        return found
