"""A seeded random-walk market of 5-minute candles with trending and ranging stretches: enough
crosses for an EMA strategy to trade, for the optimiser's tests (no shared data needed)."""

from __future__ import annotations

import math
import random
from decimal import Decimal

from crypto_ai_bot.domain.model import Candle

T0 = 1_767_225_600_000  # 2026-01-01
STEP = 300_000
DAY = 288  # 5-minute candles a day


def market(days: float, seed: int = 3, start: float = 100.0) -> list[Candle]:
    rnd = random.Random(seed)
    out: list[Candle] = []
    price, drift = start, 0.0
    for i in range(int(days * DAY)):
        if i % 400 == 0:
            drift = rnd.uniform(-0.0006, 0.0006)
        close = max(1.0, price * (1 + drift + rnd.gauss(0, 0.003)))
        hi = max(price, close) * (1 + abs(rnd.gauss(0, 0.001)))
        lo = min(price, close) * (1 - abs(rnd.gauss(0, 0.001)))
        d = [Decimal(f"{x:.4f}") for x in (price, hi, lo, close)]
        out.append(Candle(T0 + i * STEP, d[0], max(d), min(d), d[3], Decimal(5)))
        price = float(d[3])
    return out


def poisoned(candles: list[Candle], from_ms: int, seed: int = 99) -> list[Candle]:
    """The same candles, those from from_ms on replaced by a wild, different market (still
    valid OHLC rows): a search that read any of them would come out differently."""
    rnd = random.Random(seed)
    out = []
    for c in candles:
        if c.ts_ms < from_ms:
            out.append(c)
            continue
        o, cl = (Decimal(f"{rnd.uniform(10, 1000):.4f}") for _ in range(2))
        out.append(Candle(c.ts_ms, o, max(o, cl) * Decimal("1.01"), min(o, cl) * Decimal("0.99"),
                          cl, c.volume))
    return out


def wave(n: int) -> list[Candle]:
    """`n` 5-minute candles of two sine waves around 100: a smooth market that crosses often,
    the same every time (for strategy tests that need no randomness)."""
    out = []
    for i in range(n):
        p = 100 + 20 * math.sin(i / 25) + 5 * math.sin(i / 4)
        q = Decimal(str(round(p, 2)))
        out.append(Candle(T0 + i * STEP, q, q + 1, q - 1, q, Decimal(1)))
    return out
