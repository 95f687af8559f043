"""Price feeds for paper mode: fixed, synthetic (seeded, accelerated) and replay (a candle file).

A feed answers `poll(symbol)` with the candles that closed since the last poll and the current
ticker, and keeps the price board up to date. The synthetic and replay feeds are accelerated:
every poll closes one more candle, so that a paper session shows decisions within seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from crypto_ai_bot.adapters.candle_files import load_candles
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.model import Candle, Ticker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.feed import FeedUpdate

_CENT = Decimal("0.01")


_HALF_SPREAD = Decimal("0.0002")  # 0.02 % either side of the last price


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """PRICE_FEED (fixed | synthetic | replay | live), FIXED_PRICE (also the synthetic market's
    start), REPLAY_FILE, SYNTHETIC_SEED and TIMEFRAME."""

    kind: str = "synthetic"
    fixed_price: Decimal = Decimal(60000)
    replay_file: str = ""
    synthetic_seed: int = 42
    timeframe: str = "5m"


class _NothingToClose:
    async def close(self) -> None:
        return None


def ticker_around(symbol: str, ts_ms: int, last: Decimal) -> Ticker:
    spread = (last * _HALF_SPREAD).quantize(_CENT)
    return Ticker(symbol, ts_ms, last, last - spread, last + spread)


class FixedFeed(_NothingToClose):
    """One flat candle per timeframe of wall-clock time at a fixed price."""

    def __init__(self, price: Decimal, clock: Clock, board: PriceBoard, step_ms: int) -> None:
        self._price = price
        self._clock = clock
        self._board = board
        self._step = step_ms
        self._last_closed: dict[str, int] = {}

    async def poll(self, symbol: str) -> FeedUpdate:
        now = self._clock.now_ms()
        current_open = now - now % self._step
        last = self._last_closed.get(symbol, current_open - 2 * self._step)
        p = self._price
        candles = [
            Candle(ts, p, p, p, p, Decimal(0))
            for ts in range(last + self._step, current_open, self._step)
        ]
        if candles:
            self._last_closed[symbol] = candles[-1].ts_ms
        return FeedUpdate(candles, await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        t = Ticker(symbol, self._clock.now_ms(), self._price, self._price, self._price)
        self._board.update(t)
        return t


class SyntheticMarket:
    """A seeded random market with trending and mean-reverting stretches."""

    _REGIMES = ("up", "down", "range", "up", "down")

    def __init__(self, seed: int, start_price: Decimal, start_ms: int, step_ms: int) -> None:
        self._rng = random.Random(seed)
        self._price = float(start_price)
        self._anchor = self._price
        self._ts = start_ms
        self._step = step_ms
        self._regime = "range"
        self._left = 0

    def next_candle(self) -> Candle:
        rng = self._rng
        if self._left <= 0:
            self._regime = rng.choice(self._REGIMES)
            self._left = rng.randint(5, 14)
            self._anchor = self._price
        self._left -= 1
        vol = 0.0015
        drift = {"up": 0.003, "down": -0.003}.get(self._regime, 0.0)
        if self._regime == "range":
            drift = 0.2 * (self._anchor - self._price) / self._price
        o = self._price
        c = max(o * (1 + drift + rng.gauss(0, vol)), 0.01)
        h = max(o, c) * (1 + abs(rng.gauss(0, vol / 2)))
        lo = min(o, c) * (1 - abs(rng.gauss(0, vol / 2)))
        self._price = c
        candle = Candle(
            self._ts, _dec(o), _dec(h), _dec(lo), _dec(c), _dec(rng.uniform(1, 50))
        )
        self._ts += self._step
        return candle


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


class SyntheticFeed(_NothingToClose):
    """Accelerated synthetic market: the first poll returns `warmup` candles, then one per poll."""

    def __init__(
        self, seed: int, start_price: Decimal, clock: Clock, board: PriceBoard, step_ms: int,
        warmup: int = 60,
    ) -> None:
        self._seed = seed
        self._start_price = start_price
        self._clock = clock
        self._board = board
        self._step = step_ms
        self._warmup = warmup
        self._markets: dict[str, SyntheticMarket] = {}
        self._last: dict[str, Candle] = {}

    def _market(self, symbol: str) -> SyntheticMarket:
        m = self._markets.get(symbol)
        if m is None:
            now = self._clock.now_ms()
            start = now - now % self._step - self._warmup * self._step
            seed = self._seed + sum(map(ord, symbol))
            m = self._markets[symbol] = SyntheticMarket(seed, self._start_price, start, self._step)
        return m

    async def poll(self, symbol: str) -> FeedUpdate:
        first = symbol not in self._markets
        m = self._market(symbol)
        candles = [m.next_candle() for _ in range(self._warmup if first else 1)]
        self._last[symbol] = candles[-1]
        return FeedUpdate(candles, await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        last = self._last.get(symbol)
        price = last.close if last else self._start_price
        t = ticker_around(symbol, self._clock.now_ms(), price)
        self._board.update(t)
        return t


class ReplayFeed(_NothingToClose):
    """Replays a candle file, accelerated like the synthetic feed; stops at the end."""

    def __init__(self, path: str, clock: Clock, board: PriceBoard, warmup: int = 60) -> None:
        self._candles = load_candles(path)
        if not self._candles:
            raise ValueError(f"{path}: no candles")
        self._clock = clock
        self._board = board
        self._warmup = warmup
        self._pos: dict[str, int] = {}

    async def poll(self, symbol: str) -> FeedUpdate:
        pos = self._pos.get(symbol, 0)
        n = self._warmup if pos == 0 else 1
        candles = self._candles[pos : pos + n]
        self._pos[symbol] = pos + len(candles)
        return FeedUpdate(candles, await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        pos = max(self._pos.get(symbol, 1), 1)
        price = self._candles[min(pos, len(self._candles)) - 1].close
        t = ticker_around(symbol, self._clock.now_ms(), price)
        self._board.update(t)
        return t
