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


# Bases of Gate's USDT spot markets, most traded first (the listing as of 2026): what
# `--markets N` lists. Prices of the unknown ones come from usd_price.
_BASES = """
BTC ETH SOL XRP DOGE BNB ADA TRX AVAX LINK TON SHIB DOT BCH LTC NEAR UNI PEPE ICP APT ETC
SUI XLM FIL HBAR ARB OP ATOM INJ STX IMX VET MKR GRT RNDR TIA SEI FET AAVE ALGO FLOW EGLD
QNT AXS SAND MANA THETA FTM XTZ CHZ EOS KAVA NEO IOTA ZEC DASH KSM COMP SNX CRV LDO RPL GMX
DYDX SUSHI YFI BAL ZRX ENJ BAT LRC APE GALA BLUR FLOKI BONK WIF ORDI RUNE CFX ROSE ONE ZIL
ICX ONT QTUM KDA CELO MINA AR HNT AKT AGIX OCEAN WLD JUP PYTH JTO STRK MANTA ALT DYM PIXEL
PORTAL XAI ACE NFP AI MEME ENA W ETHFI BOME NOT ZRO ZK IO LISTA BLAST POL EIGEN CATI HMSTR
NEIRO TAO GOAT PNUT ACT MOVE ME VIRTUAL PENGU TRUMP KAITO IP BERA LAYER PARTI WCT INIT SOPH
HYPE ONDO JASMY GMT MASK AUDIO ANKR STORJ SKL CELR COTI DENT HOT ICE IOST KNC LPT MTL NKN
OGN POWR REQ RLC SFP SLP SXP TFUEL TWT UMA WOO XEM XVS YGG ZEN API3 ARPA ASTR BAND BICO C98
CKB CTSI DAR DGB ELF FLUX FXS GLM GNS HIGH HOOK ID JOE LQTY MAGIC MAV MBOX NMR OXT PENDLE
PERP PHB RDNT RIF SSV STG SUPER SYS T TRB TRU UNFI VANRY WAXP XVG
"""
GATE_USDT_BASES = tuple(_BASES.split())


def gate_usdt_markets(count: int) -> tuple[str, ...]:
    """The first `count` of Gate's USDT markets, e.g. ('BTC/USDT', 'ETH/USDT', ...)."""
    if not 1 <= count <= len(GATE_USDT_BASES):
        raise ValueError(f"between 1 and {len(GATE_USDT_BASES)} markets can be listed")
    return tuple(f"{base}/USDT" for base in GATE_USDT_BASES[:count])
