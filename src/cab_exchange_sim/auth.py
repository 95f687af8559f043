"""Gate API v4 request signatures (HMAC-SHA512 over method, path, query, body hash, time)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote_plus

from .models import GateError

MAX_SKEW_S = 60


def sign(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    """The SIGN header value for a request, as a Gate client computes it."""
    body_hash = hashlib.sha512(body).hexdigest()
    payload = "\n".join([method.upper(), path, query, body_hash, timestamp])
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def verify(headers: Mapping[str, str], method: str, path: str, raw_query: str, body: bytes,
           key: str, secret: str, now_s: float) -> None:
    """Raise GateError as Gate does when a private request is not correctly signed."""
    got_key = headers.get("key")
    got_ts = headers.get("timestamp")
    got_sign = headers.get("sign")
    if not got_key or not got_ts or not got_sign:
        raise GateError("MISSING_REQUIRED_HEADER", "Missing required header: KEY, Timestamp, SIGN",
                        401)
    if not hmac.compare_digest(got_key, key):
        raise GateError("INVALID_KEY", "Invalid key provided", 401)
    try:
        ts = float(got_ts)
    except ValueError:
        raise GateError("INVALID_SIGNATURE", "Signature mismatch", 401) from None
    if abs(now_s - ts) > MAX_SKEW_S:
        raise GateError("REQUEST_EXPIRED", "Request timestamp expired", 403)
    # Clients sign the query unencoded; accept the string as sent and its decoded form.
    for query in dict.fromkeys((raw_query, unquote_plus(raw_query))):
        expected = sign(secret, method, path, query, body, got_ts)
        if hmac.compare_digest(expected, got_sign.lower()):
            return
    raise GateError("INVALID_SIGNATURE", "Signature mismatch", 401)
