"""CcxtBroker: the live broker, Gate.io API v4 spot through ccxt's async client.

Orders, trades and stops go through ccxt's signed Gate endpoints (`private_spot_*`) with bodies
we build from Decimal strings: ccxt's createOrder refuses a `text` longer than 28 characters
including the `t-` prefix, which Gate itself allows (ids.py makes 30). Floats from ccxt are
turned into Decimal with `Decimal(str(x))`; every ccxt exception becomes a bot error
(ccxt_errors.py). Reads are retried with backoff behind a circuit breaker; order requests never.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt

from crypto_ai_bot.core.brokers.ccxt_client import build_ccxt_exchange
from crypto_ai_bot.core.brokers.ccxt_errors import is_retryable, map_ccxt_error
from crypto_ai_bot.core.brokers.gate_parse import (
    d,
    parse_order,
    parse_stop,
    parse_trade,
    with_status,
)
from crypto_ai_bot.core.domain import (
    ZERO,
    Balance,
    FillReport,
    MarketInfo,
    OrderReport,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    StopOrderReport,
    Ticker,
)
from crypto_ai_bot.core.settings import Settings
from crypto_ai_bot.utils.circuit_breaker import CircuitBreaker
from crypto_ai_bot.utils.exceptions import (
    BrokerError,
    CircuitOpen,
    ExchangeUnavailable,
    InvalidOrder,
    OrderNotFound,
    OrderOutcomeUnknown,
)
from crypto_ai_bot.utils.retry import retry_async
from crypto_ai_bot.utils.time import Clock

T = TypeVar("T")
STOP_TEXT_PREFIX = "t-cabs"  # our stops' sell orders; order ids are "t-cab" + hex, never "s"
_SCAN_PAGES = 3  # finished orders scanned (x100) when looking an order up by client id


class TokenBucket:
    """A client-side rate limiter: `rate` requests per second, bursts up to `rate`."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._tokens = rate
        self._at = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self._rate <= 0:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._rate, self._tokens + (now - self._at) * self._rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)


class CcxtBroker:
    supports_exchange_stops = True

    def __init__(
        self, exchange: Any, clock: Clock, *, name: str = "gate", order_rate: float = 8.0,
        request_rate: float = 20.0, retry_attempts: int = 4, retry_initial_s: float = 0.2,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.name = name
        self.exchange = exchange  # shared with LiveFeed
        self._clock = clock
        self._order_rate = order_rate
        self._order_buckets: dict[str, TokenBucket] = {}
        self._requests = TokenBucket(request_rate)
        self._attempts = retry_attempts
        self._initial_s = retry_initial_s
        self._breaker = breaker or CircuitBreaker(clock, failure_threshold=8, reset_after_ms=10_000)
        self._markets: dict[str, MarketInfo] = {}
        self._last: dict[str, Decimal] = {}

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> CcxtBroker:
        key, secret = settings.credentials()
        exchange_id = settings.exchange.strip().lower()
        gate = exchange_id in ("gate", "gateio")
        url = api_url(exchange_id, settings.exchange_api_url)
        options: dict[str, Any] = {"createMarketBuyOrderRequiresPrice": False} if gate else {}
        ex = build_ccxt_exchange(
            exchange_id, api_url=url, sandbox=settings.sandbox,
            api_key=key.get_secret_value(), secret=secret.get_secret_value(),
            timeout_ms=settings.http_timeout_ms, enable_rate_limit=False, options=options,
        )
        return cls(ex, clock, name="gate" if gate else exchange_id)

    # plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], Awaitable[T]], *, creating: bool = False) -> T:
        """One attempt behind the breaker; ccxt errors become bot errors."""
        async def attempt() -> T:
            await self._requests.acquire()
            try:
                return await fn()
            except ccxt.BaseError as exc:
                raise map_ccxt_error(exc, creating=creating) from exc

        return await self._breaker.call(
            attempt, lambda e: isinstance(e, ExchangeUnavailable | OrderOutcomeUnknown)
        )

    async def _read(self, fn: Callable[[], Awaitable[T]]) -> T:
        """An idempotent request: retried with backoff on retryable errors."""
        return await retry_async(lambda: self._call(fn), should_retry=is_retryable,
                                 attempts=self._attempts, initial_s=self._initial_s)

    async def _send(self, symbol: str, fn: Callable[[], Awaitable[T]]) -> T:
        """An order request: rate limited per market, never retried."""
        bucket = self._order_buckets.setdefault(symbol, TokenBucket(self._order_rate))
        await bucket.acquire()
        try:
            return await self._call(fn, creating=True)
        except CircuitOpen as exc:  # refused before sending: surely not executed
            raise ExchangeUnavailable(str(exc)) from exc

    def _pair(self, symbol: str) -> str:
        return str(self.exchange.market(symbol)["id"])

    # markets, prices, balances --------------------------------------------------------

    async def load_markets(self, symbols: list[str]) -> dict[str, MarketInfo]:
        await self._read(lambda: self.exchange.load_markets())
        tick = self.exchange.precisionMode == ccxt.TICK_SIZE
        for s in symbols:
            try:
                m = self.exchange.market(s)
            except ccxt.BaseError as exc:
                raise map_ccxt_error(exc) from exc
            prec, limits = m["precision"], m["limits"]
            self._markets[s] = MarketInfo(
                s, m["base"], m["quote"], _step(prec["amount"], tick), _step(prec["price"], tick),
                d(limits["amount"]["min"]), d(limits["cost"]["min"]),
            )
        return dict(self._markets)

    def market(self, symbol: str) -> MarketInfo:
        try:
            return self._markets[symbol]
        except KeyError:
            raise InvalidOrder(f"unknown market {symbol} (markets not loaded?)") from None

    async def fetch_ticker(self, symbol: str) -> Ticker:
        t = await self._read(lambda: self.exchange.fetch_ticker(symbol))
        last = d(t.get("last"))
        self._last[symbol] = last
        return Ticker(symbol, self._clock.now_ms(), last, d(t.get("bid")) or last,
                      d(t.get("ask")) or last)

    async def fetch_balance(self) -> dict[str, Balance]:
        rows = await self._read(lambda: self.exchange.private_spot_get_accounts())
        return {r["currency"]: Balance(r["currency"], d(r["available"]), d(r["locked"]))
                for r in rows}

    # orders ---------------------------------------------------------------------------

    def _order_body(self, req: OrderRequest) -> dict[str, str]:
        """The POST /spot/orders body, rounded and checked against the market's rules."""
        m = self.market(req.symbol)
        if req.type is not OrderType.MARKET:
            raise InvalidOrder("only market orders are placed by the bot")
        body = {"currency_pair": self._pair(req.symbol), "type": "market", "account": "spot",
                "side": req.side.value, "time_in_force": "ioc", "text": req.client_order_id}
        if req.side is Side.BUY:
            if req.cost is None:
                raise InvalidOrder("a market buy needs a cost in quote")
            cost = m.round_cost(req.cost)
            if cost <= 0 or cost < m.min_cost:
                raise InvalidOrder(f"cost {cost} below minimum {m.min_cost} for {m.symbol}")
            body["amount"] = str(cost)
            return body
        if req.amount is None:
            raise InvalidOrder("a market sell needs an amount in base")
        amount = m.round_amount(req.amount)
        if amount <= 0 or amount < m.min_amount:
            raise InvalidOrder(f"amount {amount} below minimum {m.min_amount} for {m.symbol}")
        last = self._last.get(req.symbol, ZERO)
        if last > 0 and amount * last < m.min_cost:
            raise InvalidOrder(f"value {amount * last} below minimum {m.min_cost} for {m.symbol}")
        body["amount"] = str(amount)
        return body

    async def create_order(self, request: OrderRequest) -> OrderReport:
        body = self._order_body(request)
        info = await self._send(request.symbol,
                                lambda: self.exchange.private_spot_post_orders(body))
        return await self._report(request.symbol, info)

    async def _report(self, symbol: str, info: dict[str, Any]) -> OrderReport:
        """An OrderReport with every known trade of the order (from my_trades).

        While my_trades does not yet hold trades for the whole filled amount (lag, or the read
        failed), a final order is reported as still open so that reconcile looks again.
        """
        fills: tuple[FillReport, ...] = ()
        filled = d(info.get("filled_amount"))
        if filled > 0:
            try:
                fills = await self._order_fills(symbol, str(info["id"]))
            except (BrokerError, CircuitOpen):  # the order is known; its fills come later
                fills = ()
        report = parse_order(symbol, info, fills)
        if report.status.is_final and sum((f.amount for f in fills), ZERO) < report.filled:
            return with_status(report, OrderStatus.OPEN)
        return report

    async def _order_fills(self, symbol: str, order_id: str) -> tuple[FillReport, ...]:
        rows = await self._read(lambda: self.exchange.private_spot_get_my_trades(
            {"currency_pair": self._pair(symbol), "order_id": order_id, "limit": 1000}))
        return tuple(sorted((parse_trade(symbol, r) for r in rows), key=lambda f: f.trade_id))

    async def fetch_order(
        self, symbol: str, *, exchange_order_id: str = "", client_order_id: str = ""
    ) -> OrderReport | None:
        """By exchange id; else by client id: open, then finished orders, then my_trades."""
        info = None
        if exchange_order_id:
            info = await self._get_order(symbol, exchange_order_id)
        if info is None and client_order_id:
            info = await self._find_by_text(symbol, client_order_id)
        return None if info is None else await self._report(symbol, info)

    async def _get_order(self, symbol: str, ref: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self._read(
                lambda: self.exchange.private_spot_get_orders_order_id(
                    {"order_id": ref, "currency_pair": self._pair(symbol), "account": "spot"}))
        except OrderNotFound:
            return None
        return info

    async def _find_by_text(self, symbol: str, text: str) -> dict[str, Any] | None:
        found = await self._get_order(symbol, text)  # Gate finds a text only while open
        if found is not None:
            return found
        pair = self._pair(symbol)
        for page in range(1, _SCAN_PAGES + 1):
            rows = await self._read(self._finished_page(pair, page))
            for row in rows:
                if row.get("text") == text:
                    return dict(row)
            if len(rows) < 100:
                break
        trades = await self._read(lambda: self.exchange.private_spot_get_my_trades(
            {"currency_pair": pair, "limit": 1000}))
        for t in trades:
            if t.get("text") == text:
                return await self._get_order(symbol, str(t["order_id"]))
        return None

    def _finished_page(self, pair: str, page: int) -> Callable[[], Awaitable[Any]]:
        query = {"currency_pair": pair, "status": "finished", "limit": 100, "page": page}
        return lambda: self.exchange.private_spot_get_orders(query)

    async def fetch_open_orders(self, symbol: str) -> list[OrderReport]:
        rows = await self._read(lambda: self.exchange.private_spot_get_orders(
            {"currency_pair": self._pair(symbol), "status": "open", "limit": 100}))
        return [parse_order(symbol, r, ()) for r in rows]

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> None:
        await self._read(lambda: self.exchange.private_spot_delete_orders_order_id(
            {"order_id": exchange_order_id, "currency_pair": self._pair(symbol),
             "account": "spot"}))

    async def fetch_my_trades(self, symbol: str, since_ms: int) -> list[FillReport]:
        rows = await self._read(lambda: self.exchange.private_spot_get_my_trades(
            {"currency_pair": self._pair(symbol), "from": since_ms // 1000, "limit": 1000}))
        return sorted((parse_trade(symbol, r) for r in rows), key=lambda f: f.ts_ms)

    # exchange-side stops (Gate spot price-triggered orders) ------------------------------

    async def place_stop(
        self, symbol: str, amount: Decimal, trigger_price: Decimal, limit_price: Decimal
    ) -> StopOrderReport:
        m = self.market(symbol)
        amount, trigger, limit = (m.round_amount(amount), m.round_price(trigger_price),
                                  m.round_price(limit_price))
        if amount <= 0 or amount < m.min_amount or amount * limit < m.min_cost:
            raise InvalidOrder(f"stop of {amount} {m.base} at {limit} is below the minimums")
        body = {"market": self._pair(symbol),
                "trigger": {"price": str(trigger), "rule": "<=", "expiration": 0},
                "put": {"type": "limit", "side": "sell", "price": str(limit),
                        "amount": str(amount), "account": "normal", "time_in_force": "gtc",
                        "text": STOP_TEXT_PREFIX + secrets.token_hex(6)}}
        info = await self._send(symbol, lambda: self.exchange.private_spot_post_price_orders(body))
        return StopOrderReport(str(info["id"]), symbol, trigger, amount, "open")

    async def fetch_stop(self, symbol: str, stop_id: str) -> StopOrderReport | None:
        try:
            info = await self._read(
                lambda: self.exchange.private_spot_get_price_orders_order_id({"order_id": stop_id}))
        except OrderNotFound:
            return None
        return parse_stop(symbol, info)

    async def fetch_open_stops(self, symbol: str) -> list[StopOrderReport]:
        """Open stops that this bot placed (their put order's text carries our prefix)."""
        rows = await self._read(lambda: self.exchange.private_spot_get_price_orders(
            {"status": "open", "market": self._pair(symbol), "limit": 100}))
        return [parse_stop(symbol, r) for r in rows
                if str(r.get("put", {}).get("text") or "").startswith(STOP_TEXT_PREFIX)]

    async def cancel_stop(self, symbol: str, stop_id: str) -> None:
        await self._read(lambda: self.exchange.private_spot_delete_price_orders_order_id(
            {"order_id": stop_id}))

    async def arm_countdown(self, symbol: str, timeout_sec: int) -> None:
        timeout = 0 if timeout_sec <= 0 else max(timeout_sec, 5)  # Gate: >= 5 s, 0 disarms
        await self._read(lambda: self.exchange.private_spot_post_countdown_cancel_all(
            {"timeout": timeout, "currency_pair": self._pair(symbol)}))

    async def close(self) -> None:
        await self.exchange.close()


def api_url(exchange_id: str, url: str) -> str:
    """EXCHANGE_API_URL as ccxt wants it: for Gate, `<url>/api/v4` (given with or without)."""
    url = url.strip().rstrip("/")
    if url and exchange_id.strip().lower() in ("gate", "gateio") and not url.endswith("/api/v4"):
        url += "/api/v4"
    return url


def _step(precision: Any, tick: bool) -> Decimal:
    if precision is None:
        return ZERO
    return d(precision) if tick else Decimal(1).scaleb(-int(precision))
