"""The AI strategy (STRATEGY=ai): a trained classifier's probability of a move that beats fees.

A model directory, written by `cab-train` (core.strategy.training), holds the model file and
`meta.json` (features, horizon, fee, thresholds, out-of-sample metrics). The strategy runs the
same incremental FeatureEngine that training used, so live and backtest see identical inputs.

Signals follow the thresholds on every candle: BUY while the probability is >= `enter`, SELL
while it is < `exit`, HOLD in between. The strategy keeps no position state: the pipeline acts
on a BUY only when flat and on a SELL only when long, so the position it holds (the exchange's
truth, which survives restarts and stop-outs) supplies the hysteresis between the thresholds.

numpy is needed here (the `ai` extra); lightgbm or scikit-learn only to load a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from crypto_ai_bot.application.strategies.features import FEATURE_NAMES, FeatureEngine
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.model import Action, Bar, Signal
from crypto_ai_bot.ports.strategy import HOLD_WARMUP

META_JSON = "meta.json"
LIGHTGBM_FILE = "model.txt"  # LightGBM's native text format
SKLEARN_FILE = "model.joblib"  # HistGradientBoostingClassifier, when lightgbm is missing

Matrix = npt.NDArray[np.float64]


class Predictor(Protocol):
    """A fitted binary classifier: rows of FEATURE_NAMES in, P(label = 1) per row out."""

    backend: str

    def predict(self, x: Matrix) -> Matrix: ...


class LightGbmPredictor:
    backend = "lightgbm"

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, x: Matrix) -> Matrix:
        # One row a candle: an OpenMP thread pool only adds wake-up cost (5x on a busy host).
        threads = {"num_threads": 1} if len(x) < 1000 else {}
        return np.asarray(self.booster.predict(x, **threads), dtype=np.float64)

    def save(self, directory: Path) -> str:
        self.booster.save_model(str(directory / LIGHTGBM_FILE))
        return LIGHTGBM_FILE


class SklearnPredictor:
    backend = "sklearn"

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, x: Matrix) -> Matrix:
        return np.asarray(self.model.predict_proba(x)[:, 1], dtype=np.float64)

    def save(self, directory: Path) -> str:
        import joblib

        joblib.dump(self.model, directory / SKLEARN_FILE)
        return SKLEARN_FILE


def load_model_dir(path: str | Path) -> tuple[Predictor, dict[str, Any]]:
    """Read meta.json and the model it names. Problems raise ConfigError naming AI_MODEL_PATH.

    A joblib model is a pickle: loading it runs code from the file, so load only models you
    trained yourself. LightGBM's text format carries no such risk.
    """
    d = Path(path)
    try:
        meta = json.loads((d / META_JSON).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"AI_MODEL_PATH: cannot read {d / META_JSON}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"AI_MODEL_PATH: {d / META_JSON} is not JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"AI_MODEL_PATH: {d / META_JSON} must hold a JSON object")
    if list(meta.get("features", [])) != list(FEATURE_NAMES):
        raise ConfigError(
            f"AI_MODEL_PATH: {d} was trained on other features than this version computes;"
            " retrain it with cab-train"
        )
    model = meta.get("model", {})
    backend, file = model.get("backend"), d / str(model.get("file", ""))
    if not file.is_file():
        raise ConfigError(f"AI_MODEL_PATH: model file {file} is missing")
    try:
        if backend == "lightgbm":
            import lightgbm as lgb

            return LightGbmPredictor(lgb.Booster(model_file=str(file))), meta
        if backend == "sklearn":
            import joblib

            return SklearnPredictor(joblib.load(file)), meta
    except ImportError as exc:
        raise ConfigError(f"AI_MODEL_PATH: a {backend} model needs {exc.name}"
                          " (pip install 'crypto-ai-bot[ai]')") from None
    except Exception as exc:  # a corrupt file: each library raises its own kind
        raise ConfigError(f"AI_MODEL_PATH: cannot load {file}: {exc}") from None
    raise ConfigError(f"AI_MODEL_PATH: unknown model backend {backend!r} in {d / META_JSON}")


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
    def load(cls, model_path: str, **params: Any) -> AiStrategy:
        """A strategy over the model in `model_path`; `enter`/`exit` override meta's thresholds."""
        predictor, meta = load_model_dir(model_path)
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
