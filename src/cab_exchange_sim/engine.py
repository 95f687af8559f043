"""Balances, spot orders and their matching against the current price. Pure logic, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .faults import SimSettings
from .models import (
    TEXT_RE,
    ZERO,
    Account,
    GateError,
    Order,
    Pair,
    Trade,
    decimals,
    fmt,
    quantize_down,
)

LIMIT_TIFS = ("gtc", "ioc", "poc", "fok")
MARKET_TIFS = ("ioc", "fok")
FIRST_ORDER_ID = 300_000_000_001
FIRST_TRADE_ID = 9_000_000_001


class Engine:
    """The matching engine: one last price per pair, fills at that price or at the limit."""

    def __init__(self, pairs: Mapping[str, Pair], settings: SimSettings) -> None:
        self.pairs = dict(pairs)
        self.settings = settings
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, Order] = {}
        self.trades: list[Trade] = []
        self.next_order_id = FIRST_ORDER_ID
        self.next_trade_id = FIRST_TRADE_ID

    # -- balances -------------------------------------------------------------------------

    def account(self, currency: str) -> Account:
        return self.accounts.setdefault(currency, Account())

    def set_balances(self, balances: Mapping[str, Decimal]) -> None:
        """Set available balances (locked funds of open orders are kept)."""
        for currency, amount in balances.items():
            if amount < 0:
                raise ValueError(f"negative balance for {currency}")
            self.account(currency.upper()).available = amount

    def clear(self) -> None:
        """Forget orders, trades and balances (ids keep increasing)."""
        self.accounts.clear()
        self.orders.clear()
        self.trades.clear()

    # -- lookups --------------------------------------------------------------------------

    def pair(self, pair_id: str | None) -> Pair:
        if not pair_id:
            raise GateError("MISSING_REQUIRED_PARAM", "Missing required parameter: currency_pair")
        pair = self.pairs.get(pair_id.upper())
        if pair is None:
            raise GateError("INVALID_CURRENCY_PAIR", f"Invalid currency pair {pair_id}")
        return pair

    def open_orders(self, pair_id: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.is_open and pair_id in (None, o.pair)]

    def find(self, pair_id: str | None, ref: str) -> Order:
        """An order by numeric id, or by `t-` text while it is open (as Gate)."""
        if ref.startswith("t-"):
            found = [o for o in self.open_orders(pair_id) if o.text == ref]
            if found:
                return found[-1]
        elif ref.isdigit():
            order = self.orders.get(int(ref))
            if order is not None and pair_id in (None, order.pair):
                return order
        raise GateError("ORDER_NOT_FOUND", "Order not found", 404)

    # -- placing --------------------------------------------------------------------------

    def place(
        self,
        pair: Pair,
        side: str,
        otype: str,
        amount: Decimal,
        price: Decimal | None,
        tif: str | None,
        text: str | None,
        market_price: Decimal,
        now_ms: int,
    ) -> Order:
        """Validate and place an order, matching it at once if it crosses."""
        tif = self._validate(pair, side, otype, amount, price, tif, text, market_price)
        limit_price = price if (otype == "limit" and price is not None) else ZERO
        order = Order(
            id=self.next_order_id,
            text=text or "apiv4",
            pair=pair.id,
            type=otype,
            side=side,
            amount=amount,
            price=limit_price,
            time_in_force=tif,
            create_ms=now_ms,
            update_ms=now_ms,
            left=amount,
            fee_currency=pair.base if side == "buy" else pair.quote,
        )
        self.next_order_id += 1
        # Limit buys lock amount x price in quote; market buys their cost; sells their base.
        self._lock(order, pair, amount * limit_price if (otype, side) == ("limit", "buy")
                   else amount)
        self.orders[order.id] = order
        if otype == "market":
            self._take(order, pair, market_price, now_ms)
            return order
        crosses = market_price <= order.price if side == "buy" else market_price >= order.price
        if not crosses:
            if tif in ("ioc", "fok"):
                self._finish(order, "cancelled", tif, now_ms)
            return order
        if tif == "poc":
            self._finish(order, "cancelled", "poc", now_ms)
            return order
        self._take(order, pair, market_price, now_ms)
        return order

    def _validate(
        self,
        pair: Pair,
        side: str,
        otype: str,
        amount: Decimal,
        price: Decimal | None,
        tif: str | None,
        text: str | None,
        market_price: Decimal,
    ) -> str:
        if side not in ("buy", "sell"):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: side")
        if otype not in ("limit", "market"):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: type")
        allowed = LIMIT_TIFS if otype == "limit" else MARKET_TIFS
        tif = tif or allowed[0]
        if tif not in allowed:
            raise GateError("INVALID_PARAM_VALUE", f"invalid argument: time_in_force {tif}")
        if text is not None and not TEXT_RE.match(text):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: text")
        if amount <= 0:
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: amount")
        quote_amount = otype == "market" and side == "buy"
        if decimals(amount) > (pair.precision if quote_amount else pair.amount_precision):
            raise GateError("INVALID_PRECISION", f"Invalid amount precision: {fmt(amount)}")
        if otype == "limit":
            if price is None:
                raise GateError("MISSING_REQUIRED_PARAM", "Missing required parameter: price")
            if price <= 0:
                raise GateError("INVALID_PARAM_VALUE", "invalid argument: price")
            if decimals(price) > pair.precision:
                raise GateError("INVALID_PRECISION", f"Invalid price precision: {fmt(price)}")
        value_price = price if (otype == "limit" and price is not None) else market_price
        value = amount if quote_amount else amount * value_price
        if not quote_amount and amount < pair.min_base:
            raise GateError(
                "AMOUNT_TOO_LITTLE",
                f"Your order size {fmt(amount)} {pair.base} is too small. "
                f"The minimum is {fmt(pair.min_base)} {pair.base}",
            )
        if value < pair.min_quote:
            raise GateError(
                "AMOUNT_TOO_LITTLE",
                f"Your order size {fmt(value)} {pair.quote} is too small. "
                f"The minimum is {fmt(pair.min_quote)} {pair.quote}",
            )
        need = value if side == "buy" else amount
        currency = pair.quote if side == "buy" else pair.base
        if self.account(currency).available < need:
            raise GateError("BALANCE_NOT_ENOUGH", "Not enough balance")
        return tif

    # -- matching -------------------------------------------------------------------------

    def match(self, pair: Pair, price: Decimal, now_ms: int) -> list[Order]:
        """Fill resting limit orders that the new price reaches; returns those touched."""
        touched = []
        for order in self.open_orders(pair.id):
            if order.type != "limit":
                continue
            reached = price <= order.price if order.side == "buy" else price >= order.price
            if reached:
                qty = self._portion(pair, order.left)
                self._fill(order, pair, qty, order.price, "maker", now_ms)
                if order.left <= 0:
                    self._finish(order, "closed", "filled", now_ms)
                touched.append(order)
        return touched

    def _take(self, order: Order, pair: Pair, price: Decimal, now_ms: int) -> None:
        """Fill an incoming (taker) order at the market price, honouring its time in force."""
        ratio = self.settings.partial_fill_ratio
        if order.type == "market" and order.side == "buy":
            spend = order.left if ratio >= 1 else order.left * ratio
            qty = quantize_down(spend / price, pair.amount_precision)
            complete = ratio >= 1 and qty > 0
        else:
            qty = self._portion(pair, order.left)
            complete = qty >= order.left
        if order.time_in_force == "fok" and not complete:
            self._finish(order, "cancelled", "fok", now_ms)
            return
        if qty > 0:
            self._fill(order, pair, qty, price, "taker", now_ms)
        if order.type == "market":
            if complete:
                self._finish(order, "closed", "filled", now_ms)
            else:
                self._finish(order, "cancelled", "ioc", now_ms)
        elif order.left <= 0:
            self._finish(order, "closed", "filled", now_ms)
        elif order.time_in_force == "ioc":
            self._finish(order, "cancelled", "ioc", now_ms)

    def _portion(self, pair: Pair, left: Decimal) -> Decimal:
        """The base amount one match event fills: all, or partial_fill_ratio of what is left."""
        ratio = self.settings.partial_fill_ratio
        if ratio >= 1:
            return left
        qty = quantize_down(left * ratio, pair.amount_precision)
        if qty <= 0 or left - qty < pair.min_base:
            return left
        return qty

    def _fill(self, order: Order, pair: Pair, qty: Decimal, price: Decimal, role: str,
              now_ms: int) -> None:
        total = qty * price
        rate = self.settings.fee_rate
        base, quote = self.account(pair.base), self.account(pair.quote)
        if order.side == "buy":
            fee = qty * rate
            order.locked -= total
            quote.locked -= total
            base.available += qty - fee
        else:
            fee = total * rate
            order.locked -= qty
            base.locked -= qty
            quote.available += total - fee
        order.filled_amount += qty
        order.filled_total += total
        order.fee += fee
        order.left -= total if (order.type == "market" and order.side == "buy") else qty
        order.update_ms = now_ms
        if order.type == "limit" and order.side == "buy":
            surplus = order.locked - order.left * order.price  # filled below the limit
            if surplus > 0:
                self._unlock(order, pair, surplus)
        self.trades.append(
            Trade(self.next_trade_id, order.id, pair.id, order.side, role, qty, price, fee,
                  order.fee_currency, order.text, now_ms)
        )
        self.next_trade_id += 1

    def _lock(self, order: Order, pair: Pair, amount: Decimal) -> None:
        acct = self.account(pair.quote if order.side == "buy" else pair.base)
        acct.available -= amount
        acct.locked += amount
        order.locked += amount

    def _unlock(self, order: Order, pair: Pair, amount: Decimal) -> None:
        acct = self.account(pair.quote if order.side == "buy" else pair.base)
        acct.locked -= amount
        acct.available += amount
        order.locked -= amount

    def _finish(self, order: Order, status: str, finish_as: str, now_ms: int) -> None:
        self._unlock(order, self.pairs[order.pair], order.locked)
        order.status = status
        order.finish_as = finish_as
        order.update_ms = now_ms

    # -- cancel and amend -----------------------------------------------------------------

    def cancel(self, pair_id: str | None, ref: str, now_ms: int) -> Order:
        order = self.find(pair_id, ref)
        if not order.is_open:
            raise GateError("ORDER_NOT_FOUND", "Order not found", 404)
        self._finish(order, "cancelled", "cancelled", now_ms)
        return order

    def cancel_all(self, pair_id: str | None, side: str | None, now_ms: int) -> list[Order]:
        done = []
        for order in self.open_orders(pair_id):
            if side in (None, "", order.side):
                self._finish(order, "cancelled", "cancelled", now_ms)
                done.append(order)
        return done

    def amend(self, pair: Pair, ref: str, amount: Decimal | None, price: Decimal | None,
              market_price: Decimal, now_ms: int, amend_text: str | None = None) -> Order:
        """Change the amount and/or price of an open limit order (PATCH /spot/orders/{id})."""
        order = self.find(pair.id, ref)
        if not order.is_open or order.type != "limit":
            raise GateError("ORDER_NOT_FOUND", "Order not found", 404)
        new_amount = order.amount if amount is None else amount
        new_price = order.price if price is None else price
        if new_amount <= order.filled_amount or new_price <= 0:
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: amount")
        if decimals(new_amount) > pair.amount_precision or decimals(new_price) > pair.precision:
            raise GateError("INVALID_PRECISION", "Invalid precision")
        left = new_amount - order.filled_amount
        need = left * new_price if order.side == "buy" else left
        acct = self.account(pair.quote if order.side == "buy" else pair.base)
        if acct.available + order.locked < need:
            raise GateError("BALANCE_NOT_ENOUGH", "Not enough balance")
        self._unlock(order, pair, order.locked)
        self._lock(order, pair, need)
        order.amount, order.price, order.left = new_amount, new_price, left
        order.update_ms = now_ms
        order.amend_text = amend_text or "-"
        crosses = market_price <= new_price if order.side == "buy" else market_price >= new_price
        if crosses:
            self._take(order, pair, market_price, now_ms)
        return order
