"""The search space: the strategy's declared parameters that have a range, plus the stops.

`stop_pct` (the hard stop below the entry) and `trailing_pct` (below the peak; 0 = off) are
searched beside the strategy's own parameters, named as cab-backtest's flags. A parameter given
a value (`--param name=value`) is held there; `--space name=low:high` narrows a range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crypto_ai_bot.application.strategies.params import Spec

EXITS = ("stop_pct", "trailing_pct")
EXIT_RANGES: dict[str, tuple[float, float]] = {"stop_pct": (0.5, 10.0), "trailing_pct": (0.0, 10.0)}
EXIT_STEP = 0.1  # percentages to a tenth: values a trader would type


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    kind: type  # int or float
    low: float
    high: float
    step: float | None = None

    def describe(self) -> str:
        return f"{self.name}={self.low:g}:{self.high:g}"


def build_space(spec: Spec, fixed: Mapping[str, Any],
                ranges: Mapping[str, tuple[float, float]]) -> tuple[Dimension, ...]:
    """The dimensions searched; ValueError names a range or a name that cannot be used."""
    for name in EXITS:
        if name in spec:
            raise ValueError(f"the strategy declares {name!r}, a name the optimiser keeps for"
                             " the stops")
    known = set(spec) | set(EXITS)
    for name in list(fixed) + list(ranges):
        if name not in known:
            raise ValueError(f"unknown parameter {name!r}; one of {', '.join(sorted(known))}")
    dims: list[Dimension] = []
    for name, p in spec.items():
        if name in fixed or p.kind not in (int, float):
            continue
        low, high = ranges.get(name, (p.low, p.high))
        if low is None or high is None:
            continue  # declared without a range and given none: held at its default
        if (p.low is not None and low < p.low) or (p.high is not None and high > p.high):
            raise ValueError(f"--space {name}={low:g}:{high:g} leaves its declared range"
                             f" [{p.low}, {p.high}]")
        dims.append(_dimension(name, p.kind, low, high))
    for name in EXITS:
        if name not in fixed:
            low, high = ranges.get(name, EXIT_RANGES[name])
            if low < 0 or high >= 100:
                raise ValueError(f"--space {name}: percentages from 0 to below 100")
            dims.append(_dimension(name, float, low, high, EXIT_STEP))
    if not dims:
        raise ValueError("nothing to search: every parameter is fixed")
    return tuple(dims)


def _dimension(name: str, kind: type, low: float, high: float,
               step: float | None = None) -> Dimension:
    if low > high:
        raise ValueError(f"--space {name}={low:g}:{high:g}: low above high")
    if kind is int and (low != int(low) or high != int(high)):
        raise ValueError(f"--space {name}={low:g}:{high:g}: {name} is an integer")
    return Dimension(name, kind, low, high, step)


def parse_range(text: str) -> tuple[str, tuple[float, float]]:
    """`name=low:high` -> (name, (low, high)); ValueError when malformed."""
    name, sep, rest = text.partition("=")
    low, colon, high = rest.partition(":")
    try:
        if not sep or not colon or not name.strip():
            raise ValueError
        return name.strip(), (float(low), float(high))
    except ValueError:
        raise ValueError(f"--space {text!r}: expected NAME=LOW:HIGH, e.g. fast=5:50") from None
