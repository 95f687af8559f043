"""Price paths: a seeded random walk or a candle file, and deterministic synthetic history."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import random
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Protocol

# (span in seconds, amplitude in millionths of log-price) of the smooth noise layers.
OCTAVES: tuple[tuple[int, int], ...] = (
    (60, 800),
    (300, 1_500),
    (1_800, 4_000),
    (7_200, 8_000),
    (43_200, 15_000),
    (259_200, 30_000),
    (1_209_600, 60_000),
)
TWO_63 = Decimal(2**63)
NODE_SCALE = 10**12
NOISE_SCALE = Decimal(NODE_SCALE * 10**6)


@lru_cache(maxsize=262_144)
def _node(key: str, octave: int, n: int) -> int:
    """A deterministic integer in [-NODE_SCALE, NODE_SCALE)."""
    digest = hashlib.blake2b(f"{key}:{octave}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") * 2 * NODE_SCALE // 2**64 - NODE_SCALE


def unit(key: str, *parts: object) -> Decimal:
    """A deterministic number in [0, 1) for a key and parts."""
    text = ":".join([key, *map(str, parts)])
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return Decimal(int.from_bytes(digest, "big")) / (2 * TWO_63)


@lru_cache(maxsize=65_536)
def noise(key: str, t_s: int) -> Decimal:
    """Smooth deterministic log-price noise at second `t_s` (any time, past or future).

    Integer arithmetic (smoothstep between hashed nodes per octave), one Decimal at the end.
    """
    total = 0
    for index, (span, amplitude) in enumerate(OCTAVES):
        n, rem = divmod(t_s, span)
        a, b = _node(key, index, n), _node(key, index, n + 1)
        smooth_num = rem * rem * (3 * span - 2 * rem)
        total += amplitude * (a + (b - a) * smooth_num // span**3)
    return Decimal(total) / NOISE_SCALE


class PricePath(Protocol):
    """Where the price goes next, one step at a time."""

    def first(self) -> Decimal: ...

    def next(self, current: Decimal) -> Decimal: ...


class SyntheticWalk:
    """A seeded random walk with a slight pull back to its starting price."""

    def __init__(self, key: str, start: Decimal, step: Decimal = Decimal("0.001")) -> None:
        self._rng = random.Random(key)
        self._start = start
        self._step = step

    def first(self) -> Decimal:
        return self._start

    def next(self, current: Decimal) -> Decimal:
        move = Decimal(self._rng.randint(-1_000_000, 1_000_000)) / 1_000_000
        pull = (self._start - current) * Decimal("0.002")
        return current * (1 + move * self._step) + pull


class FilePath:
    """Steps through candle rows: open, then low/high in the likely order, then close."""

    def __init__(self, rows: list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]],
                 ) -> None:
        points: list[Decimal] = []
        for _, o, h, low, c, _ in rows:
            points.extend((o, low, h, c) if c >= o else (o, h, low, c))
        self._points = points
        self._index = 0

    def first(self) -> Decimal:
        return self._points[0]

    def next(self, current: Decimal) -> Decimal:
        if self._index + 1 < len(self._points):
            self._index += 1
        return self._points[self._index]


PathFactory = Callable[[], PricePath]


def _lines(path: Path) -> Iterator[str]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    yield from io.StringIO(raw.decode("utf-8"))


Row = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]


def load_candle_file(path: str | Path) -> list[Row]:
    """Read `timestamp_ms,open,high,low,close,volume` rows (optional header, .gz allowed)."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"price path file not found: {path}")
    rows = []
    try:
        lines = list(_lines(file))
    except (OSError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise ValueError(f"cannot read price path file {path}: {exc}") from None
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or (number == 1 and not row[0].strip().isdigit()):
            continue
        if len(row) < 6:
            raise ValueError(f"{path}:{number}: expected 6 columns timestamp_ms,o,h,l,c,v")
        try:
            ts = int(row[0])
            o, h, low, c, v = (Decimal(x.strip()) for x in row[1:6])
        except (ValueError, InvalidOperation):
            raise ValueError(f"{path}:{number}: not a number") from None
        if min(o, h, low, c) <= 0:
            raise ValueError(f"{path}:{number}: prices must be positive")
        rows.append((ts, o, h, low, c, v))
    if not rows:
        raise ValueError(f"{path}: no candle rows")
    return rows
