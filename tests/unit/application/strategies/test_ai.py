"""AiStrategy, model directories and walk-forward training on a small seeded series."""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import subprocess_env

from crypto_ai_bot.adapters.ml.model import (
    META_JSON,
    SklearnPredictor,
    file_digest,
    load_model_dir,
)
from crypto_ai_bot.adapters.ml.training import (
    TrainConfig,
    TrainResult,
    auc,
    make_labels,
    oos_spans,
    save_model_dir,
    walk_forward,
)
from crypto_ai_bot.application.strategies import build_strategy
from crypto_ai_bot.application.strategies.ai import AiStrategy
from crypto_ai_bot.bootstrap import strategy_context
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.features import (
    FEATURE_NAMES,
    WARMUP_CANDLES,
    compute_features,
)
from crypto_ai_bot.domain.model import Action, Candle

STEP = 300_000


def _load(model_dir: Path) -> AiStrategy:
    """What the bootstrap does for STRATEGY=ai: the adapter reads, the strategy runs."""
    predictor, meta = load_model_dir(model_dir)
    return AiStrategy.over(predictor, meta)
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
TINY = TrainConfig("BTC/USDT", "5m", horizon=6, train_days=4, test_days=1, rounds=30, seed=1)


def synthetic(n: int, seed: int = 1, start: float = 50_000.0) -> list[Candle]:
    """A seeded random walk with a little momentum, so that there is something to learn."""
    rng = random.Random(seed)
    out, close, drift = [], start, 0.0
    for i in range(n):
        o = close
        drift = 0.9 * drift + rng.gauss(0, 0.0005)
        close = o * math.exp(drift + rng.gauss(0, 0.002))
        hi = max(o, close) * (1 + rng.random() * 0.001)
        lo = min(o, close) * (1 - rng.random() * 0.001)
        o_, h_, l_, c_ = (Decimal(f"{x:.2f}") for x in (o, hi, lo, close))
        out.append(Candle(T0 + i * STEP, o_, h_, l_, c_,
                          Decimal(f"{rng.lognormvariate(2, 0.5):.5f}")))
    return out


SERIES = synthetic(2600)  # about 9 days of 5m candles
BARS = [c.bar() for c in SERIES]  # what the strategy sees of them


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, Path]:
    result = walk_forward(SERIES, TINY, created_ms=123)
    return result, save_model_dir(tmp_path_factory.mktemp("model"), result)


class Scripted:
    """A predictor that answers a fixed sequence of probabilities."""

    backend = "scripted"

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = iter(probabilities)

    def predict(self, x: np.ndarray) -> np.ndarray:
        assert x.shape == (1, len(FEATURE_NAMES))
        return np.array([next(self.probabilities)])


def signals(probabilities: list[float], *, enter: float,
            exit: float) -> list[tuple[Action, str]]:
    strategy = AiStrategy(Scripted(probabilities), enter=enter, exit=exit)
    out = [strategy.on_candle(b) for b in BARS[: WARMUP_CANDLES - 1 + len(probabilities)]]
    assert all(s.reason == "warming up" for s in out[: WARMUP_CANDLES - 1])
    return [(s.action, s.reason) for s in out[WARMUP_CANDLES - 1:]]


def test_buy_and_sell_follow_the_thresholds() -> None:
    got = signals([0.5, 0.6, 0.7, 0.45, 0.44, 0.3, 0.599, 0.61], enter=0.6, exit=0.45)
    assert [a for a, _ in got] == [
        Action.HOLD, Action.BUY, Action.BUY, Action.HOLD, Action.SELL, Action.SELL,
        Action.HOLD, Action.BUY,
    ]
    assert got[1][1] == "ai p_up=0.600 >= enter 0.60"
    assert got[4][1] == "ai p_up=0.440 < exit 0.45"
    assert got[0][1] == "ai p_up=0.500 (enter 0.60, exit 0.45)"


def test_probability_is_exposed_and_none_while_warming_up() -> None:
    strategy = AiStrategy(Scripted([0.7]), enter=0.6, exit=0.45)
    for b in BARS[: WARMUP_CANDLES - 1]:
        assert strategy.on_candle(b).action is Action.HOLD
        assert strategy.last_probability is None
    assert strategy.on_candle(BARS[WARMUP_CANDLES - 1]).action is Action.BUY
    assert strategy.last_probability == 0.7


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="exit <= enter"):
        AiStrategy(Scripted([]), enter=0.4, exit=0.5)


def test_labels_beat_the_round_trip_fee() -> None:
    closes = [100.0, 100.1, 100.5, 99.0]
    assert make_labels(closes, 1, 0.1) == [0, 1, 0, None]  # +0.1 % < fees, +0.4 % > fees
    assert make_labels(closes, 2, 0.0) == [1, 0, None, None]


def test_auc_matches_scikit_learn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500) * 0.5 + y * 0.2, 2).astype(np.float64)  # many ties
    assert auc(p, y) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert auc(p, np.ones(500, dtype=int)) is None


def test_saved_and_loaded_model_gives_identical_probabilities(
    trained: tuple[TrainResult, Path],
) -> None:
    result, model_dir = trained
    assert (model_dir / "model.txt").is_file()
    x = np.array([r for r in compute_features(BARS) if r is not None])
    loaded, meta = load_model_dir(model_dir)
    assert np.array_equal(result.predictor.predict(x), loaded.predict(x))
    assert meta["features"] == list(FEATURE_NAMES)

    strategy = _load(model_dir)  # live: one candle at a time
    live = [strategy.probability(b) for b in BARS]
    assert live[WARMUP_CANDLES - 1:] == loaded.predict(x).tolist()


def test_predictions_do_not_see_the_future(trained: tuple[TrainResult, Path]) -> None:
    _, model_dir = trained
    k = 1500
    other = synthetic(len(SERIES) - k - 1, seed=77, start=80_000.0)
    changed = SERIES[: k + 1] + [c._replace(ts_ms=SERIES[k + 1 + i].ts_ms)
                                 for i, c in enumerate(other)]
    a, b = _load(model_dir), _load(model_dir)
    pa = [a.probability(c.bar()) for c in SERIES]
    pb = [b.probability(c.bar()) for c in changed]
    assert pa[: k + 1] == pb[: k + 1]
    assert pa[k + 1:] != pb[k + 1:]


def test_walk_forward_purges_labels_and_records_its_folds(
    trained: tuple[TrainResult, Path],
) -> None:
    result, model_dir = trained
    assert len(result.folds) >= 4
    for f in result.folds:
        assert f.train[1] + TINY.horizon * STEP < f.test[0]  # no label reaches the test span
        assert f.metrics.rows > 0 and 0.0 <= f.metrics.accuracy <= 1.0
    for a, b in zip(result.folds, result.folds[1:], strict=False):
        assert a.test[1] < b.test[0]
    meta = json.loads((model_dir / META_JSON).read_text())
    assert meta["horizon"] == 6 and meta["fee_pct"] == 0.1 and meta["created_ms"] == 123
    assert meta["thresholds"] == {"enter": 0.6, "exit": 0.45}
    size, digest = file_digest(model_dir / "model.txt")
    assert meta["model"] == {"backend": "lightgbm", "file": "model.txt", "rounds": 30, "seed": 1,
                             "size": size, "sha256": digest}
    assert meta["training_span"]["last_ts"] <= SERIES[-1 - TINY.horizon].ts_ms
    assert meta["walk_forward"]["overall"]["rows"] == sum(f.metrics.rows for f in result.folds)
    assert oos_spans(meta) == [f.test for f in result.folds]


def test_build_strategy_loads_the_model_and_checks_parameters(
    trained: tuple[TrainResult, Path],
) -> None:
    _, model_dir = trained
    s = build_strategy("ai", {"model_path": str(model_dir), "enter": 0.7, "exit": 0.4},
                       strategy_context())
    assert s.name == "ai" and s.warmup_candles == WARMUP_CANDLES
    assert isinstance(s, AiStrategy) and (s.enter, s.exit) == (0.7, 0.4)
    with pytest.raises(ValueError, match="unknown parameter"):
        build_strategy("ai", {"model_path": str(model_dir), "fast": 3}, strategy_context())
    with pytest.raises(ValueError, match="model_path"):
        build_strategy("ai", {}, strategy_context())


def test_broken_model_directories_raise_config_errors(
    trained: tuple[TrainResult, Path], tmp_path: Path,
) -> None:
    _, model_dir = trained
    with pytest.raises(ConfigError, match="AI_MODEL_PATH: cannot read"):
        load_model_dir(tmp_path / "nothing")
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    meta = json.loads((copy / META_JSON).read_text())
    (copy / META_JSON).write_text(json.dumps({**meta, "features": ["ret_1"]}))
    with pytest.raises(ConfigError, match="other features"):
        load_model_dir(copy)
    (copy / META_JSON).write_text(json.dumps(meta))
    (copy / "model.txt").unlink()
    with pytest.raises(ConfigError, match=r"model file .* is missing"):
        load_model_dir(copy)


def test_a_truncated_or_altered_model_file_is_one_clear_line_not_a_crash(
    trained: tuple[TrainResult, Path], tmp_path: Path,
) -> None:
    """In a child process: LightGBM reading a truncated file may kill the process outright."""
    _, model_dir = trained
    cut = tmp_path / "cut"
    shutil.copytree(model_dir, cut)
    data = (cut / "model.txt").read_bytes()
    (cut / "model.txt").write_bytes(data[: len(data) // 3])
    altered = tmp_path / "altered"
    shutil.copytree(model_dir, altered)
    (altered / "model.txt").write_bytes(data.replace(b"Tree=0", b"Tree=9", 1))
    legacy = tmp_path / "legacy"  # trained before meta.json carried a checksum
    shutil.copytree(cut, legacy)
    meta = json.loads((legacy / META_JSON).read_text())
    del meta["model"]["size"], meta["model"]["sha256"]
    (legacy / META_JSON).write_text(json.dumps(meta))
    for directory, said in ((cut, "bytes, meta.json says"), (altered, "checksum"),
                            (legacy, "incomplete")):
        r = subprocess.run(
            [sys.executable, "-c", "import sys\n"
             "from crypto_ai_bot.adapters.ml.model import load_model_dir\n"
             "from crypto_ai_bot.domain.errors import ConfigError\n"
             "try:\n    load_model_dir(sys.argv[1])\n"
             "except ConfigError as e:\n    print(e, file=sys.stderr); sys.exit(2)\n",
             str(directory)], capture_output=True, text=True, timeout=60, env=subprocess_env())
        assert r.returncode == 2, (directory.name, r.returncode, r.stderr[-500:])
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0] and "model.txt" in lines[0], r.stderr


def test_too_little_data_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="a fold needs train \\+ test days"):
        walk_forward(SERIES[:1000], TINY, created_ms=0)


def test_scikit_learn_is_the_fallback_without_lightgbm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm -> ImportError
    result = walk_forward(SERIES, TINY, created_ms=0)
    assert isinstance(result.predictor, SklearnPredictor)
    model_dir = save_model_dir(tmp_path / "m", result)
    loaded, meta = load_model_dir(model_dir)
    assert meta["model"]["backend"] == "sklearn"
    x = np.array([r for r in compute_features(BARS[:300]) if r is not None])
    assert np.array_equal(result.predictor.predict(x), loaded.predict(x))
