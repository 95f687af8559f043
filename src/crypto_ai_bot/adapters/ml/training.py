"""Training the AI strategy's model: labels, walk-forward evaluation, the model directory.

Label at candle t: 1 when buying at close[t] and selling at close[t + H], paying the fee on
both fills, makes money: close[t+H] / close[t] * (1 - fee)^2 > 1. The last H candles have no
label. Walk-forward: train on `train_days`, test on the following `test_days`, roll on by the
test length. Training rows whose label reaches into the test window are purged, so no fold
learns from prices it is then tested on. The saved model is trained on the latest window.

lightgbm (preferred) or scikit-learn and numpy are the optional `ai` extra, imported lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.domain.features import (
    FEATURE_NAMES,
    WARMUP_CANDLES,
    compute_features,
)
from crypto_ai_bot.domain.model import Candle
from crypto_ai_bot.utils.time import MS_PER_DAY

if TYPE_CHECKING:
    from crypto_ai_bot.adapters.ml.model import LightGbmPredictor, SklearnPredictor
    from crypto_ai_bot.ports.strategy import Matrix

META_FORMAT = 1
ProgressFn = Callable[[int, int, str], None]  # (steps done, steps in total, what is running)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    symbol: str
    timeframe: str
    horizon: int = 12
    fee_pct: float = 0.1  # per fill, in percent
    train_days: float = 90.0
    test_days: float = 30.0
    enter: float = 0.6
    exit: float = 0.45
    rounds: int = 300
    seed: int = 42

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError("horizon must be >= 1 candle")
        if not 0 <= self.fee_pct < 100:
            raise ValueError("fee must be in [0, 100) percent")
        if self.train_days <= 0 or self.test_days <= 0:
            raise ValueError("train and test windows must be longer than 0 days")
        if not 0.0 <= self.exit <= self.enter <= 1.0:
            raise ValueError("thresholds need 0 <= exit <= enter <= 1")


@dataclass(frozen=True, slots=True)
class Metrics:
    """Out-of-sample classification quality; precision is over rows with p >= enter."""

    rows: int
    positive_rate: float
    accuracy: float
    auc: float | None  # None when the test rows hold one class only
    signals: int
    precision_at_enter: float | None  # None when no row reached the threshold


@dataclass(frozen=True, slots=True)
class Fold:
    index: int
    train: tuple[int, int]  # first and last candle time of the training rows
    test: tuple[int, int]
    train_rows: int
    metrics: Metrics
    buy_hold_pct: float  # close-to-close over the test span


@dataclass(slots=True)
class TrainResult:
    folds: list[Fold]
    overall: Metrics
    predictor: LightGbmPredictor | SklearnPredictor  # the model to keep (latest window)
    meta: dict[str, Any] = field(default_factory=dict)
    # Each fold's own model, so that a backtest of a test span uses no later data.
    fold_predictors: list[LightGbmPredictor | SklearnPredictor] = field(default_factory=list)


def make_labels(closes: Sequence[float], horizon: int, fee_pct: float) -> list[int | None]:
    """1 when a round trip from close[t] to close[t+horizon] beats the fees, else 0."""
    keep = (1.0 - fee_pct / 100.0) ** 2
    n = len(closes)
    return [
        int(closes[i + horizon] / closes[i] * keep > 1.0) if i + horizon < n else None
        for i in range(n)
    ]


def walk_forward(
    candles: Sequence[Candle], cfg: TrainConfig, *, created_ms: int,
    progress: ProgressFn | None = None,
) -> TrainResult:
    """Evaluate fold by fold, then fit the model to keep on the latest training window."""
    import numpy as np

    if progress:
        progress(0, 1, "features")
    rows = compute_features(c.bar() for c in candles)
    labels = make_labels([float(c.close) for c in candles], cfg.horizon, cfg.fee_pct)
    idx = np.array([i for i, (r, y) in enumerate(zip(rows, labels, strict=True))
                    if r is not None and y is not None], dtype=np.int64)
    if len(idx) == 0:
        raise ValueError(f"too few candles: need more than {WARMUP_CANDLES + cfg.horizon}")
    x = np.array([rows[i] for i in idx], dtype=np.float64)
    y = np.array([labels[i] for i in idx], dtype=np.int64)
    ts = np.array([candles[i].ts_ms for i in idx], dtype=np.int64)
    label_end = np.array([candles[i + cfg.horizon].ts_ms for i in idx], dtype=np.int64)

    train_ms, test_ms = int(cfg.train_days * MS_PER_DAY), int(cfg.test_days * MS_PER_DAY)
    windows = _windows(int(ts[0]), int(ts[-1]), train_ms, test_ms)
    if not windows:
        days = (int(ts[-1]) - int(ts[0])) / MS_PER_DAY
        raise ValueError(f"{days:.1f} days of labelled data; a fold needs train + test days"
                         f" ({cfg.train_days:g} + {cfg.test_days:g})")
    folds: list[Fold] = []
    fold_models = []
    oos_p, oos_y = [], []
    for k, (start, split, stop) in enumerate(windows):
        if progress:
            progress(k, len(windows) + 1, f"fold {k + 1}/{len(windows)}")
        tr = (ts >= start) & (ts < split) & (label_end < split)  # purged of test-window labels
        te = (ts >= split) & (ts < stop)
        model = fit_model(x[tr], y[tr], cfg)
        fold_models.append(model)
        p = model.predict(x[te])
        oos_p.append(p)
        oos_y.append(y[te])
        first, last = int(idx[te][0]), int(idx[te][-1])
        folds.append(Fold(
            k + 1, (int(ts[tr][0]), int(ts[tr][-1])), (int(ts[te][0]), int(ts[te][-1])),
            int(tr.sum()), metrics(p, y[te], cfg.enter),
            float(candles[last].close / candles[first].close - 1) * 100.0,
        ))
    if progress:
        progress(len(windows), len(windows) + 1, "final model")
    final = ts > ts[-1] - train_ms
    predictor = fit_model(x[final], y[final], cfg)
    overall = metrics(np.concatenate(oos_p), np.concatenate(oos_y), cfg.enter)
    result = TrainResult(folds, overall, predictor, fold_predictors=fold_models)
    result.meta = _meta(cfg, candles, folds, overall, predictor.backend,
                        (int(ts[final][0]), int(ts[final][-1]), int(final.sum())), created_ms)
    if progress:
        progress(len(windows) + 1, len(windows) + 1, "done")
    return result


def _windows(first: int, last: int, train_ms: int, test_ms: int) -> list[tuple[int, int, int]]:
    """(train start, test start, test end) rolling by test_ms; a last test of half length counts."""
    out = []
    start = first
    while start + train_ms + test_ms // 2 <= last:
        out.append((start, start + train_ms, min(start + train_ms + test_ms, last + 1)))
        start += test_ms
    return out


def fit_model(x: Matrix, y: Any, cfg: TrainConfig) -> LightGbmPredictor | SklearnPredictor:
    """A gradient-boosted tree classifier: LightGBM if installed, else scikit-learn's."""
    from crypto_ai_bot.adapters.ml.model import LightGbmPredictor, SklearnPredictor

    try:
        import lightgbm as lgb
    except ImportError:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=cfg.rounds, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=200,
            l2_regularization=1.0, random_state=cfg.seed,
        )
        return SklearnPredictor(model.fit(x, y))
    params = {
        "objective": "binary", "learning_rate": 0.05, "num_leaves": 15,
        "min_data_in_leaf": min(200, max(1, len(y) // 20)), "feature_fraction": 0.8,
        "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "seed": cfg.seed,
        "deterministic": True, "force_row_wise": True, "verbose": -1,
        # One thread: these sets are small, and OpenMP spinning on a busy host made training
        # 5-8x slower than a single thread in measurements.
        "num_threads": 1,
    }
    data = lgb.Dataset(x, label=y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    return LightGbmPredictor(lgb.train(params, data, num_boost_round=cfg.rounds))


def metrics(p: Matrix, y: Any, enter: float) -> Metrics:
    """Accuracy at 0.5, AUC, and precision of the rows the strategy would enter on."""
    n = len(y)
    if n == 0:
        return Metrics(0, 0.0, 0.0, None, 0, None)
    chosen = p >= enter
    return Metrics(
        rows=n,
        positive_rate=float(y.mean()),
        accuracy=float(((p >= 0.5) == (y == 1)).mean()),
        auc=auc(p, y),
        signals=int(chosen.sum()),
        precision_at_enter=float(y[chosen].mean()) if chosen.any() else None,
    )


def auc(p: Matrix, y: Any) -> float | None:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties averaged."""
    import numpy as np

    pos = int((y == 1).sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    ranks = np.empty(len(p), dtype=np.float64)
    _, starts, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    avg = starts + (counts + 1) / 2.0  # 1-based average rank of each run of ties
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def _meta(
    cfg: TrainConfig, candles: Sequence[Candle], folds: list[Fold], overall: Metrics,
    backend: str, final_span: tuple[int, int, int], created_ms: int,
) -> dict[str, Any]:
    return {
        "format": META_FORMAT,
        "created_ms": created_ms,
        "symbol": cfg.symbol,
        "timeframe": cfg.timeframe,
        "features": list(FEATURE_NAMES),
        "warmup_candles": WARMUP_CANDLES,
        "horizon": cfg.horizon,
        "fee_pct": cfg.fee_pct,
        "label": "close[t+horizon] / close[t] * (1 - fee_pct/100)^2 > 1",
        "thresholds": {"enter": cfg.enter, "exit": cfg.exit},
        "model": {"backend": backend, "file": "", "rounds": cfg.rounds, "seed": cfg.seed},
        "data_span": {"first_ts": candles[0].ts_ms, "last_ts": candles[-1].ts_ms,
                      "candles": len(candles)},
        "training_span": {"first_ts": final_span[0], "last_ts": final_span[1],
                          "rows": final_span[2]},
        "walk_forward": {
            "train_days": cfg.train_days,
            "test_days": cfg.test_days,
            "folds": [{**asdict(f), "train": list(f.train), "test": list(f.test)} for f in folds],
            "overall": asdict(overall),
        },
    }


def save_model_dir(out: str | Path, result: TrainResult) -> Path:
    """Write the model file and meta.json into `out` (created if needed)."""
    return save_predictor(out, result.predictor, result.meta)


def save_predictor(
    out: str | Path, predictor: LightGbmPredictor | SklearnPredictor, meta: dict[str, Any]
) -> Path:
    """A loadable model directory for any predictor (also a fold's, for backtests)."""
    from crypto_ai_bot.adapters.ml.model import META_JSON, file_digest

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    meta["model"]["file"] = predictor.save(d)
    # what the loader checks before the library reads the file (a truncated LightGBM file
    # crashes the process in C)
    meta["model"]["size"], meta["model"]["sha256"] = file_digest(d / meta["model"]["file"])
    (d / META_JSON).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return d


def oos_spans(meta: dict[str, Any]) -> list[tuple[int, int]]:
    """The out-of-sample test spans of a model, (first ts, last ts) per fold: backtest these."""
    return [(int(f["test"][0]), int(f["test"][1])) for f in meta["walk_forward"]["folds"]]
