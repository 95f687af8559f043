"""Pair rules and realistic reference prices for the emulated markets."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from .models import Pair

# Reference prices in USD of a few well-known assets; others get a stable price in 1..100.
USD_PRICES: dict[str, Decimal] = {
    "BTC": Decimal("60000"),
    "ETH": Decimal("3000"),
    "BNB": Decimal("550"),
    "SOL": Decimal("150"),
    "LTC": Decimal("80"),
    "USDT": Decimal("1"),
    "USDC": Decimal("1"),
    "USD": Decimal("1"),
}
STABLE = {"USDT", "USDC", "USD"}
NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "USDT": "Tether", "USDC": "USD Coin"}

# Gate's published rules for the two main pairs.
KNOWN_RULES: dict[str, tuple[int, int, str, str]] = {
    # id: (price precision, amount precision, min_base_amount, min_quote_amount)
    "BTC_USDT": (1, 6, "0.00001", "3"),
    "ETH_USDT": (2, 4, "0.0001", "3"),
}


def pair_id(symbol: str) -> str:
    """'BTC/USDT' or 'btc_usdt' -> 'BTC_USDT'; raises ValueError on anything else."""
    text = symbol.strip().upper().replace("/", "_")
    parts = text.split("_")
    if len(parts) != 2 or not all(p.isalnum() for p in parts):
        raise ValueError(f"bad symbol {symbol!r}: expected BASE/QUOTE")
    return text


def usd_price(currency: str) -> Decimal:
    """A realistic, stable USD price for a currency."""
    if currency in USD_PRICES:
        return USD_PRICES[currency]
    digest = hashlib.blake2b(currency.encode(), digest_size=4).digest()
    return Decimal(1 + int.from_bytes(digest, "big") % 99)


def make_pair(symbol: str, price: Decimal | None = None) -> Pair:
    """Build a pair with Gate-like precision and minimums."""
    pid = pair_id(symbol)
    base, quote = pid.split("_")
    if price is None:
        price = usd_price(base) / usd_price(quote)
    if pid in KNOWN_RULES:
        prec, amount_prec, base_min, quote_min = KNOWN_RULES[pid]
        pair = Pair(pid, base, quote, prec, amount_prec, Decimal(base_min), Decimal(quote_min),
                    price)
    else:
        magnitude = price.adjusted()
        prec = max(1, min(10, 5 - magnitude))
        amount_prec = max(0, min(8, magnitude + 2))
        min_base = Decimal(10).scaleb(-amount_prec)
        min_quote = Decimal("3") if quote in STABLE else Decimal("0.0001")
        pair = Pair(pid, base, quote, prec, amount_prec, min_base, min_quote, price)
    pair.initial_price = pair.round_price(price)
    return pair


def currency_name(code: str) -> str:
    return NAMES.get(code, code)
