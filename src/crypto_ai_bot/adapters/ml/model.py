"""AI model files: the directory `cab-train` writes and the AI strategy reads.

A model directory holds `meta.json` (features, horizon, fee, thresholds, out-of-sample metrics,
the model file's size and SHA-256) and the model it names: LightGBM's text format, or a
scikit-learn model in joblib's pickle when lightgbm is missing. The file is checked against its
size and checksum before any library reads it: LightGBM reading a truncated file can crash the
process (SIGSEGV) instead of raising. lightgbm, scikit-learn and joblib are imported here only
(the `ai` extra).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.features import FEATURE_NAMES
from crypto_ai_bot.ports.strategy import Matrix, Predictor

META_JSON = "meta.json"
LIGHTGBM_FILE = "model.txt"  # LightGBM's native text format
SKLEARN_FILE = "model.joblib"  # HistGradientBoostingClassifier, when lightgbm is missing


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


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex) of a file."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


_LIGHTGBM_END = b"end of trees"  # every complete LightGBM text model holds this line


def check_model_file(file: Path, model: dict[str, Any], backend: object) -> None:
    """Refuse (ConfigError, one line) a model file that is not the one training wrote: its
    size and SHA-256 from meta.json; a LightGBM file without them must at least be whole."""
    size, digest = file_digest(file)
    want_size, want_digest = model.get("size"), model.get("sha256")
    if want_size is not None and size != want_size:
        raise ConfigError(f"AI_MODEL_PATH: model file {file} has {size} bytes, meta.json says "
                          f"{want_size} (truncated or replaced); retrain it with cab-train or "
                          "restore the directory")
    if want_digest is not None and digest != want_digest:
        raise ConfigError(f"AI_MODEL_PATH: model file {file} does not match its checksum in "
                          "meta.json (corrupt or replaced); retrain it with cab-train or "
                          "restore the directory")
    if backend == "lightgbm" and want_digest is None:
        with file.open("rb") as fh:
            if _LIGHTGBM_END not in fh.read():
                raise ConfigError(f"AI_MODEL_PATH: model file {file} is incomplete (no "
                                  "'end of trees'); retrain it with cab-train")


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
    check_model_file(file, model, backend)
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
