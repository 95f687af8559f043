"""Price feeds for paper mode: fixed, synthetic (seeded, accelerated) and replay (a candle file).

A feed answers `poll(symbol)` with the candles that closed since the last poll and the current
ticker, and keeps the price board up to date. The synthetic and replay feeds are accelerated:
every poll closes one more candle, so that a paper session shows decisions within seconds.

A restart is a non-event: given the key-value state (StateRepository), the synthetic and replay
feeds note how far each symbol's market has gone and a new process resumes it there (the same
seed replays the same market up to that candle), so that a stored trailing stop meets the price
it left, not the market's start. Each symbol starts at a plausible price of its own.
"""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crypto_ai_bot.adapters.candle_files import load_candles
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.model import Candle, Ticker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.feed import FeedUpdate
from crypto_ai_bot.ports.storage import StateRepository

_CENT = Decimal("0.01")


_HALF_SPREAD = Decimal("0.0002")  # 0.02 % either side of the last price


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """PRICE_FEED (fixed | synthetic | replay | live), FIXED_PRICE (also the synthetic market's
    start), REPLAY_FILE, SYNTHETIC_SEED and TIMEFRAME."""

    kind: str = "synthetic"
    fixed_price: Decimal | None = None  # None: each symbol's own plausible price
    replay_file: str = ""
    synthetic_seed: int = 42
    timeframe: str = "5m"
    symbols: tuple[str, ...] = ()  # live: every ticker batch asks for all of them
    tickers_max_age_ms: int = 500  # live: a batch older than this is read again


# rough prices of well-known bases (quote USDT), so that a paper ETH/USDT does not trade at BTC's
START_PRICES: dict[str, Decimal] = {
    "BTC": Decimal(60000), "ETH": Decimal(3000), "BNB": Decimal(600), "SOL": Decimal(150),
    "LTC": Decimal(80), "AVAX": Decimal(30), "LINK": Decimal(15), "DOT": Decimal(6),
    "ATOM": Decimal(8), "UNI": Decimal(8), "ADA": Decimal("0.5"), "XRP": Decimal("0.6"),
    "DOGE": Decimal("0.15"), "TRX": Decimal("0.12"),
}
DEFAULT_START_PRICE = Decimal(100)


def start_price(symbol: str, configured: Decimal | None = None) -> Decimal:
    """FIXED_PRICE when set; else the base's plausible price (100 for one not listed)."""
    if configured is not None:
        return configured
    return START_PRICES.get(symbol.split("/")[0].upper(), DEFAULT_START_PRICE)


class _NothingToClose:
    async def close(self) -> None:
        return None


def ticker_around(symbol: str, ts_ms: int, last: Decimal) -> Ticker:
    spread = (last * _HALF_SPREAD).quantize(_CENT)
    return Ticker(symbol, ts_ms, last, last - spread, last + spread)


class FixedFeed(_NothingToClose):
    """One flat candle per timeframe of wall-clock time at a fixed price."""

    def __init__(self, price: Decimal | None, clock: Clock, board: PriceBoard,
                 step_ms: int) -> None:
        self._price = price
        self._clock = clock
        self._board = board
        self._step = step_ms
        self._last_closed: dict[str, int] = {}

    async def poll(self, symbol: str) -> FeedUpdate:
        now = self._clock.now_ms()
        current_open = now - now % self._step
        last = self._last_closed.get(symbol, current_open - 2 * self._step)
        p = start_price(symbol, self._price)
        candles = [
            Candle(ts, p, p, p, p, Decimal(0))
            for ts in range(last + self._step, current_open, self._step)
        ]
        if candles:
            self._last_closed[symbol] = candles[-1].ts_ms
        return FeedUpdate(candles, await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        p = start_price(symbol, self._price)
        t = Ticker(symbol, self._clock.now_ms(), p, p, p)
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
        self.made = 0  # candles made so far

    def _move(self) -> tuple[float, float, float, float, float]:
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
        self._ts += self._step
        self.made += 1
        return o, h, lo, c, rng.uniform(1, 50)

    def next_candle(self) -> Candle:
        ts = self._ts
        o, h, lo, c, v = self._move()
        return Candle(ts, _dec(o), _dec(h), _dec(lo), _dec(c), _dec(v))

    def replay(self, count: int, keep: int) -> list[Candle]:
        """Make `count` candles (as a market of the same seed made them), the last `keep`
        of them returned."""
        for _ in range(max(count - keep, 0)):
            self._move()
        return [self.next_candle() for _ in range(min(keep, count))]

    def snapshot(self) -> dict[str, Any]:
        """Everything the next candles depend on, JSON-ready (floats round-trip exactly)."""
        version, internal, gauss = self._rng.getstate()
        return {"made": self.made, "ts": self._ts, "price": self._price,
                "anchor": self._anchor, "regime": self._regime, "left": self._left,
                "rng": [version, list(internal), gauss]}

    def restore(self, snap: dict[str, Any]) -> None:
        """Continue from a snapshot of a market of the same seed, price and step."""
        version, internal, gauss = snap["rng"]
        self._rng.setstate((version, tuple(internal), gauss))
        self.made, self._ts = int(snap["made"]), int(snap["ts"])
        self._price, self._anchor = float(snap["price"]), float(snap["anchor"])
        self._regime, self._left = str(snap["regime"]), int(snap["left"])


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


class SyntheticFeed(_NothingToClose):
    """Accelerated synthetic market: the first poll returns `warmup` candles, then one per poll.

    With `state`, each poll notes the candles made so far; a feed started later on the same
    state (a restart) replays the market to there: its ticker shows the last close at once,
    and its first poll returns the last `warmup` candles, the newest one new. Every
    CHECKPOINT_EVERY candles the market's whole state is noted too (the last two, under a key
    of their own), so that a resume replays at most that many candles, not the whole session.
    """

    CHECKPOINT_EVERY = 2000

    def __init__(
        self, seed: int, start_price: Decimal | None, clock: Clock, board: PriceBoard,
        step_ms: int, warmup: int = 60, state: StateRepository | None = None,
    ) -> None:
        self._seed = seed
        self._start_price = start_price
        self._clock = clock
        self._board = board
        self._step = step_ms
        self._warmup = warmup
        self._state = state
        self._markets: dict[str, SyntheticMarket] = {}
        self._last: dict[str, Candle] = {}
        self._history: dict[str, deque[Candle]] = {}  # a resumed market's candles, not polled
        self._starts: dict[str, int] = {}
        self._polled: set[str] = set()
        self._checkpoints: dict[str, list[dict[str, Any]]] = {}

    def _identity(self, symbol: str) -> dict[str, object]:
        return {"seed": self._seed + sum(map(ord, symbol)), "step_ms": self._step,
                "start_price": str(start_price(symbol, self._start_price))}

    def _market(self, symbol: str) -> SyntheticMarket:
        m = self._markets.get(symbol)
        if m is not None:
            return m
        ident = self._identity(symbol)
        saved = self._saved(symbol, ident)
        if saved is not None:  # resume where the last process stopped
            start, made = saved
            m = SyntheticMarket(int(str(ident["seed"])), Decimal(str(ident["start_price"])),
                                start, self._step)
            keep = self._warmup - 1
            points = self._saved_checkpoints(symbol, ident)
            points = [c for c in points  # this session's: its candles' times fit
                      if c.get("ts") == start + int(c["made"]) * self._step]
            usable = [c for c in points if c["made"] <= made - keep]
            if usable:  # from the latest one that leaves the warm-up to replay
                m.restore(usable[-1])
            self._checkpoints[symbol] = [c for c in points if c["made"] <= made]
            kept = m.replay(made - m.made, keep)
            if kept:
                self._last[symbol] = kept[-1]
                self._history[symbol] = deque(kept)
        else:
            now = self._clock.now_ms()
            start = now - now % self._step - self._warmup * self._step
            m = SyntheticMarket(int(str(ident["seed"])), Decimal(str(ident["start_price"])),
                                start, self._step)
        self._markets[symbol] = m
        self._starts[symbol] = start
        return m

    def _key(self, symbol: str) -> str:
        return f"feed.synthetic.{symbol}"

    def _saved(self, symbol: str, ident: dict[str, object]) -> tuple[int, int] | None:
        """(start_ms, candles made) of this symbol's market as last noted, None when there is
        none or it was another market (another seed, price or timeframe)."""
        if self._state is None:
            return None
        raw = self._state.get(self._key(symbol))
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            return None
        if not isinstance(data, dict) or any(data.get(k) != v for k, v in ident.items()):
            return None
        start, made = data.get("start_ms"), data.get("made")
        if not isinstance(start, int) or not isinstance(made, int) or made < 0:
            return None
        return start, made

    def _saved_checkpoints(self, symbol: str, ident: dict[str, object]) -> list[dict[str, Any]]:
        if self._state is None:
            return []
        try:
            data = json.loads(self._state.get(self._key(symbol) + ".checkpoints") or "{}")
            if not isinstance(data, dict) or any(data.get(k) != v for k, v in ident.items()):
                return []
            points = [c for c in data.get("checkpoints", []) if isinstance(c, dict)
                      and isinstance(c.get("made"), int)]
            return sorted(points, key=lambda c: int(c["made"]))
        except (ValueError, TypeError):
            return []

    def _note(self, symbol: str, m: SyntheticMarket) -> None:
        if self._state is None:
            return
        now = self._clock.now_ms()
        ident = self._identity(symbol)
        points = self._checkpoints.setdefault(symbol, [])
        if m.made - (points[-1]["made"] if points else 0) >= self.CHECKPOINT_EVERY:
            points.append(m.snapshot())
            del points[:-2]
            self._state.set(self._key(symbol) + ".checkpoints",
                            json.dumps({**ident, "checkpoints": points}), now)
        data = {**ident, "start_ms": self._starts[symbol], "made": m.made}
        self._state.set(self._key(symbol), json.dumps(data), now)

    async def poll(self, symbol: str) -> FeedUpdate:
        first = symbol not in self._polled
        self._polled.add(symbol)
        m = self._market(symbol)
        history = self._history.pop(symbol, None)
        if history is not None:  # resumed: the strategy warms up on what came before
            candles = [*history, m.next_candle()]
        else:
            candles = [m.next_candle() for _ in range(self._warmup if first else 1)]
        self._last[symbol] = candles[-1]
        self._note(symbol, m)
        return FeedUpdate(candles, await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        self._market(symbol)  # a resumed market knows its last close before its first poll
        last = self._last.get(symbol)
        price = last.close if last else start_price(symbol, self._start_price)
        t = ticker_around(symbol, self._clock.now_ms(), price)
        self._board.update(t)
        return t


class ReplayFeed(_NothingToClose):
    """Replays a candle file, accelerated like the synthetic feed; stops at the end.

    With `state`, each poll notes how far each symbol has read; a feed started later on the
    same state and file resumes there, its first poll returning the last `warmup` candles.
    """

    def __init__(self, path: str, clock: Clock, board: PriceBoard, warmup: int = 60,
                 state: StateRepository | None = None) -> None:
        self._candles = load_candles(path)
        if not self._candles:
            raise ValueError(f"{path}: no candles")
        self._clock = clock
        self._board = board
        self._warmup = warmup
        self._state = state
        self._identity = {"file": path, "candles": len(self._candles),
                          "first_ts_ms": self._candles[0].ts_ms}
        self._pos: dict[str, int] = {}
        self._polled: set[str] = set()

    def _key(self, symbol: str) -> str:
        return f"feed.replay.{symbol}"

    def _position(self, symbol: str) -> int:
        pos = self._pos.get(symbol)
        if pos is None:
            pos = self._pos[symbol] = self._saved(symbol)
        return pos

    def _saved(self, symbol: str) -> int:
        """How far the last process read this file for this symbol (0: from the start)."""
        if self._state is None:
            return 0
        raw = self._state.get(self._key(symbol))
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            return 0
        if not isinstance(data, dict) or any(data.get(k) != v
                                             for k, v in self._identity.items()):
            return 0
        pos = data.get("pos")
        return pos if isinstance(pos, int) and 0 <= pos <= len(self._candles) else 0

    async def poll(self, symbol: str) -> FeedUpdate:
        pos = self._position(symbol)
        first = symbol not in self._polled
        self._polled.add(symbol)
        if pos == 0:
            candles = self._candles[: self._warmup]
            new_pos = len(candles)
        elif first:  # resumed: the strategy warms up on what came before, then one more
            candles = self._candles[max(pos - self._warmup + 1, 0) : pos + 1]
            new_pos = min(pos + 1, len(self._candles))
        else:
            candles = self._candles[pos : pos + 1]
            new_pos = pos + len(candles)
        self._pos[symbol] = new_pos
        if self._state is not None and new_pos != pos:
            self._state.set(self._key(symbol), json.dumps({**self._identity, "pos": new_pos}),
                            self._clock.now_ms())
        return FeedUpdate(candles, await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        pos = max(self._position(symbol), 1)
        price = self._candles[min(pos, len(self._candles)) - 1].close
        t = ticker_around(symbol, self._clock.now_ms(), price)
        self._board.update(t)
        return t
