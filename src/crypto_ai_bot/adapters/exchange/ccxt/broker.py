"""CcxtBroker: the live broker, through ccxt's unified API (Gate.io API v4 spot first).

Orders, trades and stops go through ccxt's unified methods (create_order, fetch_order,
fetch_order_trades, fetch_closed_orders, cancel_order, with params["trigger"] for stops); what
they cannot express is in one exchange dialect (ccxt_dialects.py). ccxt's floats become Decimal
with `Decimal(str(x))`; every ccxt exception becomes a bot error (ccxt_errors.py). Reads are
retried with backoff behind a circuit breaker; order requests never.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt

from crypto_ai_bot.adapters.exchange.ccxt.client import build_ccxt_exchange
from crypto_ai_bot.adapters.exchange.ccxt.config import ExchangeConfig
from crypto_ai_bot.adapters.exchange.ccxt.dialects import (
    ExchangeDialect,
    d,
    dialect_for,
    parse_order,
    parse_stop,
    parse_trade,
)
from crypto_ai_bot.adapters.exchange.ccxt.errors import is_retryable, map_ccxt_error
from crypto_ai_bot.adapters.exchange.circuit_breaker import CircuitBreaker
from crypto_ai_bot.domain.errors import (
    AuthenticationFailed,
    BrokerError,
    CircuitOpen,
    ExchangeUnavailable,
    InvalidOrder,
    OrderNotFound,
    OrderOutcomeUnknown,
)
from crypto_ai_bot.domain.model import (
    ZERO,
    Balance,
    FillReport,
    MarketInfo,
    OrderReport,
    OrderRequest,
    OrderType,
    Side,
    StopOrderReport,
    Ticker,
)
from crypto_ai_bot.ports.broker_health import BrokerHealth
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.utils.rate_limit import SlidingWindowLimiter
from crypto_ai_bot.utils.retry import retry_async

T = TypeVar("T")
_MY_TRADES_REACH_MS = 30 * 86_400_000 - 60_000  # Gate's 30 days, less a minute of clock skew
DEFAULT_STOP_EXPIRATION_SEC = 86_400  # ccxt's own default for Gate's price orders


class CcxtBroker:
    supports_exchange_stops = True

    def __init__(
        self, exchange: Any, clock: Clock, *, name: str = "gate", orders_per_sec: int = 8,
        requests_per_sec: int = 20, retry_attempts: int = 4, retry_initial_s: float = 0.2,
        breaker: CircuitBreaker | None = None, dialect: ExchangeDialect | None = None,
    ) -> None:
        self.name = name
        self.exchange = exchange  # shared with LiveFeed
        self._dialect = dialect or dialect_for(str(getattr(exchange, "id", name)))
        self._dialect.prepare(exchange)
        self._clock = clock
        # client-side pace (0 = none): order placements per market, and the other requests,
        # per endpoint where the exchange limits each endpoint on its own (Gate), else together
        self._orders_per_sec = orders_per_sec
        self._order_limits: dict[str, SlidingWindowLimiter] = {}
        self._requests_per_sec = requests_per_sec
        self._paces: dict[str, SlidingWindowLimiter] = {}
        self._attempts = retry_attempts
        self._initial_s = retry_initial_s
        self._breaker = breaker or CircuitBreaker(clock, failure_threshold=8, reset_after_ms=10_000)
        self._markets: dict[str, MarketInfo] = {}
        self._last: dict[str, Decimal] = {}
        self._auth_error = ""  # what /health and /ready say of the calls (health())
        self._failing = 0
        self._last_error = ""

    @classmethod
    def from_config(cls, config: ExchangeConfig, clock: Clock) -> CcxtBroker:
        exchange_id = config.exchange_id
        gate = exchange_id in ("gate", "gateio")
        ex = build_ccxt_exchange(
            exchange_id, api_url=api_url(exchange_id, config.api_url), sandbox=config.sandbox,
            api_key=config.api_key, secret=config.api_secret, timeout_ms=config.timeout_ms,
            enable_rate_limit=False,
        )
        return cls(ex, clock, name="gate" if gate else exchange_id,
                   orders_per_sec=config.orders_per_sec,
                   requests_per_sec=config.requests_per_sec)

    # plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], Awaitable[T]], *, creating: bool = False,
                    public: bool = False, paced: bool = True, urgent: bool = False,
                    endpoint: str = "") -> T:
        """One attempt behind the breaker; ccxt errors become bot errors. Its outcome is what
        health() reports: a refused key until a private call succeeds, failures in a row.
        `paced`: within EXCHANGE_REQUESTS_PER_SEC (an order placement is paced per market);
        `urgent`: the trading path (prices, the balance, orders and stops), which goes before
        the housekeeping reads waiting for the pace (reconcile's, the countdown's);
        `endpoint`: which of the exchange's endpoints the request goes to."""
        pace = self._pace(endpoint) if paced else None

        async def attempt() -> T:
            if pace is not None:
                await pace.acquire(urgent)
            try:
                return await fn()
            except ccxt.BaseError as exc:
                raise map_ccxt_error(exc, creating=creating) from exc

        try:
            result = await self._breaker.call(
                attempt, lambda e: isinstance(e, ExchangeUnavailable | OrderOutcomeUnknown)
            )
        except AuthenticationFailed as exc:
            self._auth_error = str(exc) or type(exc).__name__
            raise
        except (ExchangeUnavailable, OrderOutcomeUnknown, CircuitOpen) as exc:
            self._failing += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
            raise
        except BrokerError:  # a definite answer (rejected, not found): the exchange works
            self._failing, self._last_error = 0, ""
            raise
        self._failing, self._last_error = 0, ""
        if not public:
            self._auth_error = ""
        return result

    def _pace(self, endpoint: str) -> SlidingWindowLimiter:
        per_endpoint = self._dialect.paces_per_endpoint
        key = endpoint if per_endpoint else ""
        pace = self._paces.get(key)
        if pace is None:
            # per endpoint, N in any 1.2 s: at most 9 N in any 10 s (180 at the default 20,
            # under Gate's 200 with room for requests that arrive closer than they left)
            pace = self._paces[key] = SlidingWindowLimiter(self._requests_per_sec,
                                                           1.2 if per_endpoint else 1.1)
        return pace

    def health(self) -> BrokerHealth:
        return BrokerHealth(auth_error=self._auth_error, failing_calls=self._failing,
                            last_error=self._last_error, circuit=self._breaker.state)

    async def _read(self, endpoint: str, fn: Callable[[], Awaitable[T]], *,
                    public: bool = False, urgent: bool = False) -> T:
        """An idempotent request: retried with backoff on retryable errors."""
        return await retry_async(lambda: self._call(fn, public=public, urgent=urgent,
                                                    endpoint=endpoint),
                                 should_retry=is_retryable,
                                 attempts=self._attempts, initial_s=self._initial_s)

    async def _send(self, symbol: str, fn: Callable[[], Awaitable[T]], *,
                    placement: bool = False, endpoint: str = "orders") -> T:
        """An order request: rate limited per market, never retried. A placement (Gate's own
        limit class: 10 a second per market) does not queue behind the reads' pace."""
        limiter = self._order_limits.get(symbol)
        if limiter is None:
            limiter = self._order_limits[symbol] = SlidingWindowLimiter(self._orders_per_sec)
        await limiter.acquire()
        try:
            return await self._call(fn, creating=True, paced=not placement, urgent=True,
                                    endpoint=endpoint)
        except CircuitOpen as exc:  # refused before sending: surely not executed
            raise ExchangeUnavailable(str(exc)) from exc

    # markets, prices, balances --------------------------------------------------------

    async def load_markets(self, symbols: list[str]) -> dict[str, MarketInfo]:
        await self._read("markets", lambda: self.exchange.load_markets(), public=True)
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

    async def clock_skew_ms(self) -> int:
        """The exchange's clock minus ours (ms), measured at the middle of the round trip."""
        before = self._clock.now_ms()
        server = await self._read("time", lambda: self.exchange.fetch_time())
        after = self._clock.now_ms()
        return int(server or 0) - (before + after) // 2 if server else 0

    def market(self, symbol: str) -> MarketInfo:
        try:
            return self._markets[symbol]
        except KeyError:
            raise InvalidOrder(f"unknown market {symbol} (markets not loaded?)") from None

    async def fetch_ticker(self, symbol: str) -> Ticker:
        t = await self._read("tickers", lambda: self.exchange.fetch_ticker(symbol), public=True,
                             urgent=True)
        last = d(t.get("last"))
        self._last[symbol] = last
        return Ticker(symbol, self._clock.now_ms(), last, d(t.get("bid")) or last,
                      d(t.get("ask")) or last)

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        """The tickers of `symbols` in one request (GET /spot/tickers answers every market)."""
        rows = await self._read(
            "tickers", lambda: self._dialect.fetch_tickers(self.exchange, symbols), public=True,
            urgent=True)
        now = self._clock.now_ms()
        out = {}
        for symbol, (last, bid, ask) in rows.items():
            self._last[symbol] = last
            out[symbol] = Ticker(symbol, now, last, bid or last, ask or last)
        return out

    async def fetch_balance(self) -> dict[str, Balance]:
        bal = await self._read("balance", lambda: self.exchange.fetch_balance(), urgent=True)
        free, used = bal.get("free") or {}, bal.get("used") or {}
        return {c: Balance(c, d(free[c]), d(used.get(c))) for c in free}

    # orders ---------------------------------------------------------------------------

    def _checked(self, req: OrderRequest) -> Decimal:
        """The order's size (quote cost for a buy, base amount for a sell), rounded and checked."""
        m = self.market(req.symbol)
        if req.type is not OrderType.MARKET:
            raise InvalidOrder("only market orders are placed by the bot")
        if req.side is Side.BUY:
            if req.cost is None:
                raise InvalidOrder("a market buy needs a cost in quote")
            cost = m.round_cost(req.cost)
            if cost <= 0 or cost < m.min_cost:
                raise InvalidOrder(f"cost {cost} below minimum {m.min_cost} for {m.symbol}")
            return cost
        if req.amount is None:
            raise InvalidOrder("a market sell needs an amount in base")
        amount = m.round_amount(req.amount)
        if amount <= 0 or amount < m.min_amount:
            raise InvalidOrder(f"amount {amount} below minimum {m.min_amount} for {m.symbol}")
        last = self._last.get(req.symbol, ZERO)
        if last > 0 and amount * last < m.min_cost:
            raise InvalidOrder(f"value {amount * last} below minimum {m.min_cost} for {m.symbol}")
        return amount

    async def create_order(self, request: OrderRequest) -> OrderReport:
        size = float(self._checked(request))  # already on the market's precision
        params: dict[str, Any] = {"clientOrderId": request.client_order_id, "timeInForce": "IOC"}
        if request.side is Side.BUY:
            params["cost"] = size  # a market buy spends a quote amount
        order = await self._send(request.symbol, lambda: self.exchange.create_order(
            request.symbol, "market", request.side.value, size, None, params), placement=True)
        return await self._report(request.symbol, order)

    async def _report(self, symbol: str, order: dict[str, Any]) -> OrderReport:
        """An OrderReport with every known trade of the order. While the trades do not yet
        add up to the filled amount (lag, or the read failed), the order's transition table
        keeps it open (domain.orders.report_event), so that reconcile looks again."""
        fills: tuple[FillReport, ...] = ()
        report = parse_order(symbol, order, self._dialect)
        if report.filled > 0:
            try:
                fills = await self._order_fills(symbol, report.exchange_order_id)
            except (BrokerError, CircuitOpen):  # the order is known; its fills come later
                fills = ()
        return report._replace(fills=fills)

    async def _order_fills(self, symbol: str, order_id: str) -> tuple[FillReport, ...]:
        rows = await self._read(  # Gate: GET /spot/my_trades?order_id=
            "my_trades", lambda: self.exchange.fetch_order_trades(order_id, symbol, None, 1000),
            urgent=True)
        return tuple(sorted((parse_trade(symbol, r, self._dialect) for r in rows),
                            key=lambda f: f.trade_id))

    async def fetch_order(
        self, symbol: str, *, exchange_order_id: str = "", client_order_id: str = ""
    ) -> OrderReport | None:
        """By exchange id; else by client id: open, then finished orders, then my trades."""
        order = None
        if exchange_order_id:
            order = await self._get_order(symbol, exchange_order_id)
        if order is None and client_order_id:
            order = await self._find_by_client_id(symbol, client_order_id)
        return None if order is None else await self._report(symbol, order)

    async def _get_order(self, symbol: str, order_id: str,
                         params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        try:
            order: dict[str, Any] = await self._read(
                "stop" if (params or {}).get("trigger") else "order",
                lambda: self.exchange.fetch_order(order_id, symbol, params or {}), urgent=True)
        except OrderNotFound:
            return None
        return order

    async def _find_by_client_id(self, symbol: str, cid: str) -> dict[str, Any] | None:
        # Gate finds a client id directly only while the order is open
        found = await self._get_order(symbol, cid, {"clientOrderId": cid})
        if found is not None:
            return found
        for page in range(1, self._dialect.closed_pages + 1):
            rows = await self._read("orders", self._closed_page(symbol, page))
            for row in rows:
                if row.get("clientOrderId") == cid:
                    return dict(row)
            if len(rows) < 100:
                break
        trades = await self._read(
            "my_trades", lambda: self.exchange.fetch_my_trades(symbol, None, 1000))
        for t in trades:
            if self._dialect.trade_client_id(t) == cid and t.get("order"):
                return await self._get_order(symbol, str(t["order"]))
        return None

    def _closed_page(self, symbol: str, page: int) -> Callable[[], Awaitable[Any]]:
        params = self._dialect.page_params(page)
        return lambda: self.exchange.fetch_closed_orders(symbol, None, 100, params)

    async def fetch_open_orders(self, symbol: str) -> list[OrderReport]:
        rows = await self._read(
            "open_orders", lambda: self.exchange.fetch_open_orders(symbol, None, 100))
        return [parse_order(symbol, r, self._dialect) for r in rows]

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> None:
        await self._read("cancel", lambda: self.exchange.cancel_order(exchange_order_id, symbol),
                         urgent=True)

    async def fetch_my_trades(self, symbol: str, since_ms: int) -> list[FillReport]:
        """Gate answers at most the last 30 days (an older `from` is refused): asked for
        more, this asks for what it can have."""
        since_ms = max(since_ms, self._clock.now_ms() - _MY_TRADES_REACH_MS)
        rows = await self._read(
            "my_trades", lambda: self.exchange.fetch_my_trades(symbol, since_ms, 1000))
        fills = (parse_trade(symbol, r, self._dialect) for r in rows)
        return sorted(fills, key=lambda f: f.ts_ms)

    # exchange-side stops (a price-triggered limit sell) -----------------------------------

    async def place_stop(
        self, symbol: str, amount: Decimal, trigger_price: Decimal, limit_price: Decimal,
        *, expiration_sec: int = DEFAULT_STOP_EXPIRATION_SEC,
    ) -> StopOrderReport:
        """A price-triggered limit sell (rule `<=`), waiting `expiration_sec` at most. Gate
        echoes no client id on price orders, so none is sent: the caller records the stop's
        fields before this call and recognises it by them (or by the id answered)."""
        m = self.market(symbol)
        amount, trigger, limit = (m.round_amount(amount), m.round_price(trigger_price),
                                  m.round_price(limit_price))
        if amount <= 0 or amount < m.min_amount or amount * limit < m.min_cost:
            # a put under the market's minimum would end `failed` when it fires
            raise InvalidOrder(f"stop of {amount} {m.base} at {limit} is below the minimums")
        if expiration_sec <= 0:
            raise InvalidOrder(f"stop expiration {expiration_sec} s must be positive")
        params = {"stopLossPrice": float(trigger), "expiration": expiration_sec}
        order = await self._send(symbol, lambda: self.exchange.create_order(
            symbol, "limit", "sell", float(amount), float(limit), params), endpoint="place_stop")
        return StopOrderReport(str(order["id"]), symbol, trigger, amount, "open",
                               limit_price=limit, created_ms=self._clock.now_ms())

    async def fetch_stop(self, symbol: str, stop_id: str) -> StopOrderReport | None:
        order = await self._get_order(symbol, stop_id, {"trigger": True})
        return None if order is None else parse_stop(symbol, order, self._dialect)

    async def fetch_stops(self, symbol: str, *, finished: bool = False) -> list[StopOrderReport]:
        """The symbol's price orders, open (or the last 100 finished), whoever placed them."""
        fetch = self.exchange.fetch_closed_orders if finished else self.exchange.fetch_open_orders
        rows = await self._read("stops", lambda: fetch(symbol, None, 100, {"trigger": True}))
        return [parse_stop(symbol, r, self._dialect) for r in rows]

    async def cancel_stop(self, symbol: str, stop_id: str) -> None:
        """Gate answers a cancel of a finished price order with ORDER_NOT_FOUND, ORDER_CLOSED or
        ORDER_CANCELLED: each is OrderNotFound here (already gone)."""
        try:
            await self._read(
                "cancel_stop",
                lambda: self.exchange.cancel_order(stop_id, symbol, {"trigger": True}),
                urgent=True)
        except InvalidOrder as exc:
            if "ORDER_CLOSED" in str(exc) or "ORDER_CANCELLED" in str(exc):
                raise OrderNotFound(str(exc)) from exc
            raise

    async def arm_countdown(self, symbol: str, timeout_sec: int) -> None:
        await self._read(
            "countdown", lambda: self._dialect.arm_countdown(self.exchange, symbol, timeout_sec))

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

