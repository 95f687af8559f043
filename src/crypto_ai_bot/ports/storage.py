"""The storage port: one Protocol per repository, and the unit of work that bundles them.

Two implementations, sharing nothing: adapters/storage/sqlite (the trading process: every
write goes to a SQLite file) and adapters/storage/memory (backtests: dicts, thrown away with
the run). tests/unit/adapters/storage holds both to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from crypto_ai_bot.domain.model import (
    Balance,
    Candle,
    FillReport,
    Intent,
    OrderType,
    Position,
    Side,
    TradingState,
)
from crypto_ai_bot.domain.orders import OrderEvent, OrderEventRecord, OrderRecord

TRADING_STATE_KEY = "trading_state"  # where every StateRepository keeps the trading state
TRADING_REASON_KEY = "trading_state_reason"


class TradeRecord(NamedTuple):
    """A fill as stored, with the PnL it realised."""

    exchange: str
    trade_id: str
    client_order_id: str
    exchange_order_id: str
    symbol: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    realized_pnl: Decimal
    ts_ms: int


@dataclass(frozen=True, slots=True)
class AuditRecord:
    ts_ms: int
    topic: str
    symbol: str
    payload: dict[str, Any]
    id: int = 0  # its place in the log, from 1 up


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    symbol: str
    timeframe: str
    first_ms: int
    last_ms: int
    count: int


STOP_ACTIVE = ("recorded", "placed")  # a stop record not final: it may rest on the exchange


@dataclass(frozen=True, slots=True)
class StopRecord:
    """An exchange-side stop as the bot recorded it before sending (write-ahead), then the
    exchange id it got back; `status` is recorded | placed | fired | cancelled | expired |
    failed | rejected | lost (never reached the exchange)."""

    id: int
    symbol: str
    rule: str
    trigger_price: Decimal
    limit_price: Decimal
    amount: Decimal
    expiration_sec: int
    created_ms: int
    exchange_id: str
    status: str
    updated_ms: int

    @property
    def active(self) -> bool:
        return self.status in STOP_ACTIVE


class StopsRepository(Protocol):
    def record(
        self, *, symbol: str, rule: str, trigger_price: Decimal, limit_price: Decimal,
        amount: Decimal, expiration_sec: int, now_ms: int,
    ) -> StopRecord:
        """A stop about to be sent, committed before its request leaves."""
        ...

    def placed(self, record_id: int, exchange_id: str, now_ms: int) -> None:
        """The exchange took it under this id."""
        ...

    def finish(self, record_id: int, status: str, now_ms: int) -> None: ...

    def get(self, record_id: int) -> StopRecord | None: ...

    def by_exchange_id(self, exchange_id: str) -> StopRecord | None: ...

    def active(self, symbol: str | None = None) -> list[StopRecord]:
        """Records not final (recorded or placed), oldest first."""
        ...

    def exchange_ids(self, symbol: str) -> set[str]:
        """Every exchange id the bot's stops of a symbol ever got."""
        ...


class OrdersRepository(Protocol):
    def insert(
        self, event: OrderEvent, *, client_order_id: str, symbol: str, side: Side,
        type: OrderType, intent: Intent, amount: Decimal | None, cost: Decimal | None,
        price: Decimal | None, idempotency_key: str, reason: str, now_ms: int,
    ) -> OrderRecord:
        """A new order, RECORDED (before its request leaves) or DISCOVERED."""
        ...

    def get(self, client_order_id: str) -> OrderRecord | None: ...

    def apply(
        self, client_order_id: str, event: OrderEvent, now_ms: int, *,
        exchange_order_id: str | None = None, filled: Decimal | None = None,
        avg_price: Decimal | None = None, fee: Decimal | None = None,
        fee_currency: str | None = None, error: str | None = None,
        current: OrderRecord | None = None,
    ) -> OrderRecord:
        """Move the order through the transition table and store the event; `current`
        spares a read when the caller holds the record inside its transaction."""
        ...

    def events(self, client_order_id: str) -> list[OrderEventRecord]:
        """The order's history, oldest first."""
        ...

    def not_final(self, symbol: str | None = None) -> list[OrderRecord]:
        """Orders not yet final, oldest first (recording order within a millisecond)."""
        ...

    def closed_with_error(self, symbol: str, error: str, since_ms: int) -> list[OrderRecord]: ...

    def recent(self, limit: int = 50, symbol: str | None = None) -> list[OrderRecord]: ...

    def count_since(self, since_ms: int, symbol: str | None = None) -> int:
        """Orders created since a time, rejected ones excluded (they never reached the book)."""
        ...

    def last_created_ms(
        self, symbol: str, intent: Intent | None = None, *, include_rejected: bool = False
    ) -> int | None: ...

    def count_with_key(self, idempotency_key: str) -> int: ...

    def count(self) -> int: ...


class TradesRepository(Protocol):
    def exists(self, exchange: str, trade_id: str) -> bool: ...

    def add(self, exchange: str, fill: FillReport, realized_pnl: Decimal) -> bool:
        """Store a fill once per (exchange, trade_id); False when it was already there."""
        ...

    def for_order(self, client_order_id: str) -> list[TradeRecord]: ...

    def between(
        self, start_ms: int, end_ms: int, symbol: str | None = None
    ) -> list[TradeRecord]: ...

    def realized_pnl_between(self, start_ms: int, end_ms: int) -> Decimal: ...

    def count(self) -> int: ...


class PositionsRepository(Protocol):
    """Reads return copies: a change counts once it is saved."""

    def get(self, symbol: str) -> Position: ...

    def save(self, p: Position) -> None: ...

    def all(self) -> list[Position]: ...

    def without_stop(self) -> list[tuple[str, Decimal]]:
        """(symbol, base amount) of every position with an amount and no resting stop
        recorded: what /health asks at every call, without reading whole positions."""
        ...


class IdempotencyRepository(Protocol):
    def claim(self, key: str, client_order_id: str, now_ms: int, ttl_ms: int) -> bool:
        """True when the key was free (or expired) and is now held."""
        ...

    def release(self, key: str) -> None: ...

    def purge_expired(self, now_ms: int) -> int: ...

    def client_order_id(self, key: str) -> str | None: ...

    def exists(self, key: str) -> bool: ...


class StateRepository(Protocol):
    """Small facts: the trading state with its reason, the balance snapshot, heartbeats."""

    def get(self, key: str, default: str = "") -> str: ...

    def set(self, key: str, value: str, now_ms: int) -> None: ...

    def trading_state(self) -> TradingState: ...

    def trading_state_reason(self) -> str: ...

    def set_trading_state(self, state: TradingState, reason: str, now_ms: int) -> None: ...

    def save_balances(self, balances: dict[str, Balance], now_ms: int) -> None: ...

    def balances(self) -> dict[str, Balance]: ...


class AuditRepository(Protocol):
    def record(
        self, ts_ms: int, topic: str, payload: dict[str, Any], symbol: str = ""
    ) -> None: ...

    def recent(self, limit: int = 100, topic: str | None = None) -> list[AuditRecord]: ...

    def query(
        self, limit: int = 100, *, topic: str | None = None, symbol: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """Newest first, filtered; before_id pages back (the records older than that id)."""
        ...

    def count(self, topic: str | None = None) -> int: ...


class MarketDataRepository(Protocol):
    def upsert(self, symbol: str, timeframe: str, candles: Iterable[Candle]) -> int: ...

    def candles(
        self, symbol: str, timeframe: str, start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]: ...

    def last_ts(self, symbol: str, timeframe: str) -> int | None: ...

    def series(self) -> list[SeriesSummary]: ...

    def timestamps(self, symbol: str, timeframe: str) -> list[int]: ...


class Repositories(Protocol):
    """The unit of work: every repository, and a transaction over all of them."""

    @property
    def orders(self) -> OrdersRepository: ...

    @property
    def trades(self) -> TradesRepository: ...

    @property
    def positions(self) -> PositionsRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def state(self) -> StateRepository: ...

    @property
    def market_data(self) -> MarketDataRepository: ...

    @property
    def stops(self) -> StopsRepository: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together or not at all (in memory: nothing to commit, and
        nothing is rolled back)."""
        ...
