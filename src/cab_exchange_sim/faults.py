"""Run-time settings and injected faults, plus Gate-style rate limiting."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import fmt

INT_FIELDS = (
    "latency_ms",
    "rate_limit_next",
    "lose_next_orders",
    "lose_delay_ms",
    "order_rate_limit",
    "private_rate_limit",
    "public_rate_limit",
    "echo_trigger_text",
    "price_order_repeat_ms",
)
DECIMAL_FIELDS = ("error_rate", "partial_fill_ratio", "fee_rate")


@dataclass
class SimSettings:
    """Faults and tunables, changed through /_sim/faults."""

    latency_ms: int = 0
    error_rate: Decimal = Decimal(0)
    error_when: str = "before"  # "before": not executed; "after": executed, answer lost as 5xx
    rate_limit_next: int = 0
    lose_next_orders: int = 0
    lose_delay_ms: int = 10_000
    partial_fill_ratio: Decimal = Decimal(1)
    fee_rate: Decimal = Decimal("0.002")
    order_rate_limit: int = 10  # order placements and amendments per second per pair; 0 = off
    private_rate_limit: int = 200  # per endpoint per 10 s; 0 = off
    public_rate_limit: int = 200  # per endpoint per 10 s; 0 = off
    # 1: answer a price order's trigger.text / put.text as sent (an experiment: real Gate
    # echoes no trigger.text and answers put.text as the order's source)
    echo_trigger_text: int = 0
    # > 0: a price order with the same market and rule as one placed less than this many ms
    # before is refused REPEAT_REQUEST, as real Gate has done (gateapi-python #109)
    price_order_repeat_ms: int = 0
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def update(self, values: dict[str, Any]) -> None:
        """Apply a /_sim/faults body; raises ValueError naming a bad field."""
        if values.get("clear"):
            self.clear()
        for key, raw in values.items():
            if key == "clear":
                continue
            if key in INT_FIELDS:
                value = _int(key, raw)
                if value < 0:
                    raise ValueError(f"{key} must be >= 0")
                setattr(self, key, value)
            elif key in DECIMAL_FIELDS:
                number = _dec(key, raw)
                upper = Decimal(1) if key != "fee_rate" else Decimal("0.1")
                low_ok = number > 0 if key == "partial_fill_ratio" else number >= 0
                if not low_ok or number > upper:
                    raise ValueError(f"{key} out of range")
                setattr(self, key, number)
            elif key == "error_when":
                if raw not in ("before", "after"):
                    raise ValueError("error_when must be 'before' or 'after'")
                self.error_when = str(raw)
            elif key == "seed":
                self.seed = None if raw is None else _int(key, raw)
                self.rng.seed(self.seed)
            else:
                raise ValueError(f"unknown fault {key!r}")

    def clear(self) -> None:
        """Back to defaults (the random generator is re-seeded with the current seed)."""
        fresh = SimSettings()
        for f in fields(self):
            if f.name not in ("rng", "seed"):
                setattr(self, f.name, getattr(fresh, f.name))
        self.rng.seed(self.seed)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "rng":
                continue
            value = getattr(self, f.name)
            out[f.name] = fmt(value) if isinstance(value, Decimal) else value
        return out

    def roll_error(self) -> bool:
        """True when this request should get an injected 5xx."""
        return self.error_rate > 0 and Decimal(str(self.rng.random())) < self.error_rate

    def take(self, name: str) -> bool:
        """Consume one unit of a counted fault such as rate_limit_next."""
        count = int(getattr(self, name))
        if count <= 0:
            return False
        setattr(self, name, count - 1)
        return True


def _int(key: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{key} must be an integer")
    try:
        return int(str(raw))
    except ValueError:
        raise ValueError(f"{key} must be an integer") from None


def _dec(key: str, raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(f"{key} must be a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"{key} must be a number") from None
    if not value.is_finite():
        raise ValueError(f"{key} must be a number")
    return value


@dataclass
class Window:
    """The outcome of one rate-limit check."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int


class RateLimiter:
    """Sliding-window counters keyed by endpoint (and pair for order placement)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[int]] = {}
        self.peaks: dict[str, int] = {}  # the most requests any window of a key has held

    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> Window:
        """Count one request; over the limit it is refused and not counted."""
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now_ms - window_ms:
            hits.popleft()
        if limit <= 0:
            return Window(True, 0, 0, now_ms + window_ms)
        reset = (hits[0] + window_ms) if hits else now_ms + window_ms
        if len(hits) >= limit:
            return Window(False, limit, 0, reset)
        hits.append(now_ms)
        if len(hits) > self.peaks.get(key, 0):
            self.peaks[key] = len(hits)
        return Window(True, limit, limit - len(hits), reset)

    def clear(self) -> None:
        self._hits.clear()
        self.peaks.clear()


# Gate's rate-limit classes (GATE_NOTES.md, "Limits"): what each counts and its limit.
LIMIT_CLASSES = {
    "public": "200 per 10 s per endpoint (per IP)",
    "private": "200 per 10 s per endpoint",
    "orders": "10 per s per market (placements and amendments)",
    "cancels": "200 per s",
}


def limit_class(method: str, path: str, public: bool) -> str:
    """The class of a request under /api/v4 (`path` without the prefix, ids as {id})."""
    if public:
        return "public"
    if ((method == "POST" and path in ("/spot/orders", "/spot/batch_orders"))
            or (method == "PATCH" and path == "/spot/orders/{id}")):
        return "orders"
    if ((method == "DELETE" and path.startswith("/spot/orders"))
            or path == "/spot/cancel_batch_orders"):
        return "cancels"
    return "private"


class RequestStats:
    """What the emulator was asked, per endpoint: requests and 429 answers (GET /_sim/stats)."""

    def __init__(self, now_ms: int) -> None:
        self.since_ms = now_ms
        self._rows: dict[str, list[Any]] = {}  # "GET /spot/tickers" -> [class, requests, 429s]

    def count(self, endpoint: str, klass: str, status: int) -> None:
        row = self._rows.get(endpoint)
        if row is None:
            row = self._rows[endpoint] = [klass, 0, 0]
        row[1] += 1
        if status == 429:
            row[2] += 1

    def clear(self, now_ms: int) -> None:
        self._rows.clear()
        self.since_ms = now_ms

    def to_json(self, limiter: RateLimiter, now_ms: int) -> dict[str, Any]:
        """Per endpoint and per class: requests, 429s and the fullest window seen (10 s for
        public and private endpoints, 1 s per market for order placements)."""
        peaks = limiter.peaks
        endpoints = {}
        for endpoint, (klass, requests, refused) in sorted(self._rows.items()):
            endpoints[endpoint] = {"class": klass, "requests": requests, "http_429": refused,
                                   "peak_window": peaks.get(endpoint, 0)}
        classes: dict[str, dict[str, Any]] = {}
        for klass, limit in LIMIT_CLASSES.items():
            rows = [e for e in endpoints.values() if e["class"] == klass]
            peak = max((e["peak_window"] for e in rows), default=0)
            if klass == "orders":
                peak = max((n for k, n in peaks.items() if k.startswith("orders:")), default=0)
            classes[klass] = {"limit": limit, "requests": sum(e["requests"] for e in rows),
                              "http_429": sum(e["http_429"] for e in rows), "peak_window": peak}
        return {"since_ms": self.since_ms, "elapsed_ms": now_ms - self.since_ms,
                "classes": classes, "endpoints": endpoints}
