"""place_order: write ahead, then send; apply what the exchange reports, exactly once.

1. The idempotency key is claimed and the order recorded as PENDING_SUBMIT in one committed
   transaction before the request leaves.
2. A definite answer moves the order on; a definite rejection releases the key; an unknown
   outcome leaves it UNKNOWN for reconcile to settle by client order id. Never resent.
3. Fills are stored UNIQUE per (exchange, trade_id) and applied to the position once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.latency import Origin
from crypto_ai_bot.application.send_gate import SendGate
from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.accounting import apply_fill
from crypto_ai_bot.domain.errors import BrokerError, OrderRejected, StorageError
from crypto_ai_bot.domain.errors import OrderOutcomeUnknown as Unanswered
from crypto_ai_bot.domain.events import (
    FillRecorded,
    OrderClosed,
    OrderFilled,
    OrderOutcomeUnknown,
    OrderPlaced,
    OrderSent,
)
from crypto_ai_bot.domain.events import OrderRejected as OrderRefused
from crypto_ai_bot.domain.ids import client_order_id, idempotency_key
from crypto_ai_bot.domain.model import (
    Balance,
    FillReport,
    Intent,
    MarketInfo,
    OrderReport,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from crypto_ai_bot.domain.orders import OrderEvent, OrderRecord, report_event
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import bind, get_logger, info_enabled

log = get_logger("execution")


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    fixed_amount_quote: Decimal
    idempotency_bucket_ms: int = 60_000
    idempotency_ttl_ms: int = 3_600_000
    exit_retry_ms: int = 5_000
    # an entry's balance check may reuse a read this recent, less what our orders sent since may
    # spend (what else moves the balance, a fired stop's sale, only adds); 0 = read every time
    balance_max_age_ms: int = 0


class Outcome(StrEnum):
    """What became of a request to place an order."""

    SENT = "sent"
    DUPLICATE = "duplicate"  # its idempotency key was taken: this decision was acted on
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # no definite answer: reconcile settles it, nothing is resent
    SKIPPED = "skipped"  # nothing sent (no position, dust, one in flight, risk, ...)


class PlaceResult(NamedTuple):
    """What happened to a request to place an order."""

    outcome: Outcome
    client_order_id: str = ""
    order: OrderRecord | None = None
    detail: str = ""


class OrderExecutor:
    def __init__(
        self,
        broker: Broker,
        repos: Repositories,
        bus: MessageBus,
        clock: Clock,
        config: ExecutionConfig,
        on_storage_fault: Callable[[str], None] | None = None,
    ) -> None:
        """on_storage_fault(what): told when the database refuses an order's write
        (TradingStates.storage_fault: trading halts in memory at once)."""
        self._broker = broker
        self._repos = repos
        self._bus = bus
        self._clock = clock
        self.config = config
        self._on_storage_fault = on_storage_fault
        # Held from sending an order until its answer is applied; reconcile takes it to read
        # balances, so that it never sees a fill on one side and not yet on the other.
        self.sending = SendGate()
        self._balances: tuple[int, dict[str, Balance]] | None = None  # (read at, balances)

    async def balances(self) -> dict[str, Balance]:
        """The account's balances for an entry's check: the last read while it is younger
        than `balance_max_age_ms`, less what the orders sent since may spend (a cancel reads
        again). Conservative: what else moves a balance, a fired stop's sale, only adds."""
        now = self._clock.now_ms()
        kept = self._balances
        if kept is not None and now - kept[0] < self.config.balance_max_age_ms:
            return dict(kept[1])
        balances = await self._broker.fetch_balance()
        self._balances = (now, dict(balances))
        return balances

    # entries and exits ----------------------------------------------------------------

    def _spend(self, symbol: str, side: Side, amount: Decimal | None,
               cost: Decimal | None) -> None:
        """Take what an order about to leave may spend off the balances kept."""
        kept = self._balances
        if kept is None:
            return
        market = self._broker.market(symbol)
        currency, spent = (market.quote, cost) if side is Side.BUY else (market.base, amount)
        held = kept[1].get(currency)
        if held is None or spent is None:
            self._balances = None
            return
        kept[1][currency] = Balance(currency, max(held.free - spent, Decimal(0)), held.used)

    async def enter(self, symbol: str, reason: str, origin: Origin | None = None) -> PlaceResult:
        """A market buy for FIXED_AMOUNT quote, at most once per symbol and time bucket.
        `origin`: what caused it, announced with the send (OrderSent)."""
        market = self._broker.market(symbol)
        now = self._clock.now_ms()
        key = idempotency_key(symbol, Side.BUY.value, now, self.config.idempotency_bucket_ms)
        cost = market.round_cost(self.config.fixed_amount_quote)
        return await self._submit(
            key, symbol, Side.BUY, Intent.ENTRY, reason, amount=None, cost=cost, origin=origin
        )

    def in_flight(self, symbol: str, intent: Intent) -> OrderRecord | None:
        """The oldest order of this intent not yet final, if any."""
        for rec in self._repos.orders.not_final(symbol):
            if rec.intent is intent:
                return rec
        return None

    def exit_in_flight(self, symbol: str) -> OrderRecord | None:
        return self.in_flight(symbol, Intent.EXIT)

    async def _release_stale_exit(self, rec: OrderRecord) -> bool:
        """Cancel an exit that rests on the book (a fired stop's limit the price fell through)
        so that a market exit can replace it; True once it is final. Unknown outcomes are left
        to reconcile."""
        resting = rec.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
        if not (resting and rec.exchange_order_id
                and self._clock.now_ms() - rec.updated_ms >= self.config.exit_retry_ms):
            return False
        log.warning("exit_resting_cancelled", symbol=rec.symbol,
                    client_order_id=rec.client_order_id, exchange_order_id=rec.exchange_order_id)
        after = await self.cancel(rec)
        return after is not None and after.status.is_final

    async def cancel(self, rec: OrderRecord) -> OrderRecord | None:
        """Cancel a resting order and record at once what the exchange then says of it (it may
        have filled meanwhile); None when the exchange cannot say yet (reconcile will)."""
        self._balances = None  # a cancel frees what the order held
        with bind(symbol=rec.symbol, client_order_id=rec.client_order_id):
            try:
                await self._broker.cancel_order(rec.symbol, rec.exchange_order_id)
            except BrokerError as exc:  # filled or gone meanwhile: the fetch below tells
                log.info("order_cancel_failed", error=str(exc))
            report = await self._broker.fetch_order(
                rec.symbol, exchange_order_id=rec.exchange_order_id,
                client_order_id=rec.client_order_id,
            )
        if report is None:
            return None
        return self.apply_report(report, rec.client_order_id)

    async def exit(self, symbol: str, reason: str, origin: Origin | None = None) -> PlaceResult:
        """Sell the whole position at market; keyed by position and attempt, one in flight."""
        market = self._broker.market(symbol)
        position = self._repos.positions.get(symbol)
        if not position.is_open(market.min_amount):
            return PlaceResult(Outcome.SKIPPED, detail="no open position")
        pending = self.exit_in_flight(symbol)
        if pending is not None:
            if not await self._release_stale_exit(pending):
                return PlaceResult(Outcome.SKIPPED, pending.client_order_id, pending,
                                   "exit in flight")
            position = self._repos.positions.get(symbol)
            if not position.is_open(market.min_amount):
                return PlaceResult(Outcome.SKIPPED, detail="the resting exit closed the position")
        if position.exit_attempt:  # a previous exit failed: do not hammer the exchange
            last_exit = self._repos.orders.last_created_ms(
                symbol, Intent.EXIT, include_rejected=True
            )
            if last_exit and self._clock.now_ms() - last_exit < self.config.exit_retry_ms:
                return PlaceResult(Outcome.SKIPPED, detail="waiting before the next exit attempt")
        amount = market.round_amount(position.base_amount)
        if amount < market.min_amount or amount <= 0:
            return PlaceResult(Outcome.SKIPPED, detail=f"position {position.base_amount} is dust")
        key = f"{symbol}:exit:{position.opened_ms}:{position.exit_attempt}"
        return await self._submit(
            key, symbol, Side.SELL, Intent.EXIT, reason, amount=amount, cost=None, origin=origin
        )

    async def _submit(
        self,
        key: str,
        symbol: str,
        side: Side,
        intent: Intent,
        reason: str,
        *,
        amount: Decimal | None,
        cost: Decimal | None,
        origin: Origin | None = None,
    ) -> PlaceResult:
        repos = self._repos
        now = self._clock.now_ms()
        try:
            with repos.transaction():
                # a key released by a rejection may act again, under a fresh client order id
                cid = client_order_id(f"{key}#{repos.orders.count_with_key(key)}")
                if not repos.idempotency.claim(key, cid, now, self.config.idempotency_ttl_ms):
                    held = repos.idempotency.client_order_id(key) or cid
                    log.info("order_duplicate_suppressed", symbol=symbol, key=key,
                             client_order_id=held)
                    return PlaceResult(Outcome.DUPLICATE, held, repos.orders.get(held),
                                       "key already used")
                repos.orders.insert(
                    OrderEvent.RECORDED, client_order_id=cid, symbol=symbol, side=side,
                    type=OrderType.MARKET,
                    intent=intent, amount=amount, cost=cost, price=None, idempotency_key=key,
                    reason=reason, now_ms=now,
                )
        except StorageError as exc:  # not recorded, so never sent
            log.error("order_not_recorded", symbol=symbol, side=side, intent=intent,
                      error=str(exc))
            self._storage_fault(f"order write failed: {exc}")
            return PlaceResult(Outcome.SKIPPED, detail=f"not sent: the database cannot record "
                                                       f"it ({exc})")
        try:
            return await self._send(cid, key, symbol, side, intent, reason, amount, cost, origin)
        except StorageError as exc:  # sent and written ahead; its answer is reconcile's now
            self._storage_fault(f"order update failed: {exc}")
            raise

    def _storage_fault(self, what: str) -> None:
        if self._on_storage_fault is not None:
            self._on_storage_fault(what)

    async def _send(self, cid: str, key: str, symbol: str, side: Side, intent: Intent,
                    reason: str, amount: Decimal | None, cost: Decimal | None,
                    origin: Origin | None = None) -> PlaceResult:
        request = OrderRequest(symbol, side, OrderType.MARKET, cid, amount, cost)
        sent: OrderSent | None = None
        with bind(symbol=symbol, client_order_id=cid):
            log.info("order_sending", side=side, intent=intent, amount=amount, cost=cost,
                     reason=reason)
            async with self.sending.sending(symbol):  # reconcile never reads mid-order
                self._spend(symbol, side, amount, cost)
                if origin is not None and self._bus.wants(OrderSent):
                    sent = OrderSent(self._clock.now_ms(), symbol, cid, origin.cause,
                                     origin.candle_ts_ms, origin.decided_ms, origin.elapsed_us())
                try:
                    report = await self._broker.create_order(request)
                except OrderRejected as exc:
                    self._publish_sent(sent)
                    return self._rejected(cid, key, symbol, side, intent, exc)
                except Exception as exc:  # outcome unknown: never resend with a new id
                    self._publish_sent(sent)
                    return self._unknown(cid, symbol, side, exc)
                record = self.apply_report(report, cid)  # recorded first, then announced
            if self._bus.wants(OrderPlaced):
                self._bus.publish(OrderPlaced(self._clock.now_ms(), symbol, cid, side, intent,
                                              report.exchange_order_id))
            self._publish_sent(sent)
            return PlaceResult(Outcome.SENT, cid, record)

    def _publish_sent(self, sent: OrderSent | None) -> None:
        if sent is not None:
            self._bus.publish(sent)

    def _rejected(
        self, cid: str, key: str, symbol: str, side: Side, intent: Intent, exc: OrderRejected
    ) -> PlaceResult:
        now = self._clock.now_ms()
        with self._repos.transaction():
            rec = self._repos.orders.apply(cid, OrderEvent.REJECTED, now, error=str(exc))
            self._repos.idempotency.release(key)
            if intent is Intent.EXIT:
                self._bump_exit_attempt(symbol)
        log.warning("order_rejected", error=str(exc), error_type=type(exc).__name__)
        self._bus.publish(OrderRefused(now, symbol, cid, side.value, str(exc),
                                       type(exc).__name__))
        self._bus.publish(OrderClosed(now, symbol, cid, side.value, OrderStatus.REJECTED))
        return PlaceResult(Outcome.REJECTED, cid, rec, str(exc))

    def _unknown(self, cid: str, symbol: str, side: Side, exc: Exception) -> PlaceResult:
        now = self._clock.now_ms()
        rec = self._repos.orders.apply(cid, OrderEvent.OUTCOME_UNKNOWN, now, error=str(exc))
        kind = "OrderOutcomeUnknown" if isinstance(exc, Unanswered) else type(exc).__name__
        log.warning("order_outcome_unknown", error=str(exc), error_type=type(exc).__name__)
        self._bus.publish(OrderOutcomeUnknown(now, symbol, cid, side.value, str(exc), kind))
        return PlaceResult(Outcome.UNKNOWN, cid, rec, str(exc))

    # applying exchange reports ---------------------------------------------------------

    def apply_report(self, report: OrderReport, cid: str | None = None) -> OrderRecord:
        """Record an exchange report on our order: status, new fills, the position."""
        repos, bus = self._repos, self._bus
        fills_wanted = bus.wants(FillRecorded)
        cid = cid or report.client_order_id
        market = self._broker.market(report.symbol)
        now = self._clock.now_ms()
        with repos.transaction():
            current = repos.orders.get(cid)
            if current is None:
                raise KeyError(f"no local order {cid}")
            position = repos.positions.get(report.symbol)
            new_fills = 0
            applied: list[tuple[FillReport, Decimal]] = []
            for fill in report.fills:
                # applied to a copy, kept only if the fill is new: UNIQUE(exchange, trade_id)
                after = position.copy()
                pnl = apply_fill(after, fill, market)
                if not repos.trades.add(self._broker.name, fill, pnl):
                    continue
                position = after
                new_fills += 1
                applied.append((fill, pnl))
                if fills_wanted:
                    bus.publish(FillRecorded(now, report.symbol, fill.side))
            if new_fills:
                repos.positions.save(position)
            # the table decides: a final order keeps its record (an older answer arriving
            # after reconcile settled it, or an order found late); its new fills still count
            record = repos.orders.apply(
                cid, report_event(report), now, exchange_order_id=report.exchange_order_id,
                filled=report.filled, avg_price=report.avg_price, fee=report.fee,
                fee_currency=report.fee_currency, current=current,
            )
            settled = record is current and current.status.is_final
            status = record.status
            if (record.intent is Intent.EXIT and status.is_final
                    and not current.status.is_final
                    and position.is_open(market.min_amount)):
                self._bump_exit_attempt(report.symbol)
        if applied and info_enabled(log):  # on record: now people may read of it
            for fill, pnl in applied:
                _log_fill(fill, pnl, market, cid, record.intent)
        if settled:
            return current
        if status.is_final and not current.status.is_final and bus.wants(OrderClosed):
            bus.publish(OrderClosed(now, report.symbol, cid, report.side, status))
        if new_fills and status is OrderStatus.FILLED and bus.wants(OrderFilled):
            bus.publish(OrderFilled(now, report.symbol, cid, report.side, report.filled,
                                    report.avg_price, report.fee, report.fee_currency,
                                    position.base_amount))
        return record

    def _bump_exit_attempt(self, symbol: str) -> None:
        position = self._repos.positions.get(symbol)
        position.exit_attempt += 1
        self._repos.positions.save(position)


def _log_fill(fill: FillReport, pnl: Decimal, market: MarketInfo, cid: str,
              intent: Intent) -> None:
    """One line per fill stored: price, amount and fee as people read them; an exit's also
    carries the trade's realised PnL (entry fees included, through the cost basis)."""
    extra = {"pnl_quote": display.money(pnl)} if fill.side is Side.SELL else {}
    log.info("fill", symbol=fill.symbol, side=fill.side, intent=intent,
             price=display.price(fill.price, market), amount=display.amount(fill.amount, market),
             cost_quote=display.money(fill.price * fill.amount),
             fee=display.fee(fill.fee, fill.fee_currency, market), fee_currency=fill.fee_currency,
             trade_id=fill.trade_id, client_order_id=cid, **extra)
