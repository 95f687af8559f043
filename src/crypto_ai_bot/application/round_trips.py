"""Closed round trips built from the stored fills: what the cockpit lists as trades.

A trip opens with the first buy of a flat symbol and closes with the sell that leaves no more
than the market's minimum amount (dust cannot be sold). Its PnL is the realised PnL the fills
stored (the entry's fees are in it, through the cost basis); its fees are converted to quote
(a base fee at its fill's price; a fee in a third currency cannot be priced and counts 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from crypto_ai_bot.domain.model import ZERO, Side, split_symbol
from crypto_ai_bot.ports.storage import TradeRecord

_HUNDRED = Decimal(100)
_PCT = Decimal("0.0001")
# Without the market's minimum amount (markets not loaded), what is left below this share of
# what was bought is dust.
_DUST_SHARE = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class RoundTrip:
    id: str  # the entry order's client order id
    symbol: str
    entry_ms: int
    exit_ms: int
    entry_price: Decimal  # average fill price of the buys
    exit_price: Decimal  # average fill price of the sells
    amount: Decimal  # base bought
    cost_quote: Decimal  # quote paid for it, fees excluded
    fees_quote: Decimal
    pnl_quote: Decimal
    pnl_pct: Decimal  # of cost_quote
    exit_order_id: str  # the client order id of the sell that closed it
    fills: int
    exit_exchange_order_id: str = ""  # the same sell's id at the exchange

    @property
    def duration_ms(self) -> int:
        return self.exit_ms - self.entry_ms


def fee_quote(t: TradeRecord) -> Decimal:
    base, quote = split_symbol(t.symbol)
    if t.fee_currency == quote:
        return t.fee
    if t.fee_currency == base:
        return t.fee * t.price
    return ZERO


@dataclass(slots=True)
class _Open:
    id: str
    entry_ms: int
    bought: Decimal = ZERO
    bought_quote: Decimal = ZERO
    sold: Decimal = ZERO
    sold_quote: Decimal = ZERO
    held: Decimal = ZERO
    fees: Decimal = ZERO
    pnl: Decimal = ZERO
    fills: int = 0

    def close(self, symbol: str, t: TradeRecord) -> RoundTrip:
        entry = self.bought_quote / self.bought if self.bought else ZERO
        exit_ = self.sold_quote / self.sold if self.sold else ZERO
        pct = (self.pnl / self.bought_quote * _HUNDRED).quantize(_PCT) if self.bought_quote \
            else ZERO
        return RoundTrip(self.id, symbol, self.entry_ms, t.ts_ms, entry, exit_, self.bought,
                         self.bought_quote, self.fees, self.pnl, pct, t.client_order_id,
                         self.fills, t.exchange_order_id)


def round_trips(
    fills: Iterable[TradeRecord], dust: Callable[[str], Decimal | None],
) -> tuple[list[RoundTrip], Mapping[str, str]]:
    """The closed trips, oldest exit first, and the open trip's entry order id per symbol.

    fills: in time order; dust(symbol): the market's minimum amount, None when not known.
    A sell of a symbol that holds nothing (a position from before the database) is skipped.
    """
    open_: dict[str, _Open] = {}
    done: list[RoundTrip] = []
    for t in fills:
        trip = open_.get(t.symbol)
        base = split_symbol(t.symbol)[0]
        base_fee = t.fee if t.fee_currency == base else ZERO
        if t.side is Side.BUY:
            if trip is None:
                trip = open_[t.symbol] = _Open(t.client_order_id, t.ts_ms)
            trip.bought += t.amount
            trip.bought_quote += t.price * t.amount
            trip.held += t.amount - base_fee
        else:
            if trip is None:
                continue
            trip.sold += t.amount
            trip.sold_quote += t.price * t.amount
            trip.held -= t.amount + base_fee
            trip.pnl += t.realized_pnl
        trip.fees += fee_quote(t)
        trip.fills += 1
        if t.side is Side.SELL:
            limit = dust(t.symbol)
            if limit is None:
                limit = trip.bought * _DUST_SHARE
            if trip.held <= limit:
                done.append(trip.close(t.symbol, t))
                del open_[t.symbol]
    return done, {s: o.id for s, o in open_.items()}


def exit_kind(reason: str) -> str:
    """The machine name of an exit order's reason: signal, hard_stop, trailing_stop,
    exchange_stop, force_exit, dead_mans_switch, or other."""
    r = reason.strip().lower()
    if r.startswith("signal"):
        return "signal"
    if r.startswith(("hard_stop", "trailing_stop", "force_exit")):
        return r.split(":", 1)[0].strip()
    if r.startswith("exchange stop"):
        return "exchange_stop"
    if r.startswith("dead man"):
        return "dead_mans_switch"
    return "other"
