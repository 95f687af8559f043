"""The strategy registry: every module in this package that names a `STRATEGY` is one.

A strategy is one file: its class and, beside it, `STRATEGY = StrategyEntry(name, summary,
Params, build)`, where Params is a pydantic model of its parameters (names, types, defaults,
bounds; unknown names refused) and build(params, context) makes a fresh instance for one
symbol. Settings (STRATEGY), cab-backtest --strategy and its --help list what is found here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from crypto_ai_bot.ports.strategy import ModelLoader, Strategy


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """What a strategy may need from outside the application: the bootstrap provides it."""

    load_model: ModelLoader | None = None


@dataclass(frozen=True, slots=True)
class StrategyEntry:
    name: str
    summary: str  # one line, for --help and errors
    params: type[BaseModel]
    build: Callable[[Any, StrategyContext], Strategy]


@cache
def registry() -> dict[str, StrategyEntry]:
    """name -> entry, for every STRATEGY in this package's modules (sorted by name)."""
    found: dict[str, StrategyEntry] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        entry = getattr(module, "STRATEGY", None)
        if isinstance(entry, StrategyEntry):
            if entry.name in found:
                raise RuntimeError(f"two strategies named {entry.name!r}")
            found[entry.name] = entry
    return dict(sorted(found.items()))


def names() -> list[str]:
    return list(registry())


def entry(name: str) -> StrategyEntry:
    try:
        return registry()[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; one of {', '.join(names())}") from None


def parse_params(name: str, params: Mapping[str, Any] | None = None) -> BaseModel:
    """The strategy's parameters, validated; ValueError names what is wrong."""
    e = entry(name)
    try:
        return e.params.model_validate(dict(params or {}))
    except ValidationError as exc:
        unknown = sorted(str(err["loc"][0]) for err in exc.errors()
                         if err["type"] == "extra_forbidden")
        if unknown:
            raise ValueError(f"{name}: unknown parameter(s) {', '.join(unknown)}") from None
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{name}: {where + ': ' if where else ''}{message}") from None


def build_strategy(
    name: str, params: Mapping[str, Any] | None = None,
    context: StrategyContext | None = None,
) -> Strategy:
    """A fresh strategy instance. Unknown names or parameters raise ValueError."""
    return entry(name).build(parse_params(name, params), context or StrategyContext())
