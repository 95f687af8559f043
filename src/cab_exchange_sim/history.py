"""Price history of one pair (synthetic before start, recorded ticks after) and its candles."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .catalog import usd_price
from .models import Pair, fmt, quantize_down
from .prices import noise, unit

INTERVALS = {
    "10s": 10, "1m": 60, "5m": 300, "15m": 900, "30m": 1_800, "1h": 3_600, "2h": 7_200,
    "4h": 14_400, "8h": 28_800, "1d": 86_400, "7d": 604_800, "30d": 2_592_000,
}
MAX_POINTS = 1000
MAX_TICKS = 200_000
Candle = list[str]


class PriceHistory:
    """Prices of one pair at any time: synthetic before `start_ms`, recorded ticks after it."""

    def __init__(self, key: str, pair: Pair, anchor: Decimal, start_ms: int) -> None:
        self.key = key
        self.pair = pair
        self.anchor = anchor
        self.start_ms = start_ms
        self.times: list[int] = [start_ms]
        self.values: list[Decimal] = [anchor]
        self._base_noise = noise(key, start_ms // 1000)
        self._cache: dict[tuple[int, int], Candle] = {}

    @property
    def last(self) -> Decimal:
        return self.values[-1]

    def record(self, now_ms: int, price: Decimal) -> None:
        self.times.append(max(now_ms, self.times[-1]))
        self.values.append(price)
        if len(self.times) > MAX_TICKS:
            del self.times[: MAX_TICKS // 2]
            del self.values[: MAX_TICKS // 2]

    def synthetic(self, t_ms: int) -> Decimal:
        """The synthetic price, continuous with the anchor price at start."""
        return self.anchor * (noise(self.key, t_ms // 1000) - self._base_noise).exp()

    def price_at(self, t_ms: int) -> Decimal:
        if t_ms < self.start_ms:
            return self.pair.round_price(self.synthetic(t_ms))
        index = bisect_right(self.times, t_ms) - 1
        return self.values[max(index, 0)]

    def candle(self, t_s: int, interval_s: int, now_ms: int) -> Candle:
        """Gate's spot row [t, quote_vol, close, high, low, open, base_vol, is_closed]."""
        start, end = t_s * 1000, (t_s + interval_s) * 1000
        closed = end <= now_ms
        cache_key = (t_s, interval_s)
        if closed and cache_key in self._cache:  # the past never changes: ticks only append
            return self._cache[cache_key]
        upto = end if closed else now_ms + 1
        points = [self.price_at(start)]
        synthetic_end = min(upto, self.start_ms)
        if start < synthetic_end:
            samples = max(2, min(6, interval_s // 60))
            for j in range(1, samples):
                t = start + (end - start) * j // samples
                if t < synthetic_end:
                    points.append(self.price_at(t))
        if upto > self.start_ms:
            lo = bisect_left(self.times, max(start, self.start_ms))
            hi = bisect_left(self.times, upto)
            points.extend(self.values[lo:hi])
        # A fully synthetic candle closes at the next one's open; later ones at the last tick.
        close = self.price_at(end if end <= self.start_ms else upto - 1)
        points.append(close)
        high, low = max(points), min(points)
        if end <= self.start_ms:
            wick = unit(self.key, "wick", t_s, interval_s) * Decimal("0.0006")
            high = (high * (1 + wick)).quantize(self.pair.tick, rounding=ROUND_CEILING)
            low = (low * (1 - wick)).quantize(self.pair.tick, rounding=ROUND_FLOOR)
        minutes = Decimal(interval_s) / 60
        factor = Decimal("0.3") + unit(self.key, "vol", t_s, interval_s) * Decimal("1.4")
        base_vol = quantize_down(
            Decimal(20_000) / usd_price(self.pair.base) * minutes * factor,
            self.pair.amount_precision,
        )
        if not closed:
            elapsed = Decimal(max(now_ms - start, 0)) / (end - start)
            base_vol = quantize_down(base_vol * elapsed, self.pair.amount_precision)
        quote_vol = quantize_down(base_vol * (points[0] + close) / 2, 8)
        row = [str(t_s), fmt(quote_vol), fmt(close), fmt(high), fmt(low), fmt(points[0]),
               fmt(base_vol), "true" if closed else "false"]
        if closed:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[cache_key] = row
        return row


def candles(history: PriceHistory, interval_s: int, now_ms: int, limit: int | None,
            from_s: int | None, to_s: int | None) -> list[Candle]:
    """Candles as GET /spot/candlesticks answers them (at most 1000, none in the future)."""
    last_bucket = (now_ms // 1000) // interval_s * interval_s
    end = to_s if to_s is not None else now_ms // 1000
    end_bucket = min(end // interval_s * interval_s, last_bucket)
    if from_s is None:
        count = min(limit or 100, MAX_POINTS)
        first = end_bucket - (count - 1) * interval_s
    else:
        first = -(-from_s // interval_s) * interval_s
        end_bucket = min(end_bucket, first + (MAX_POINTS - 1) * interval_s)
    return [history.candle(t, interval_s, now_ms)
            for t in range(first, end_bucket + 1, interval_s)]


def stats_24h(history: PriceHistory, now_ms: int) -> dict[str, Decimal]:
    """High, low, open and volumes over the last 24 hours (from hourly candles)."""
    rows = candles(history, 3_600, now_ms, 25, None, None)
    return {
        "high": max(Decimal(r[3]) for r in rows),
        "low": min(Decimal(r[4]) for r in rows),
        "open": history.price_at(now_ms - 86_400_000),
        "base_volume": sum((Decimal(r[6]) for r in rows), Decimal(0)),
        "quote_volume": sum((Decimal(r[1]) for r in rows), Decimal(0)),
    }
