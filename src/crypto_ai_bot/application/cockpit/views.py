"""What the cockpit's reader answers: plain frozen values, exact Decimals, integer ms UTC (the
API turns them into its models, field for field)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class LoopBeat:
    name: str
    last_beat_ms: int
    age_ms: int


@dataclass(frozen=True, slots=True)
class SymbolStatus:
    symbol: str
    price: Decimal | None
    in_position: bool
    amount: Decimal
    entry_price: Decimal | None
    cost_quote: Decimal | None
    unrealised_pnl_quote: Decimal | None
    unrealised_pnl_pct: Decimal | None
    stop_price: Decimal | None
    stop_reason: str | None
    exchange_stop_resting: bool | None  # None: no exchange-side stops (paper)
    exchange_stop_price: Decimal | None
    unprotected_reason: str | None
    opened_ms: int | None
    trade_age_ms: int | None
    price_precision: int | None
    amount_precision: int | None
    entries_blocked: str | None
    last_signal: str | None
    candles_evaluated: int


@dataclass(frozen=True, slots=True)
class Status:
    now_ms: int
    mode: str
    label: str
    running: bool
    broker_ready: bool
    broker_error: str | None
    trading_state: str
    trading_reason: str
    started_ms: int | None
    quote: str
    loops: list[LoopBeat]
    symbols: list[SymbolStatus]


@dataclass(frozen=True, slots=True)
class Trade:
    id: str
    symbol: str
    entry_ms: int
    exit_ms: int
    entry_price: Decimal
    exit_price: Decimal
    amount: Decimal
    cost_quote: Decimal
    fees_quote: Decimal
    pnl_quote: Decimal
    pnl_pct: Decimal
    exit_reason: str  # signal, hard_stop, trailing_stop, exchange_stop, force_exit, ...
    exit_detail: str  # the exit order's own words
    duration_ms: int


@dataclass(frozen=True, slots=True)
class TradesPage:
    total: int
    items: list[Trade]


@dataclass(frozen=True, slots=True)
class OrderHistoryEntry:
    ts_ms: int
    event: str
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: str
    intent: str
    type: str
    status: str
    amount: Decimal | None
    cost: Decimal | None
    price: Decimal | None
    filled: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str
    reason: str
    error: str
    created_ms: int
    updated_ms: int
    events: list[OrderHistoryEntry]


@dataclass(frozen=True, slots=True)
class OrdersPage:
    items: list[OrderView]


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    currency: str
    free: Decimal
    used: Decimal
    total: Decimal
    value_quote: Decimal | None  # None: no price for it in the quote


@dataclass(frozen=True, slots=True)
class BalanceView:
    quote: str
    equity_quote: Decimal
    currencies: list[CurrencyBalance]
    as_of_ms: int
    source: str  # "broker", or "snapshot" (the last one stored) while the broker fails


@dataclass(frozen=True, slots=True)
class SymbolProfit:
    symbol: str
    trades: int
    wins: int
    realised_quote: Decimal


@dataclass(frozen=True, slots=True)
class Profit:
    quote: str
    realised_quote: Decimal
    unrealised_quote: Decimal
    total_quote: Decimal
    fees_quote: Decimal
    trades: int
    wins: int
    losses: int
    win_rate_pct: Decimal | None
    best: Trade | None
    worst: Trade | None
    by_symbol: list[SymbolProfit]


@dataclass(frozen=True, slots=True)
class PeriodPnl:
    start_ms: int
    label: str
    pnl_quote: Decimal
    trades: int


@dataclass(frozen=True, slots=True)
class Performance:
    period: str
    quote: str
    items: list[PeriodPnl]


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts_ms: int
    equity_quote: Decimal


@dataclass(frozen=True, slots=True)
class EquitySeries:
    quote: str
    points: list[EquityPoint]


@dataclass(frozen=True, slots=True)
class CandleView:
    ts_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class IndicatorPoint:
    ts_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class Marker:
    ts_ms: int  # the candle it belongs to
    side: str
    price: Decimal
    kind: str  # entry, or the exit's reason (signal, hard_stop, ...)
    time_ms: int  # when the fill happened


@dataclass(frozen=True, slots=True)
class Chart:
    symbol: str
    timeframe: str
    candles: list[CandleView]
    indicators: dict[str, list[IndicatorPoint]]
    markers: list[Marker]
    stop_price: Decimal | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts_ms: int
    topic: str
    symbol: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventsPage:
    items: list[AuditEntry]


@dataclass(frozen=True, slots=True)
class ConfigView:
    settings: dict[str, Any]


class NotFound(LookupError):
    """An unknown symbol (or timeframe): the message names what is known."""
