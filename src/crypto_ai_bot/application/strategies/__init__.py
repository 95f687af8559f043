"""The strategy registry: every module in this package that names a `STRATEGY` is one, and so
is every strategy an installed package declares in the entry-point group
`crypto_ai_bot.strategies`.

A strategy is one file, named as the strategy (ema_cross.py is `ema_cross`): its class and,
beside it, `STRATEGY = StrategyEntry(name, summary, params, build)` (or `entry_for(MyClass)`,
base.py), where params declares its parameters (params.py: names, types, defaults, ranges;
unknown names refused; `params_model()` is their pydantic model) and build(values, context)
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
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.strategies.params import Check, Spec, model_of, validate
from crypto_ai_bot.ports.strategy import ModelLoader, Strategy

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """What a strategy may need from outside the application: the bootstrap provides it."""

    load_model: ModelLoader | None = None
    symbol: str = ""  # the symbol the instance serves (a vectorised strategy's metadata pair)


@dataclass(frozen=True, slots=True)
class StrategyEntry:
    name: str
    summary: str  # one line, for --help and errors
    params: Spec
    build: Callable[[dict[str, Any], StrategyContext], Strategy]
    check: Check | None = None  # a rule across parameters (fast < slow)
    # what the strategy itself sets (a vectorised one's stoploss, trailing_stop*, minimal_roi):
    # the exits it trades with, from the configured ones; and the timeframe it is written for
    exits: Callable[[ExitsConfig], ExitsConfig] | None = None
    timeframe: str = ""

    def params_model(self) -> type[BaseModel]:
        """The parameters as a pydantic model: their JSON schema, ranges included."""
        return model_of(self.params, f"{self.name}Params")


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


def parse_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The strategy's parameters in use, checked; ValueError names what is wrong."""
    e = entry(name)
    return validate(name, e.params, params, e.check)


def build_strategy(
    name: str, params: Mapping[str, Any] | None = None,
    context: StrategyContext | None = None,
) -> Strategy:
    """A fresh strategy instance. Unknown names or parameters raise ValueError."""
    return entry(name).build(parse_params(name, params), context or StrategyContext())
