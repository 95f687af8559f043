"""The strategy registry: every module in this package that names a `STRATEGY` is one, and so
is every strategy an installed package declares in the entry-point group
`crypto_ai_bot.strategies`.

A strategy is one file, named as the strategy (ema_cross.py is `ema_cross`): its class and,
beside it, `STRATEGY = StrategyEntry(name, summary,
Params, build)` (or `entry_for(MyClass)`, base.py), where Params is a pydantic model of its
parameters (names, types, defaults, bounds; unknown names refused) and build(params, context)
makes a fresh instance for one symbol. Besides a registered name, STRATEGY and --strategy take
`path/to/file.py:Class`, `package.module:Class`, or a file or module that names a STRATEGY
(loader.py). Settings (STRATEGY), cab-backtest --strategy and its --help list what is found.
"""

from __future__ import annotations

import importlib
import importlib.util
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


ENTRY_POINTS = "crypto_ai_bot.strategies"


@cache
def builtins() -> dict[str, StrategyEntry]:
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


@cache
def registry() -> dict[str, StrategyEntry]:
    """The built-in strategies and every entry point of the group (sorted by name). Reading
    the installed packages' metadata costs a backtest ~50 ms: only when a name needs it."""
    from crypto_ai_bot.application.strategies.loader import from_entry_points

    found = dict(builtins())
    for entry in from_entry_points(ENTRY_POINTS):
        found.setdefault(entry.name, entry)  # a built-in name is never shadowed
    return dict(sorted(found.items()))


def names() -> list[str]:
    return list(registry())


def _module_entry(name: str) -> StrategyEntry | None:
    """The built-in strategy `name` from its own module (named as the strategy is), imported
    alone: a run pays for its strategy, not for every strategy there is."""
    if not name.isidentifier() or importlib.util.find_spec(f"{__name__}.{name}") is None:
        return None
    found = getattr(importlib.import_module(f"{__name__}.{name}"), "STRATEGY", None)
    return found if isinstance(found, StrategyEntry) and found.name == name else None


def entry(name: str) -> StrategyEntry:
    """A registered strategy, or one loaded from a file or module (`path.py:Class`)."""
    found = _module_entry(name)
    if found is not None:
        return found
    from crypto_ai_bot.application.strategies.loader import is_spec, load

    if is_spec(name):
        return load(name)
    found = registry().get(name)
    if found is not None:
        return found
    raise ValueError(f"unknown strategy {name!r}; one of {', '.join(names())}"
                     " (or path/to/file.py:Class, package.module:Class)")


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
