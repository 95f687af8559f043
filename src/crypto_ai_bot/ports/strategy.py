"""The strategy port: closed candles in (as float Bars), a signal with its reason out.

A strategy instance serves one symbol and keeps its state incrementally, so one candle costs
O(1) and live, paper and backtest see the same numbers in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from crypto_ai_bot.domain.model import Action, Bar, Signal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix: TypeAlias = npt.NDArray[np.float64]
else:
    Matrix = Any

HOLD_WARMUP = Signal(Action.HOLD, "warming up")


class Strategy(Protocol):
    name: str
    warmup_candles: int

    def on_candle(self, bar: Bar) -> Signal:
        """Consume the next closed candle (in time order) and say what to do."""
        ...


@runtime_checkable
class ExposesIndicators(Protocol):
    """Optional beside Strategy: the values of its indicators after the latest candle (a
    warming-up indicator is left out), which the cockpit draws on its chart."""

    def indicators(self) -> Mapping[str, float]: ...


class Predictor(Protocol):
    """A fitted binary classifier: rows of features in, P(label = 1) per row out."""

    backend: str

    def predict(self, x: Matrix) -> Matrix: ...


class ModelLoader(Protocol):
    """Reads a model directory: the predictor and its meta (adapters/ml/model.py)."""

    def __call__(self, path: str) -> tuple[Predictor, Mapping[str, Any]]: ...
