"""Numbers for people: prices at the market's precision, money to the quote's cents,
percentages to two places, amounts at the market's amount step.

What people read (the status's `display` fields, cab-perf's table, log lines) goes through
these; storage and the JSON API keep the exact values in their own fields beside them.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from crypto_ai_bot.domain.model import MarketInfo

CENT = Decimal("0.01")


def _plain(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> str:
    """value rounded to step's decimal places, as plain digits (never 1E-9, never -0.00)."""
    q = value.quantize(step, rounding=rounding) if step > 0 else value
    if q == 0:
        q = abs(q)
    return f"{q:f}"


def _places(step: Decimal) -> Decimal:
    """The decimal places of a precision step (0.5 -> 0.1, 0.00010 -> 0.0001, 1 -> 1)."""
    exp = step.normalize().as_tuple().exponent
    return Decimal(1).scaleb(min(int(exp), 0))


def money(value: Decimal) -> str:
    """A quote amount (PnL, cost, fees in quote) to the cent."""
    return _plain(value, CENT)


def pct(value: Decimal | float) -> str:
    """A percentage to two places."""
    return _plain(value if isinstance(value, Decimal) else Decimal(repr(value)), CENT)


def price(value: Decimal, market: MarketInfo | None) -> str:
    """A price at the market's price precision (to the cent when the market is not known)."""
    step = market.price_step if market is not None and market.price_step > 0 else CENT
    return _plain(value, _places(step))


def amount(value: Decimal, market: MarketInfo | None) -> str:
    """A base amount at the market's amount precision, rounded down (what can be traded)."""
    if market is None or market.amount_step <= 0:
        return _plain(value, Decimal(0))
    return _plain(value, _places(market.amount_step), ROUND_DOWN)


def fee(value: Decimal, currency: str, market: MarketInfo | None) -> str:
    """A fee in its own currency: cents in quote, the amount precision in base."""
    if market is not None and currency == market.base:
        return amount(value, market)
    if market is None or currency == market.quote:
        return money(value)
    return _plain(value, Decimal(0))
