"""Writing a strategy: a class with its parameters declared on it, and what makes it a strategy.

    class RsiReversion(IncrementalStrategy):
        '''Buy an oversold dip, sell the bounce (RSI).'''
        name = "rsi"
        period = IntParam(14, low=5, high=50, help="RSI period")
        oversold = FloatParam(30, low=10, high=45)

        def on_candle(self, bar: Bar) -> Signal: ...   # self.period is the value in use

A parameter has a type, a default and an optimisation range (params.py); values from `--param`
or STRATEGY_PARAMS are checked against them (unknown names refused) before a strategy is
built, and the registry's entry gives their pydantic model and schema (`params_model()`).
`entry_for(cls)` makes the registry's entry of such a class; `STRATEGY = entry_for(MyStrategy)`
in a module registers it.
"""

from __future__ import annotations

from typing import Any

from crypto_ai_bot.application.strategies import StrategyContext, StrategyEntry
from crypto_ai_bot.application.strategies.params import (
    FloatParam,
    IntParam,
    Param,
    Spec,
    validate,
)
from crypto_ai_bot.domain.model import Bar, Signal

__all__ = ["FloatParam", "IncrementalStrategy", "IntParam", "Parameterised", "entry_for"]


class Parameterised:
    """A class whose parameters are declared on it; `self.<name>` is the value in use."""

    name: str = ""

    def __init__(self, **params: Any) -> None:
        cls = type(self)
        self.__dict__["_params"] = validate(cls.name or cls.__name__, cls.declared(), params)

    @classmethod
    def declared(cls) -> Spec:
        """The parameters declared on the class (and its bases), by name; made once a class."""
        held = vars(cls).get("_declared")
        if held is None:
            found: dict[str, Param[Any]] = {}
            for klass in reversed(cls.__mro__):
                found.update({k: v for k, v in vars(klass).items() if isinstance(v, Param)})
            held = found
            cls._declared = held  # type: ignore[attr-defined]
        assert isinstance(held, dict)
        return held

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.__dict__["_params"])


class IncrementalStrategy(Parameterised):
    """Base of a strategy that sees one closed candle at a time (O(1) a candle)."""

    warmup_candles: int = 0

    def on_candle(self, bar: Bar) -> Signal:
        raise NotImplementedError


def entry_for(cls: type[IncrementalStrategy], name: str | None = None) -> StrategyEntry:
    """The registry's entry of a strategy class: its name, its docstring's first line, its
    declared parameters."""
    summary = (cls.__doc__ or cls.__name__).strip().splitlines()[0]

    def build(values: dict[str, Any], _context: StrategyContext) -> IncrementalStrategy:
        return cls(**values)

    return StrategyEntry(name or cls.name or cls.__name__, summary, cls.declared(), build)
