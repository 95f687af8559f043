"""A strategy's parameters: declared with a type, a default and a range; checked before it runs.

    fast = IntParam(12, low=1, high=500, help="fast EMA period")

The declarations are plain objects, so that a run whose values are already of the declared
types and inside their ranges (what cab-backtest's --param and the settings give) pays nothing
for them; any other value goes through the pydantic model made from the same declarations
(`model_of`), which coerces "12" to 12 and says precisely what is wrong. The model also gives
the JSON schema, ranges included, that tools such as an optimiser read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:  # pydantic costs a backtest ~0.1 s to import: only when a value needs it
    from pydantic import BaseModel

T = TypeVar("T")
Check = Callable[[dict[str, Any]], None]  # a rule across parameters: raises ValueError


class Param(Generic[T]):
    """A declared parameter; on an IncrementalStrategy it reads as the value in use."""

    kind: type = object

    def __init__(self, default: T, *, low: T | None = None, high: T | None = None,
                 help: str = "") -> None:
        if low is not None and high is not None and default is not None and not (
                low <= default <= high):  # type: ignore[operator]
            raise ValueError(f"default {default} outside its range [{low}, {high}]")
        self.default, self.low, self.high, self.help = default, low, high, help
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Param[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> T | Param[T]:
        if instance is None:
            return self
        value: T = instance.__dict__["_params"][self.name]
        return value

    def accepts(self, value: Any) -> bool:
        """Whether `value` is already right as it is (the fast path: no coercion needed)."""
        if value is None:
            return self.default is None
        if type(value) is not self.kind:
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return ((self.low is None or value >= self.low)  # type: ignore[operator]
                and (self.high is None or value <= self.high))  # type: ignore[operator]

    def annotation(self) -> Any:
        return self.kind | None if self.default is None else self.kind


class IntParam(Param[int]):
    kind = int


class FloatParam(Param[float]):
    kind = float

    def accepts(self, value: Any) -> bool:
        if type(value) is int:  # an int is a float here, as pydantic takes it
            value = float(value)
        return super().accepts(value)


class OptionalFloatParam(Param[float | None]):
    """A float that may stay unset (None: the strategy decides, e.g. from its model's meta)."""

    kind = float

    def accepts(self, value: Any) -> bool:
        if type(value) is int:
            value = float(value)
        return super().accepts(value)


class StrParam(Param[str]):
    kind = str


Spec = Mapping[str, Param[Any]]


def validate(name: str, spec: Spec, given: Mapping[str, Any] | None = None,
             check: Check | None = None) -> dict[str, Any]:
    """The parameters in use: the defaults, then `given`; ValueError names what is wrong."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ValueError(f"{name}: unknown parameter(s) {', '.join(unknown)}")
    if all(spec[k].accepts(v) for k, v in given.items()):
        values = {k: p.default for k, p in spec.items()}
        values.update({k: float(v) if spec[k].kind is float and type(v) is int else v
                       for k, v in given.items()})
    else:
        values = _by_model(name, spec, given)
    if check is not None:
        try:
            check(values)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return values


def _by_model(name: str, spec: Spec, given: dict[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    try:
        return model_of(spec).model_validate(given).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{name}: {where + ': ' if where else ''}{message}") from None


_MODELS: dict[int, tuple[Spec, type[BaseModel]]] = {}  # made once per declaration


def model_of(spec: Spec, title: str = "Params") -> type[BaseModel]:
    """The pydantic model of a declaration: unknown names refused, ranges in its schema."""
    held = _MODELS.get(id(spec))
    if held is not None and held[0] is spec:
        return held[1]
    from pydantic import ConfigDict, Field, create_model

    fields: dict[str, Any] = {}
    for key, p in spec.items():
        extra: dict[str, Any] | None = (
            {"range": [p.low, p.high]} if p.low is not None and p.high is not None else None)
        fields[key] = (p.annotation(), Field(p.default, ge=p.low, le=p.high,
                                             description=p.help,
                                             json_schema_extra=extra))
    made: type[BaseModel] = create_model(
        title, __config__=ConfigDict(extra="forbid", frozen=True), **fields)
    _MODELS[id(spec)] = (spec, made)
    return made
