"""The feature engine: known values, incremental == batch, and no look-ahead."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest
from tests.paths import OHLCV

from crypto_ai_bot.domain.features import (
    FEATURE_NAMES,
    WARMUP_CANDLES,
    FeatureEngine,
    compute_features,
)
from crypto_ai_bot.domain.model import Bar, Candle

STEP = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
DATA = OHLCV


def synthetic(n: int, seed: int = 1, start: float = 50_000.0) -> list[Bar]:
    """A seeded random walk with consistent OHLC and varying volume, as strategies see it."""
    rng = random.Random(seed)
    out, close = [], start
    for i in range(n):
        o = close
        close = o * math.exp(rng.gauss(0, 0.002))
        hi = max(o, close) * (1 + rng.random() * 0.001)
        lo = min(o, close) * (1 - rng.random() * 0.001)
        vol = rng.lognormvariate(2, 0.5)
        o_, h_, l_, c_ = (Decimal(f"{x:.2f}") for x in (o, hi, lo, close))
        out.append(Candle(T0 + i * STEP, o_, h_, l_, c_, Decimal(f"{vol:.5f}")).bar())
    return out


def scramble_after(candles: list[Bar], k: int, seed: int) -> list[Bar]:
    """The same past, a different future: candles after index k replaced by another walk."""
    other = synthetic(len(candles) - k - 1, seed=seed, start=float(candles[k].close) * 1.3)
    future = [c._replace(ts_ms=candles[k + 1 + i].ts_ms) for i, c in enumerate(other)]
    return candles[: k + 1] + future


def test_warmup_then_rows_of_every_feature() -> None:
    rows = compute_features(synthetic(WARMUP_CANDLES + 5))
    assert all(r is None for r in rows[: WARMUP_CANDLES - 1])
    for r in rows[WARMUP_CANDLES - 1:]:
        assert r is not None and len(r) == len(FEATURE_NAMES)
        assert all(math.isfinite(x) for x in r)
    assert FeatureEngine.warmup_candles == WARMUP_CANDLES


def test_known_values_on_a_flat_then_stepped_series() -> None:
    flat = [Bar(T0 + i * STEP, 100.0, 101.0, 99.0, 100.0, 5.0) for i in range(WARMUP_CANDLES)]
    row = compute_features(flat)[-1]
    assert row is not None
    f = dict(zip(FEATURE_NAMES, row, strict=True))
    assert f["ret_1"] == f["ret_48"] == 0.0 and f["vol_48"] == 0.0
    assert f["rsi_14"] == 0.5 and f["macd"] == 0.0
    assert f["atr_pct_14"] == pytest.approx(2.0)  # range 2 on a close of 100
    assert f["bb_pos_20"] == 0.5 and f["volume_z_48"] == 0.0  # no spread: the middle, zero
    hour = (flat[-1].ts_ms % 86_400_000) / 3_600_000
    assert f["tod_sin"] == pytest.approx(math.sin(2 * math.pi * hour / 24))
    assert f["tod_cos"] == pytest.approx(math.cos(2 * math.pi * hour / 24))

    up = Bar(flat[-1].ts_ms + STEP, 100.0, 111.0, 99.0, 110.0, 50.0)
    engine = FeatureEngine()
    for c in flat:
        engine.update(c)
    g = dict(zip(FEATURE_NAMES, engine.update(up) or [], strict=True))
    assert g["ret_1"] == pytest.approx(math.log(1.1)) and g["ret_12"] == g["ret_1"]
    assert g["rsi_14"] == 1.0 and g["macd"] > 0 and g["bb_pos_20"] > 1.0
    assert g["volume_z_48"] > 5


def test_six_oclock_utc_is_a_quarter_turn() -> None:
    series = synthetic(WARMUP_CANDLES)
    six = T0 + 6 * 3_600_000
    series = [c._replace(ts_ms=six - (len(series) - 1 - i) * STEP) for i, c in enumerate(series)]
    row = compute_features(series)[-1]
    assert row is not None
    assert row[FEATURE_NAMES.index("tod_sin")] == pytest.approx(1.0)
    assert row[FEATURE_NAMES.index("tod_cos")] == pytest.approx(0.0, abs=1e-12)


def test_incremental_equals_batch_exactly() -> None:
    series = synthetic(3000, seed=5)
    engine = FeatureEngine()
    one_by_one = [engine.update(c) for c in series]
    assert one_by_one == compute_features(series)  # float equality, not approx


def test_an_engine_started_mid_series_agrees_after_warmup() -> None:
    """A bot started at any candle computes what the backtest computed there (to 1 % of the
    feature's spread): the warmup is long enough for the EMAs and Wilder averages to forget
    their seed."""
    series = synthetic(3000, seed=8)
    batch = compute_features(series)
    late = compute_features(series[1000:])
    cols = list(zip(*[r for r in batch if r is not None], strict=True))
    spread = [max(c) - min(c) for c in cols]
    for a, b in zip(batch[1000 + WARMUP_CANDLES:], late[WARMUP_CANDLES:], strict=True):
        assert a is not None and b is not None
        for name, x, y, s in zip(FEATURE_NAMES, a, b, spread, strict=True):
            assert abs(x - y) <= 0.01 * s, name


@pytest.mark.parametrize("k", [WARMUP_CANDLES - 1, 500, 1998])
def test_no_feature_sees_the_future(k: int) -> None:
    series = synthetic(2000, seed=3)
    changed = scramble_after(series, k, seed=99)
    assert changed[: k + 1] == series[: k + 1] and changed[k + 1] != series[k + 1]
    before, after = compute_features(series), compute_features(changed)
    assert before[: k + 1] == after[: k + 1]
    assert before[k + 1:] != after[k + 1:]  # the scrambled future does change later rows


def test_real_btc_slice_incremental_equals_batch_and_ignores_the_future() -> None:
    path = DATA / "BTC_USDT-5m.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not present: {path.resolve()}")
    from crypto_ai_bot.adapters.candle_files import load_candles

    series = [c.bar() for c in load_candles(path)[:4000]]
    batch = compute_features(series)
    engine = FeatureEngine()
    assert [engine.update(c) for c in series] == batch
    k = 2500
    future = list(reversed(series[k + 1:]))  # the future played backwards
    changed = series[: k + 1] + [c._replace(ts_ms=series[k + 1 + i].ts_ms)
                                 for i, c in enumerate(future)]
    assert compute_features(changed)[: k + 1] == batch[: k + 1]


def test_non_positive_close_is_refused() -> None:
    engine = FeatureEngine()
    bad = Bar(T0, 1.0, 1.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="close must be positive"):
        engine.update(bad)
