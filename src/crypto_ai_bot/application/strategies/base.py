"""Writing a strategy: a class with its parameters declared on it, and what makes it a strategy.

    class RsiReversion(IncrementalStrategy):
        '''Buy an oversold dip, sell the bounce (RSI).'''
        name = "rsi"
        period = IntParam(14, low=5, high=50, help="RSI period")
        oversold = FloatParam(30, low=10, high=45)

        def on_candle(self, bar: Bar) -> Signal: ...   # self.period is the value in use

A parameter has a type, a default and an optimisation range; the class's parameters become a
pydantic model (`params_model()`), so values from `--param` or STRATEGY_PARAMS are validated
(unknown names refused) before a strategy is built. `entry_for(cls)` makes the registry's
entry of such a class; `STRATEGY = entry_for(MyStrategy)` in a module registers it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, create_model

from crypto_ai_bot.application.strategies import StrategyContext, StrategyEntry
from crypto_ai_bot.domain.model import Bar, Signal

T = TypeVar("T", int, float)


class _Param(Generic[T]):
    """A declared parameter; on an instance it reads as the value the strategy was built with."""

    kind: ClassVar[type]

    def __init__(self, default: T, *, low: T, high: T, help: str = "") -> None:
        if not low <= default <= high:
            raise ValueError(f"default {default} outside its range [{low}, {high}]")
        self.default: T = default
        self.low: T = low
        self.high: T = high
        self.help = help
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Param[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> T | _Param[T]:
        if instance is None:
            return self
        value: T = instance.__dict__["_params"][self.name]
        return value

    def field(self) -> Any:
        return Field(self.default, ge=self.low, le=self.high, description=self.help,
                     json_schema_extra={"range": [self.low, self.high]})


class IntParam(_Param[int]):
    kind = int


class FloatParam(_Param[float]):
    kind = float


class IncrementalStrategy:
    """Base of a strategy that sees one closed candle at a time (O(1) a candle)."""

    name: str = ""
    warmup_candles: int = 0

    def __init__(self, **params: Any) -> None:
        model = type(self).params_model()
        self.__dict__["_params"] = model.model_validate(params).model_dump()

    @classmethod
    def declared(cls) -> dict[str, _Param[Any]]:
        """The parameters declared on the class (and its bases), by name."""
        out: dict[str, _Param[Any]] = {}
        for klass in reversed(cls.__mro__):
            out.update({k: v for k, v in vars(klass).items() if isinstance(v, _Param)})
        return out

    @classmethod
    def params_model(cls) -> type[BaseModel]:
        """The declared parameters as a pydantic model (made once per class)."""
        return _params_model(cls)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.__dict__["_params"])

    def on_candle(self, bar: Bar) -> Signal:
        raise NotImplementedError


def _params_model(cls: type[IncrementalStrategy]) -> type[BaseModel]:
    made = vars(cls).get("_params_model")
    if made is None:
        fields: dict[str, Any] = {n: (p.kind, p.field()) for n, p in cls.declared().items()}
        made = create_model(
            f"{cls.__name__}Params",
            __config__=ConfigDict(extra="forbid", frozen=True, defer_build=True),
            **fields,
        )
        cls._params_model = made  # type: ignore[attr-defined]
    assert isinstance(made, type) and issubclass(made, BaseModel)
    return made


def entry_for(cls: type[IncrementalStrategy], name: str | None = None) -> StrategyEntry:
    """The registry's entry of a strategy class: its name, its docstring's first line, its
    declared parameters."""
    summary = (cls.__doc__ or cls.__name__).strip().splitlines()[0]

    def build(params: BaseModel, _context: StrategyContext) -> IncrementalStrategy:
        return cls(**params.model_dump())

    return StrategyEntry(name or cls.name or cls.__name__, summary, cls.params_model(), build)
