"""The models of /api/v1: every answer and body, so that /openapi.json describes them exactly.
Money, prices and amounts are exact decimal strings; times integer ms UTC. Each answer mirrors
a view of application/cockpit field for field."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

from crypto_ai_bot.application.health import printable

_DEC_SCHEMA = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$",
               "description": "an exact decimal, as a string"}
Dec = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str),
                WithJsonSchema(_DEC_SCHEMA)]
Symbol = Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9]+/[A-Za-z0-9]+$",
                              description="a market, such as BTC/USDT",
                              examples=["BTC/USDT"])]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# answers -------------------------------------------------------------------------------

class Detail(Model):
    detail: str


class FieldError(Model):
    loc: list[str | int]
    msg: str
    type: str


class ValidationFailed(Model):
    detail: list[FieldError]


class LoopBeat(Model):
    name: str
    last_beat_ms: int
    age_ms: int


class SymbolStatus(Model):
    symbol: str
    price: Dec | None
    in_position: bool
    amount: Dec
    entry_price: Dec | None
    cost_quote: Dec | None
    unrealised_pnl_quote: Dec | None
    unrealised_pnl_pct: Dec | None
    stop_price: Dec | None
    stop_reason: str | None
    exchange_stop_resting: bool | None
    exchange_stop_price: Dec | None
    unprotected_reason: str | None
    opened_ms: int | None
    trade_age_ms: int | None
    price_precision: int | None
    amount_precision: int | None
    entries_blocked: str | None
    last_signal: str | None
    candles_evaluated: int


class Status(Model):
    now_ms: int
    mode: Literal["paper", "live"]
    label: Literal["[PAPER]", "[LIVE]"]
    running: bool
    broker_ready: bool
    broker_error: str | None
    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"]
    trading_reason: str
    started_ms: int | None
    quote: str
    loops: list[LoopBeat]
    symbols: list[SymbolStatus]


class Trade(Model):
    id: str
    symbol: str
    entry_ms: int
    exit_ms: int
    entry_price: Dec
    exit_price: Dec
    amount: Dec
    cost_quote: Dec
    fees_quote: Dec
    pnl_quote: Dec
    pnl_pct: Dec
    exit_reason: str
    exit_detail: str
    duration_ms: int


class TradesPage(Model):
    total: int
    items: list[Trade]


class OrderHistoryEntry(Model):
    ts_ms: int
    event: str
    status: str
    detail: str


class Order(Model):
    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: Literal["buy", "sell"]
    intent: Literal["entry", "exit"]
    type: str
    status: str
    amount: Dec | None
    cost: Dec | None
    price: Dec | None
    filled: Dec
    avg_price: Dec | None
    fee: Dec
    fee_currency: str
    reason: str
    error: str
    created_ms: int
    updated_ms: int
    events: list[OrderHistoryEntry]


class OrdersPage(Model):
    items: list[Order]


class CurrencyBalance(Model):
    currency: str
    free: Dec
    used: Dec
    total: Dec
    value_quote: Dec | None


class Balance(Model):
    quote: str
    equity_quote: Dec
    currencies: list[CurrencyBalance]
    as_of_ms: int
    source: Literal["broker", "snapshot"]


class SymbolProfit(Model):
    symbol: str
    trades: int
    wins: int
    realised_quote: Dec


class Profit(Model):
    quote: str
    realised_quote: Dec
    unrealised_quote: Dec
    total_quote: Dec
    fees_quote: Dec
    trades: int
    wins: int
    losses: int
    win_rate_pct: Dec | None
    best: Trade | None
    worst: Trade | None
    by_symbol: list[SymbolProfit]


class PeriodPnl(Model):
    start_ms: int
    label: str
    pnl_quote: Dec
    trades: int


class Performance(Model):
    period: Literal["day", "week", "month"]
    quote: str
    items: list[PeriodPnl]


class EquityPoint(Model):
    ts_ms: int
    equity_quote: Dec


class Equity(Model):
    quote: str
    points: list[EquityPoint]


class CandleOut(Model):
    ts_ms: int
    open: Dec
    high: Dec
    low: Dec
    close: Dec
    volume: Dec


class IndicatorPoint(Model):
    ts_ms: int
    value: float


class Marker(Model):
    ts_ms: int
    side: Literal["buy", "sell"]
    price: Dec
    kind: str
    time_ms: int


class Chart(Model):
    symbol: str
    timeframe: str
    candles: list[CandleOut]
    indicators: dict[str, list[IndicatorPoint]]
    markers: list[Marker]
    stop_price: Dec | None


class AuditEntry(Model):
    id: int
    ts_ms: int
    topic: str
    symbol: str
    payload: dict[str, Any]


class EventsPage(Model):
    items: list[AuditEntry]


class ConfigOut(Model):
    settings: dict[str, Any]


class ControlAnswer(Model):
    ok: bool
    message: str
    sent: bool
    client_order_id: str | None
    reasons: list[str]
    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"] | None
    running: bool | None
    changed: dict[str, str]
    refused: list[str]


# bodies --------------------------------------------------------------------------------

def _printable_text(v: str) -> str:
    return printable(v) or ""


class ReasonBody(Model):
    reason: str = Field(default="", max_length=200)

    @field_validator("reason")
    @classmethod
    def _printable(cls, v: str) -> str:
        """Shown on /health and the dashboard: no control characters."""
        return _printable_text(v)


class HaltBody(ReasonBody):
    reason: str = Field(min_length=1, max_length=200)


class SymbolBody(Model):
    symbol: Symbol
