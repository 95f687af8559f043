"""Identifiers: idempotency keys and exchange client order ids derived from them."""

from __future__ import annotations

import hashlib
import re

_GATE_TEXT = re.compile(r"^t-[0-9A-Za-z_.-]{1,28}$")


def idempotency_key(symbol: str, side: str, now_ms: int, bucket_ms: int) -> str:
    """`{symbol}:{side}:{bucket}`: one decision per symbol, side and time bucket."""
    return f"{symbol}:{side}:{now_ms // bucket_ms}"


def client_order_id(key: str) -> str:
    """A Gate-compatible client order id derived from a key: `t-cab` + 23 hex digits.

    Deterministic, so a restarted process computes the same id for the same key. 28
    characters in all: Gate allows 28 after `t-`, ccxt's createOrder 28 including it.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:23]
    return f"t-cab{digest}"


def is_valid_client_order_id(value: str) -> bool:
    return bool(_GATE_TEXT.match(value))

