"""PaperBroker: a simulated exchange with balances, fees, precision and minimum cost.

Market orders fill at once at the price board's ask (buys) or bid (sells). Like Gate, a market
buy is sized by its cost in quote and its fee is charged in base; a sell's fee is charged in
quote. The exchange's own book — its balances and the orders it executed — lives behind the
VenueBook port: in SQLite for paper mode, so it persists across restarts (the bot's own tables
never double as the exchange's), in memory for backtests (adapters/paper/ledger.py).
"""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.paper.ledger import MemoryVenueBook
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.errors import ExchangeUnavailable, InsufficientFunds, InvalidOrder
from crypto_ai_bot.domain.model import (
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
    split_symbol,
)
from crypto_ai_bot.domain.venue import MarketRules
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.venue import VenueBook

_FILLED = OrderStatus.FILLED


class PaperBroker:
    name = "paper"
    supports_exchange_stops = False

    def __init__(
        self,
        board: PriceBoard,
        clock: Clock,
        *,
        fee_pct: Decimal,
        start_balances: dict[str, Decimal],
        book: VenueBook | None = None,
        rules: MarketRules | None = None,
    ) -> None:
        self._board = board
        self._clock = clock
        self._fee = fee_pct / 100
        self._book: VenueBook = MemoryVenueBook() if book is None else book
        self._rules = rules or MarketRules()
        self._markets: dict[str, MarketInfo] = {}
        self._orders: list[OrderReport] = []
        self._balances: dict[str, Decimal] = {}
        # fetch_balance's answer, kept up to date a currency at a time: every entry asks for
        # it (the risk gate's free quote), and building all of a ten-pair run's balances each
        # time cost a backtest ~5 %
        self._view: dict[str, Balance] = {}
        self._load(start_balances)

    # persistence ----------------------------------------------------------------------

    def _load(self, start: dict[str, Decimal]) -> None:
        saved = self._book.load_balances()
        if saved:
            self._balances = saved
        else:
            self._balances = dict(start)
            self._book.save_balances(self._balances)
        self._view = {c: Balance(c, v, ZERO) for c, v in self._balances.items()}
        self._orders.extend(self._book.load_orders())

    # Broker ---------------------------------------------------------------------------

    async def load_markets(self, symbols: list[str]) -> dict[str, MarketInfo]:
        for s in symbols:
            base, quote = split_symbol(s)
            r = self._rules
            self._markets[s] = MarketInfo(
                s, base, quote, r.amount_step, r.price_step, r.min_amount, r.min_cost
            )
        return dict(self._markets)

    def market(self, symbol: str) -> MarketInfo:
        try:
            return self._markets[symbol]
        except KeyError:
            raise InvalidOrder(f"unknown market {symbol}") from None

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return self._ticker(symbol)

    def _ticker(self, symbol: str) -> Ticker:
        t = self._board.get(symbol)
        if t is None:
            raise ExchangeUnavailable(f"no price yet for {symbol}")
        return t

    async def fetch_balance(self) -> dict[str, Balance]:
        return dict(self._view)

    def balance(self, currency: str) -> Decimal:
        return self._balances.get(currency, ZERO)

    async def create_order(self, request: OrderRequest) -> OrderReport:
        if request.type is not OrderType.MARKET:
            raise InvalidOrder("paper broker fills market orders only")
        m = self.market(request.symbol)
        t = self._ticker(request.symbol)
        buy = request.side is Side.BUY
        report = self._buy(m, t, request) if buy else self._sell(m, t, request)
        self._record(report)
        return report

    def _buy(self, m: MarketInfo, t: Ticker, req: OrderRequest) -> OrderReport:
        price = t.ask
        if req.cost is None:  # as on Gate: the amount of a market buy is its cost in quote
            raise InvalidOrder("a market buy is sized by its cost in quote, not an amount")
        amount = m.round_amount(req.cost / price)
        cost = amount * price
        self._check_minimums(m, amount, cost)
        if cost > self.balance(m.quote):
            raise InsufficientFunds(
                f"paper balance {self.balance(m.quote)} {m.quote} cannot pay {cost}"
            )
        fee = amount * self._fee
        balances, view, quote, base = self._balances, self._view, m.quote, m.base
        balances[quote] = q = balances.get(quote, ZERO) - cost
        balances[base] = b = balances.get(base, ZERO) + amount - fee
        view[quote], view[base] = Balance(quote, q, ZERO), Balance(base, b, ZERO)
        return self._report(req, m.base, price, amount, cost, fee)

    def _sell(self, m: MarketInfo, t: Ticker, req: OrderRequest) -> OrderReport:
        if req.amount is None:
            raise InvalidOrder("a sell needs an amount")
        price = t.bid
        amount = m.round_amount(req.amount)
        cost = amount * price
        self._check_minimums(m, amount, cost)
        if amount > self.balance(m.base):
            raise InsufficientFunds(
                f"paper balance {self.balance(m.base)} {m.base} cannot sell {amount}"
            )
        fee = cost * self._fee
        balances, view, quote, base = self._balances, self._view, m.quote, m.base
        balances[base] = b = balances.get(base, ZERO) - amount
        balances[quote] = q = balances.get(quote, ZERO) + cost - fee
        view[base], view[quote] = Balance(base, b, ZERO), Balance(quote, q, ZERO)
        return self._report(req, m.quote, price, amount, cost, fee)

    @staticmethod
    def _check_minimums(m: MarketInfo, amount: Decimal, cost: Decimal) -> None:
        if amount <= 0 or amount < m.min_amount:
            raise InvalidOrder(f"amount {amount} below minimum {m.min_amount} for {m.symbol}")
        if cost < m.min_cost:
            raise InvalidOrder(f"cost {cost} below minimum {m.min_cost} for {m.symbol}")

    def _report(
        self, req: OrderRequest, fee_ccy: str, price: Decimal, amount: Decimal, cost: Decimal,
        fee: Decimal,
    ) -> OrderReport:
        order_id = str(len(self._orders) + 1)
        now = self._clock.now_ms()
        cid, symbol, side = req.client_order_id, req.symbol, req.side
        # positional, in the fields' order: a NamedTuple's keywords cost a backtest ~1 % (two
        # reports an order)
        fill = FillReport(f"paper-{order_id}", symbol, side, price, amount, fee, fee_ccy, now,
                          order_id, cid)
        return OrderReport(order_id, cid, symbol, side, req.type, _FILLED, amount, amount, cost,
                           price, fee, fee_ccy, now, (fill,))

    def _record(self, report: OrderReport) -> None:
        self._orders.append(report)
        self._book.append_order(report, self._balances)

    @property
    def orders(self) -> list[OrderReport]:
        """Every order the paper exchange executed, in order: what tests count."""
        return list(self._orders)

    async def fetch_order(
        self, symbol: str, *, exchange_order_id: str = "", client_order_id: str = ""
    ) -> OrderReport | None:
        for o in reversed(self._orders):
            if o.symbol != symbol:
                continue
            if exchange_order_id and o.exchange_order_id == exchange_order_id:
                return o
            if client_order_id and o.client_order_id == client_order_id:
                return o
        return None

    async def fetch_open_orders(self, symbol: str) -> list[OrderReport]:
        return []  # market orders fill at once

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> None:
        return None

    async def fetch_my_trades(self, symbol: str, since_ms: int) -> list[FillReport]:
        return [f for o in self._orders if o.symbol == symbol for f in o.fills
                if f.ts_ms >= since_ms]

    async def clock_skew_ms(self) -> int:
        return 0  # the paper venue runs on our clock

    async def place_stop(
        self, symbol: str, amount: Decimal, trigger_price: Decimal, limit_price: Decimal,
        *, expiration_sec: int = 86_400,
    ) -> StopOrderReport:
        raise InvalidOrder("paper broker keeps no exchange-side stops")

    async def fetch_stop(self, symbol: str, stop_id: str) -> StopOrderReport | None:
        return None

    async def fetch_stops(self, symbol: str, *, finished: bool = False) -> list[StopOrderReport]:
        return []

    async def cancel_stop(self, symbol: str, stop_id: str) -> None:
        return None

    async def arm_countdown(self, symbol: str, timeout_sec: int) -> None:
        return None

    async def close(self) -> None:
        return None
