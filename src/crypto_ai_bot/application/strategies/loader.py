"""Strategies from outside the package: a file, a module, or an installed package's entry point.

    STRATEGY=strategies/my_rsi.py:MyRsi        a class in a file (loaded from that path)
    STRATEGY=my_package.strategies:MyRsi       a class in an importable module
    STRATEGY=strategies/my_rsi.py              a file or module that names a STRATEGY entry

A class is a strategy when it has `on_candle`, or is an IStrategy (vector.py, freqtrade's
shape); an IncrementalStrategy (base.py) or IStrategy brings its declared parameters, any other
class is built with no parameters. Importing a file runs its code: load only strategies you
trust, as with any Python you run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from crypto_ai_bot.application.strategies import StrategyContext, StrategyEntry
from crypto_ai_bot.application.strategies.base import IncrementalStrategy, entry_for
from crypto_ai_bot.application.strategies.vector import IStrategy, vector_entry


def is_spec(text: str) -> bool:
    """Whether a STRATEGY value names a file or module rather than a registered strategy."""
    return ":" in text or text.endswith(".py") or "/" in text or "." in text


@cache
def load(spec: str) -> StrategyEntry:
    """The entry for `file.py[:Class]` or `module[:Class]`; ValueError names what is wrong."""
    where, _, attr = spec.partition(":")
    module = load_module(where.strip())
    if attr:
        target = getattr(module, attr.strip(), None)
        if target is None:
            raise ValueError(f"{where} has no {attr.strip()!r}")
        return _entry(target, spec)
    found = getattr(module, "STRATEGY", None)
    if not isinstance(found, StrategyEntry):
        raise ValueError(f"{where} names no STRATEGY: give the class, as {where}:ClassName")
    return found


def from_entry_points(group: str) -> list[StrategyEntry]:
    """The strategies installed packages declare (`[project.entry-points."<group>"]`)."""
    out = []
    for ep in entry_points(group=group):
        try:
            target = ep.load()
        except Exception as exc:  # an installed package that does not import is named
            raise ValueError(f"entry point {ep.name} ({ep.value}): {exc}") from exc
        found = target if isinstance(target, StrategyEntry) else _entry(target, ep.name)
        out.append(found if found.name == ep.name else replace(found, name=ep.name))
    return out


def load_module(where: str, kind: str = "strategy") -> ModuleType:
    """A user's module: by file path (`where` ends in .py or holds a /) or by import name;
    ValueError naming the problem. `kind` names it in the message (a strategy, an objective)."""
    if where.endswith(".py") or "/" in where:
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"no {kind} file {where}")
        name = f"cab_user_{kind}_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"{where} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise ValueError(f"{where}: {type(exc).__name__}: {exc}") from exc
        return module
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise ValueError(f"cannot import {where}: {exc}") from exc


def _entry(target: Any, spec: str) -> StrategyEntry:
    if isinstance(target, StrategyEntry):
        return target
    if isinstance(target, type) and issubclass(target, IncrementalStrategy):
        return entry_for(target, spec)
    if isinstance(target, type) and issubclass(target, IStrategy):
        return vector_entry(target, spec)
    if isinstance(target, type) and callable(getattr(target, "on_candle", None)):
        summary = (target.__doc__ or target.__name__).strip().splitlines()[0]

        def build(_values: dict[str, Any], _context: StrategyContext) -> Any:
            return target()

        return StrategyEntry(spec, summary, {}, build)
    raise ValueError(f"{spec} is not a strategy (a class with on_candle)")
