"""The emulated exchange: engine, trigger orders, countdown and prices behind one lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .engine import Engine
from .faults import RateLimiter, RequestStats, SimSettings
from .feed import PriceFeed
from .models import GateError, Order, Pair
from .prices import PathFactory
from .triggers import TriggerBook

Clock = Callable[[], int]


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Exchange:
    """All mutable emulator state. Callers hold `lock` around every use."""

    def __init__(self, pairs: Mapping[str, Pair], balances: Mapping[str, Decimal], *,
                 seed: int = 0, clock: Clock = wall_ms,
                 factories: Mapping[str, PathFactory] | None = None,
                 settings: SimSettings | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.pairs = dict(pairs)
        self.settings = settings or SimSettings()
        self.limiter = RateLimiter()
        self.requests = RequestStats(clock())
        self.engine = Engine(self.pairs, self.settings)
        self.triggers = TriggerBook()
        self.countdowns: dict[str, int] = {}  # currency_pair ("" = all) -> deadline ms
        self.initial_balances = dict(balances)
        self.feed = PriceFeed(self.pairs, seed, clock(), factories)
        self.engine.set_balances(balances)
        self.last_tick_ms = clock()

    def now(self) -> int:
        return self.clock()

    def pair(self, pair_id: str | None) -> Pair:
        return self.engine.pair(pair_id)

    def price(self, pair_id: str) -> Decimal:
        return self.feed.price(pair_id)

    # -- prices ---------------------------------------------------------------------------

    def set_price(self, pair_id: str, price: Decimal) -> Decimal:
        """Set a pair's last price, then match resting orders and fire trigger orders."""
        with self.lock:
            pair = self.pair(pair_id)
            if price <= 0:
                raise ValueError("price must be positive")
            now = self.now()
            actual = self.feed.set(pair.id, price, now)
            self._after_price(pair, actual, now)
            return actual

    def advance(self, steps: int = 1) -> dict[str, Decimal]:
        """Move every pair `steps` steps along its price path."""
        with self.lock:
            now = self.now()
            for _ in range(steps):
                for pair in self.pairs.values():
                    self._after_price(pair, self.feed.step(pair.id, now), now)
            return {pid: self.feed.price(pid) for pid in self.pairs}

    def _after_price(self, pair: Pair, price: Decimal, now: int) -> None:
        self.engine.match(pair, price, now)
        for trig in self.triggers.due(pair.id, price):
            trig.ftime_ms = now
            try:
                order = self.engine.place(
                    pair, trig.put_side, trig.put_type, trig.put_amount,
                    trig.put_price if trig.put_type == "limit" else None,
                    trig.put_tif if trig.put_type == "limit" else "ioc",
                    trig.put_text, price, now,
                )
            except GateError as exc:
                trig.status, trig.reason = "failed", exc.message
                continue
            trig.status, trig.reason, trig.fired_order_id = "finish", "success", order.id

    # -- orders ---------------------------------------------------------------------------

    def place_order(self, pair_id: str | None, side: str, otype: str, amount: Decimal,
                    price: Decimal | None, tif: str | None, text: str | None) -> Order:
        with self.lock:
            pair = self.pair(pair_id)
            return self.engine.place(pair, side, otype, amount, price, tif, text,
                                     self.price(pair.id), self.now())

    # -- countdown cancel-all and the clock -----------------------------------------------

    def arm_countdown(self, timeout_s: int, pair_id: str | None) -> int:
        """Arm (or with 0 disarm) Gate's countdown cancel-all; returns the trigger time in ms."""
        with self.lock:
            key = self.pair(pair_id).id if pair_id else ""
            if timeout_s == 0:
                self.countdowns.pop(key, None)
                return 0
            if timeout_s < 5:
                raise GateError("INVALID_PARAM_VALUE", "invalid argument: timeout must be >= 5")
            deadline = self.now() + timeout_s * 1000
            self.countdowns[key] = deadline
            return deadline

    def fire_countdowns(self, only_due: bool = True) -> list[Order]:
        """Cancel open orders of every expired countdown (or every armed one)."""
        with self.lock:
            now = self.now()
            cancelled: list[Order] = []
            for key, deadline in list(self.countdowns.items()):
                if only_due and deadline > now:
                    continue
                del self.countdowns[key]
                cancelled += self.engine.cancel_all(key or None, None, now)
            return cancelled

    def tick(self, tick_ms: int) -> None:
        """Periodic work: countdowns, trigger expiry and (if tick_ms > 0) the price path."""
        with self.lock:
            now = self.now()
            self.fire_countdowns()
            self.triggers.expire(now)
            if tick_ms > 0 and now - self.last_tick_ms >= tick_ms:
                self.last_tick_ms = now
                self.advance(1)

    # -- control --------------------------------------------------------------------------

    def set_balances(self, balances: Mapping[str, Decimal]) -> None:
        with self.lock:
            self.engine.set_balances(balances)

    def reset(self, balances: Mapping[str, Decimal] | None = None,
              prices: Mapping[str, Decimal] | None = None) -> None:
        """Back to a fresh exchange (order ids keep increasing); faults are cleared."""
        with self.lock:
            self.engine.clear()
            self.triggers.orders.clear()
            self.countdowns.clear()
            self.limiter.clear()
            self.requests.clear(self.now())
            self.settings.clear()
            self.engine.set_balances(self.initial_balances if balances is None else balances)
            clean = {self.pair(k).id: v for k, v in (prices or {}).items()}
            self.feed.reset(clean, self.now())

    def countdown_json(self) -> dict[str, Any]:
        return {(k or "*"): str(v) for k, v in self.countdowns.items()}
