"""The Broker port. PaperBroker and CcxtBroker implement it; the pipeline knows nothing else.

Contract for create_order: a definite refusal raises OrderRejected (or a subclass); a request
that may have reached the exchange without a definite answer raises OrderOutcomeUnknown; a
request that surely did not leave raises ExchangeUnavailable. Never retried blindly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from crypto_ai_bot.domain.model import (
    Balance,
    FillReport,
    MarketInfo,
    OrderReport,
    OrderRequest,
    StopOrderReport,
    Ticker,
)


class Broker(Protocol):
    name: str  # exchange id; fills are unique per (name, trade_id)
    supports_exchange_stops: bool

    async def load_markets(self, symbols: list[str]) -> dict[str, MarketInfo]: ...

    def market(self, symbol: str) -> MarketInfo: ...

    async def clock_skew_ms(self) -> int:
        """The exchange's clock minus ours, in ms (0 where the venue shares our clock)."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_balance(self) -> dict[str, Balance]: ...

    async def create_order(self, request: OrderRequest) -> OrderReport: ...

    async def fetch_order(
        self, symbol: str, *, exchange_order_id: str = "", client_order_id: str = ""
    ) -> OrderReport | None:
        """The order by exchange id, else by client id (open, finished, or via its trades)."""
        ...

    async def fetch_open_orders(self, symbol: str) -> list[OrderReport]: ...

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> None: ...

    async def fetch_my_trades(self, symbol: str, since_ms: int) -> list[FillReport]:
        """Fills since a time, oldest first; an exchange may reach back only so far (Gate:
        30 days), and then answers what it has."""
        ...

    async def place_stop(
        self, symbol: str, amount: Decimal, trigger_price: Decimal, limit_price: Decimal,
        *, expiration_sec: int = 86_400,
    ) -> StopOrderReport:
        """A price-triggered limit sell that waits `expiration_sec` at most."""
        ...

    async def fetch_stop(self, symbol: str, stop_id: str) -> StopOrderReport | None: ...

    async def fetch_stops(self, symbol: str, *, finished: bool = False) -> list[StopOrderReport]:
        """The symbol's price orders, open (or the most recent finished), whoever placed them."""
        ...

    async def cancel_stop(self, symbol: str, stop_id: str) -> None:
        """Raises OrderNotFound when the stop is already gone (fired, cancelled, expired)."""
        ...

    async def arm_countdown(self, symbol: str, timeout_sec: int) -> None:
        """Keep the exchange's cancel-all timer armed (0 disarms); no-op where unsupported."""
        ...

    async def close(self) -> None: ...


class SimulatedBroker(Broker, Protocol):
    """A broker whose venue runs in this process (the paper venue): its balances can be read
    at no cost, which a backtest does after every fill."""

    def balance(self, currency: str) -> Decimal: ...
