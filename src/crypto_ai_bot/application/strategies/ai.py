"""The AI strategy (STRATEGY=ai): a trained classifier's probability of a move that beats fees.

A model directory, written by `cab-train` (adapters/ml/training.py), holds the model file and
`meta.json` (features, horizon, fee, thresholds, out-of-sample metrics); adapters/ml/model.py
reads it, and the bootstrap hands the strategy what it read. The strategy runs the
same incremental FeatureEngine that training used, so live and backtest see identical inputs.

Signals follow the thresholds on every candle: BUY while the probability is >= `enter`, SELL
while it is < `exit`, HOLD in between. The strategy keeps no position state: the pipeline acts
on a BUY only when flat and on a SELL only when long, so the position it holds (the exchange's
truth, which survives restarts and stop-outs) supplies the hysteresis between the thresholds.

numpy is needed here (the `ai` extra); lightgbm or scikit-learn only to load a model, which
happens in the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crypto_ai_bot.application.strategies import StrategyContext, StrategyEntry
from crypto_ai_bot.application.strategies.params import OptionalFloatParam, Spec, StrParam
from crypto_ai_bot.domain.features import FeatureEngine
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP, Predictor


class AiStrategy:
    """Strategy over a Predictor; `last_probability` is the latest prediction (None in warmup)."""

    name = "ai"

    def __init__(
        self, predictor: Predictor, *, enter: float = 0.6, exit: float = 0.45,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if not (0.0 <= exit <= enter <= 1.0):
            raise ValueError(f"ai thresholds need 0 <= exit <= enter <= 1 (got {exit}, {enter})")
        self.predictor = predictor
        self.enter, self.exit = enter, exit
        self.meta: Mapping[str, Any] = meta or {}
        self._engine = FeatureEngine()
        self.warmup_candles = self._engine.warmup_candles
        self.last_probability: float | None = None

    @classmethod
    def over(cls, predictor: Predictor, meta: Mapping[str, Any], **params: Any) -> AiStrategy:
        """A strategy over a loaded model; `enter`/`exit` override meta's thresholds."""
        thresholds = meta.get("thresholds", {})
        enter = float(params.pop("enter", thresholds.get("enter", 0.6)))
        exit_ = float(params.pop("exit", thresholds.get("exit", 0.45)))
        if params:
            raise ValueError(f"ai: unknown parameter(s) {', '.join(sorted(params))}")
        return cls(predictor, enter=enter, exit=exit_, meta=meta)

    def probability(self, bar: Bar) -> float | None:
        """Feed one closed candle; the model's probability for it, or None while warming up."""
        row = self._engine.update(bar)
        if row is None:
            self.last_probability = None
            return None
        p = float(self.predictor.predict(np.asarray([row], dtype=np.float64))[0])
        self.last_probability = p
        return p

    def on_candle(self, bar: Bar) -> Signal:
        p = self.probability(bar)
        if p is None:
            return HOLD_WARMUP
        if p >= self.enter:
            return Signal(Action.BUY, f"ai p_up={p:.3f} >= enter {self.enter:.2f}")
        if p < self.exit:
            return Signal(Action.SELL, f"ai p_up={p:.3f} < exit {self.exit:.2f}")
        return Signal(
            Action.HOLD, f"ai p_up={p:.3f} (enter {self.enter:.2f}, exit {self.exit:.2f})"
        )


PARAMS: Spec = {
    "model_path": StrParam("", help="model directory written by cab-train (AI_MODEL_PATH)"),
    "enter": OptionalFloatParam(None, low=0.0, high=1.0, help="buy at p >= enter (meta's)"),
    "exit": OptionalFloatParam(None, low=0.0, high=1.0, help="sell at p < exit (meta's)"),
}


def _build(values: dict[str, Any], context: StrategyContext) -> AiStrategy:
    if not values["model_path"]:
        raise ValueError("ai strategy needs model_path (AI_MODEL_PATH)")
    if context.load_model is None:
        raise ValueError("ai strategy: no model loader here (build it through the bootstrap)")
    predictor, meta = context.load_model(values["model_path"])
    given = {k: values[k] for k in ("enter", "exit") if values[k] is not None}
    return AiStrategy.over(predictor, meta, **given)


STRATEGY = StrategyEntry(
    "ai", "a trained classifier's probability of a move that beats fees (cab-train)", PARAMS,
    _build,
)
