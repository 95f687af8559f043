"""The order aggregate: its record, the events that move it, and the one table that says how.

Every change to an order is an `OrderEvent` applied through `TRANSITIONS[(status, event)]`:
what the bot did (recorded it before sending, lost the answer, found it missing at the
exchange) and what the exchange reported. The table holds the real world's rows too: a report
that arrives after the order was final (a fill reported after a cancel, an older answer after
reconcile settled it) leaves the record as it is while its fills still count, and an order the
bot did not send (a fired exchange stop) enters as DISCOVERED. A pair the table lacks raises
IllegalTransition. Stores keep each order's events, so an order's history can be read back.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from crypto_ai_bot.domain.errors import IllegalTransition
from crypto_ai_bot.domain.model import ZERO, Intent, OrderReport, OrderStatus, OrderType, Side


class OrderEvent(StrEnum):
    RECORDED = "recorded"  # written ahead, committed before the request leaves
    DISCOVERED = "discovered"  # an order the bot did not send: a fired exchange stop
    ACCEPTED = "accepted"  # resting on the book, nothing filled
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"  # definitely refused: it never reached the book
    OUTCOME_UNKNOWN = "outcome_unknown"  # no definite answer (timeout, reset, 5xx)
    NOT_FOUND = "not_found"  # reconcile: the exchange never saw it, so it never executed


S, E = OrderStatus, OrderEvent
_REPORTS = (E.ACCEPTED, E.PARTIALLY_FILLED, E.FILLED, E.CANCELED, E.EXPIRED, E.REJECTED,
            E.OUTCOME_UNKNOWN)
_FINAL = (S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED)

TRANSITIONS: dict[tuple[OrderStatus | None, OrderEvent], OrderStatus] = {
    # a new record
    (None, E.RECORDED): S.PENDING_SUBMIT,
    (None, E.DISCOVERED): S.OPEN,
    # sent, or maybe sent: whatever the exchange says it became
    **{(s, e): to for s in (S.PENDING_SUBMIT, S.UNKNOWN) for e, to in (
        (E.ACCEPTED, S.OPEN), (E.PARTIALLY_FILLED, S.PARTIALLY_FILLED), (E.FILLED, S.FILLED),
        (E.CANCELED, S.CANCELED), (E.EXPIRED, S.EXPIRED), (E.REJECTED, S.REJECTED),
        (E.OUTCOME_UNKNOWN, S.UNKNOWN), (E.NOT_FOUND, S.CANCELED),
    )},
    # on the book: it fills, ends, or its answer is lost; it is never refused after that
    **{(S.OPEN, e): to for e, to in (
        (E.ACCEPTED, S.OPEN), (E.PARTIALLY_FILLED, S.PARTIALLY_FILLED), (E.FILLED, S.FILLED),
        (E.CANCELED, S.CANCELED), (E.EXPIRED, S.EXPIRED), (E.OUTCOME_UNKNOWN, S.UNKNOWN),
    )},
    # part filled: never back to OPEN
    **{(S.PARTIALLY_FILLED, e): to for e, to in (
        (E.PARTIALLY_FILLED, S.PARTIALLY_FILLED), (E.FILLED, S.FILLED),
        (E.CANCELED, S.CANCELED), (E.EXPIRED, S.EXPIRED), (E.OUTCOME_UNKNOWN, S.UNKNOWN),
    )},
    # final: a later report is history only (see advance); its fills still count
    **{(s, e): s for s in _FINAL for e in _REPORTS},
}

_REPORTED: dict[OrderEvent, OrderStatus] = {
    E.ACCEPTED: S.OPEN, E.PARTIALLY_FILLED: S.PARTIALLY_FILLED, E.FILLED: S.FILLED,
    E.CANCELED: S.CANCELED, E.EXPIRED: S.EXPIRED, E.REJECTED: S.REJECTED,
    E.OUTCOME_UNKNOWN: S.UNKNOWN,
}
_OF_STATUS = {status: event for event, status in _REPORTED.items()}


def next_status(status: OrderStatus | None, event: OrderEvent) -> OrderStatus:
    """Where the table takes an order in `status` on `event`; IllegalTransition if nowhere."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(f"order in {status} cannot take {event}") from None


def report_event(report: OrderReport) -> OrderEvent:
    """The event an exchange report stands for. An order with fills is PARTIALLY_FILLED while
    it rests, and also while its fills do not yet add up to what it says it filled (the
    exchange's trade list lags): reconcile looks again until they do."""
    status = report.status
    fills = report.fills
    if report.filled > 0 and (status is S.OPEN or (status.is_final and (
            fills[0].amount if len(fills) == 1  # the usual answer: no generator to sum
            else sum((f.amount for f in fills), ZERO)) < report.filled)):
        return E.PARTIALLY_FILLED
    try:
        return _OF_STATUS[status]
    except KeyError:
        raise IllegalTransition(f"an exchange report cannot say {status}") from None


class OrderRecord(NamedTuple):
    """An order as the bot recorded it. Immutable; a NamedTuple, as are the exchange's reports,
    because a frozen dataclass of this size takes ten times longer to build."""

    client_order_id: str
    exchange_order_id: str
    symbol: str
    side: Side
    type: OrderType
    intent: Intent
    amount: Decimal | None
    cost: Decimal | None
    price: Decimal | None
    status: OrderStatus
    filled: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str
    idempotency_key: str
    reason: str
    error: str
    created_ms: int
    updated_ms: int


class OrderEventRecord(NamedTuple):
    """One event in an order's history, with the status it left the order in."""

    client_order_id: str
    ts_ms: int
    event: OrderEvent
    status: OrderStatus
    filled: Decimal
    detail: str = ""


def advance(
    current: OrderRecord,
    event: OrderEvent,
    now_ms: int,
    *,
    exchange_order_id: str | None = None,
    filled: Decimal | None = None,
    avg_price: Decimal | None = None,
    fee: Decimal | None = None,
    fee_currency: str | None = None,
    error: str | None = None,
) -> OrderRecord:
    """The record after `event`, with what changed (None keeps a field); `current` itself when
    a report finds the order final in another state: a late or stale answer changes nothing
    of the record. Built field by field: dataclasses.replace costs several times more."""
    c = current
    status = next_status(c.status, event)
    if c.status.is_final and _REPORTED.get(event) is not c.status:
        return c
    return OrderRecord(
        c.client_order_id, exchange_order_id or c.exchange_order_id, c.symbol, c.side, c.type,
        c.intent, c.amount, c.cost, c.price, status,
        c.filled if filled is None else filled,
        c.avg_price if avg_price is None else avg_price,
        c.fee if fee is None else fee,
        c.fee_currency if fee_currency is None else fee_currency,
        c.idempotency_key, c.reason, c.error if error is None else error, c.created_ms, now_ms,
    )


def new_record(
    event: OrderEvent, *, client_order_id: str, symbol: str, side: Side, type: OrderType,
    intent: Intent, amount: Decimal | None, cost: Decimal | None, price: Decimal | None,
    idempotency_key: str, reason: str, now_ms: int,
) -> OrderRecord:
    """A record as RECORDED (written ahead of its request) or DISCOVERED (found at the
    exchange)."""
    return OrderRecord(
        client_order_id, "", symbol, side, type, intent, amount, cost, price,
        next_status(None, event), ZERO, None, ZERO, "", idempotency_key, reason, "", now_ms,
        now_ms,
    )
