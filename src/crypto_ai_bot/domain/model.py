"""Domain values: small frozen dataclasses and NamedTuples, money in Decimal, ids as str."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import NamedTuple

ZERO = Decimal(0)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class Intent(StrEnum):
    """Why an order exists: to open a position or to close it."""

    ENTRY = "entry"
    EXIT = "exit"


class OrderStatus(StrEnum):
    PENDING_SUBMIT = "PENDING_SUBMIT"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # exits only
    HALTED = "HALTED"  # nothing new


class StopReason(StrEnum):
    """Which stop a level belongs to; also the exit reason of the sell it brings."""

    HARD_STOP = "hard_stop"
    TRAILING_STOP = "trailing_stop"
    ROI = "roi"  # take-profit by trade age (a strategy's minimal_roi)


class ExitReason(StrEnum):
    """Why a position was closed (a backtest trade's exit_reason)."""

    SIGNAL = "signal"
    HARD_STOP = "hard_stop"
    TRAILING_STOP = "trailing_stop"
    EXCHANGE_STOP = "exchange_stop"
    ROI = "roi"
    END_OF_DATA = "end_of_data"  # a backtest sells what is still held at the last close


class StopLevel(NamedTuple):
    price: Decimal
    reason: StopReason


class Action(StrEnum):
    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


def split_symbol(symbol: str) -> tuple[str, str]:
    base, quote = symbol.split("/")
    return base, quote


class Candle(NamedTuple):
    """One closed OHLCV candle; ts_ms is its open time. A tuple: cheap to build by the 100k."""

    ts_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def bar(self) -> Bar:
        return Bar(self.ts_ms, float(self.open), float(self.high), float(self.low),
                   float(self.close), float(self.volume))


class Bar(NamedTuple):
    """What a strategy sees of a closed candle: floats for indicators, which never become money.

    Each float is the nearest to the candle's Decimal (and a candle read from a file of floats
    is that file's floats), so live, paper and backtest strategies see the same numbers.
    """

    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class Ticker(NamedTuple):
    """Last price and the best bid and ask. A tuple: backtests build one per candle."""

    symbol: str
    ts_ms: int
    last: Decimal
    bid: Decimal
    ask: Decimal

    @property
    def spread_pct(self) -> Decimal:
        mid = (self.bid + self.ask) / 2
        return ZERO if mid <= 0 else (self.ask - self.bid) / mid * 100


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """Trading rules of one market: precision steps and minimums."""

    symbol: str
    base: str
    quote: str
    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal = ZERO
    min_cost: Decimal = ZERO

    def round_amount(self, amount: Decimal) -> Decimal:
        """Floor to the amount step: never sell or buy more than we have or meant."""
        return _quantize(amount, self.amount_step, ROUND_DOWN)

    def round_price(self, price: Decimal) -> Decimal:
        return _quantize(price, self.price_step, ROUND_HALF_EVEN)

    def round_cost(self, cost: Decimal) -> Decimal:
        """Quote amounts (market buys by cost) follow the price precision."""
        return _quantize(cost, self.price_step, ROUND_DOWN)


def _quantize(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=rounding) * step


class Balance(NamedTuple):
    currency: str
    free: Decimal
    used: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.used


class OrderRequest(NamedTuple):
    """A command to the broker. Market buys carry `cost` (quote), sells carry `amount` (base)."""

    symbol: str
    side: Side
    type: OrderType
    client_order_id: str
    amount: Decimal | None = None
    cost: Decimal | None = None
    price: Decimal | None = None


class FillReport(NamedTuple):
    """One execution as the exchange reports it."""

    trade_id: str
    symbol: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    ts_ms: int
    exchange_order_id: str = ""
    client_order_id: str = ""


class OrderReport(NamedTuple):
    """An order as the exchange sees it now."""

    exchange_order_id: str
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    status: OrderStatus
    amount: Decimal
    filled: Decimal
    cost: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str
    ts_ms: int
    fills: tuple[FillReport, ...] = ()


@dataclass(frozen=True, slots=True)
class StopOrderReport:
    """An exchange-side price-triggered order (the backstop stop)."""

    id: str
    symbol: str
    trigger_price: Decimal
    amount: Decimal
    status: str  # open | finished | cancelled | failed | expired
    fired_order_id: str = ""
    limit_price: Decimal = ZERO  # the sell it places when it fires (0: not known)
    created_ms: int = 0  # when the exchange took it (0: not known)


@dataclass(frozen=True, slots=True)
class Signal:
    """What a strategy concluded from a candle."""

    action: Action
    reason: str


class Decision(NamedTuple):
    """A buy or sell signal placed in time and context: what the pipeline acts on."""

    symbol: str
    action: Action
    reason: str
    ts_ms: int
    price: Decimal
    candle_ts_ms: int


@dataclass(slots=True)
class Position:
    """A long position; entry and peak persist so that stops survive restarts."""

    symbol: str
    base_amount: Decimal = ZERO
    cost_basis: Decimal = ZERO  # quote paid for base_amount, fees included (for PnL)
    entry_price: Decimal = ZERO  # average fill price of the entry, fees excluded (for stops)
    peak: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    opened_ms: int = 0
    updated_ms: int = 0
    exit_attempt: int = 0
    stop_order_id: str = ""
    stop_price: Decimal = ZERO

    @property
    def entry_avg(self) -> Decimal:
        return self.cost_basis / self.base_amount if self.base_amount > 0 else ZERO

    def is_open(self, dust: Decimal = ZERO) -> bool:
        return self.base_amount > dust

    def copy(self) -> Position:
        """A detached copy (what dataclasses.replace does, several times faster)."""
        return Position(
            self.symbol, self.base_amount, self.cost_basis, self.entry_price, self.peak,
            self.realized_pnl, self.opened_ms, self.updated_ms, self.exit_attempt,
            self.stop_order_id, self.stop_price,
        )
