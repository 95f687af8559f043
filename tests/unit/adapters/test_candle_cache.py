"""The candle cache: a feather file converted once, read back as the file itself reads, and
rebuilt when the file changes; a cache that cannot be used is passed over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.paths import OHLCV, SRC

from crypto_ai_bot.adapters import candle_cache
from crypto_ai_bot.adapters.candle_files import CandleFileError, load_series

STEP = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
N = candle_cache.MIN_ROWS


def _write_feather(path: Path, n: int, close: float = 100.25, *, unit: str = "ms",
                   chunks: int = 1) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    per = {"ms": 1, "us": 1_000, "ns": 1_000_000}[unit]
    dates = pa.array([(T0 + i * STEP) * per for i in range(n)], type=pa.timestamp(unit, tz="UTC"))
    closes = [close + (i % 7) * 0.5 for i in range(n)]
    table = pa.table({
        "date": dates, "open": [100.0] * n, "high": [104.0] * n, "low": [99.5] * n,
        "close": closes, "volume": [1.5] * n,
    })
    if chunks > 1:  # several record batches: the columns come in several chunks
        size = -(-n // chunks)
        table = pa.concat_tables([table.slice(k * size, size) for k in range(chunks)])
    feather.write_feather(table, str(path), chunksize=-(-n // chunks))


def _same(a: object, b: object) -> None:
    from crypto_ai_bot.domain.candles import CandleSeries

    assert isinstance(a, CandleSeries) and isinstance(b, CandleSeries)
    assert a.bars == b.bars
    assert a.columns is not None and b.columns is not None
    for x, y in zip(a.columns, b.columns, strict=True):
        assert x.dtype == y.dtype and x.tolist() == y.tolist()


def test_a_feather_file_is_converted_once_and_read_back_the_same(tmp_path: Path) -> None:
    src, cache = tmp_path / "BTC_USDT-5m.feather", tmp_path / "cache"
    _write_feather(src, N, chunks=3)
    direct = load_series(src)
    first = load_series(src, cache)  # converts
    entry = candle_cache.entry_path(cache, src)
    assert entry.exists()
    assert candle_cache.read(cache, src) is not None
    second = load_series(src, cache)  # from the entry
    _same(first, direct)
    _same(second, direct)
    assert second.stamps().tolist()[:2] == [T0, T0 + STEP]
    assert str(second.price(3, 4)) == "101.75"  # CLOSE of row 3: 100.25 + 3 * 0.5


def test_a_changed_file_is_read_again_and_its_entry_replaced(tmp_path: Path) -> None:
    src, cache = tmp_path / "x.feather", tmp_path / "cache"
    _write_feather(src, N)
    load_series(src, cache)
    _write_feather(src, N + 1, close=200.0)  # new size (and time)
    again = load_series(src, cache)
    assert len(again) == N + 1 and again.bars[0].close == 200.0
    assert [p.name for p in cache.iterdir()] == [candle_cache.entry_path(cache, src).name]
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched only
    assert candle_cache.read(cache, src) is None  # stale: its time is not the recorded one
    assert load_series(src, cache).bars == again.bars
    assert candle_cache.read(cache, src) is not None


def test_small_files_and_decimal_files_make_no_entry(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    cache = tmp_path / "cache"
    small = tmp_path / "small.feather"
    _write_feather(small, N - 1)
    assert len(load_series(small, cache)) == N - 1
    text = tmp_path / "text.feather"
    n = N + 5
    feather.write_feather(pa.table({
        "date": pa.array([T0 + i * STEP for i in range(n)], type=pa.int64()),
        **{k: ["0.1"] * n for k in ("open", "high", "low", "close", "volume")},
    }), str(text))
    assert str(load_series(text, cache).price(0, 1)) == "0.1"
    assert not cache.exists() or not list(cache.iterdir())


def test_a_damaged_or_unwritable_cache_is_passed_over(tmp_path: Path) -> None:
    src = tmp_path / "x.feather"
    _write_feather(src, N)
    cache = tmp_path / "cache"
    load_series(src, cache)
    entry = candle_cache.entry_path(cache, src)
    entry.write_bytes(entry.read_bytes()[:1000])  # cut short
    assert candle_cache.read(cache, src) is None
    _same(load_series(src, cache), load_series(src))
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    _same(load_series(src, blocked), load_series(src))  # cannot write there: read as it is


def test_timestamps_of_any_unit_become_ms_and_empty_values_are_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    for unit in ("us", "ns"):
        p = tmp_path / f"{unit}.feather"
        _write_feather(p, 3, unit=unit)
        assert load_series(p).stamps().tolist() == [T0, T0 + STEP, T0 + 2 * STEP]
    holes = tmp_path / "holes.feather"
    feather.write_feather(pa.table({
        "date": pa.array([T0, None], type=pa.timestamp("ms")),
        **{k: [1.0, 1.0] for k in ("open", "high", "low", "close", "volume")},
    }), str(holes))
    with pytest.raises(CandleFileError, match=r"holes\.feather: column date holds empty"):
        load_series(holes)
    gap = tmp_path / "gap.feather"
    feather.write_feather(pa.table({
        "date": pa.array([T0, T0 + STEP], type=pa.timestamp("ms")),
        "open": [1.0, 1.0], "high": [1.0, None], "low": [1.0, 1.0], "close": [1.0, 1.0],
        "volume": [1.0, 1.0],
    }), str(gap))
    with pytest.raises(CandleFileError, match=r"gap\.feather: column high .* not a finite"):
        load_series(gap)


def test_a_backtest_reads_no_pandas_and_no_pyarrow_once_converted(tmp_path: Path) -> None:
    """pyarrow's to_numpy imports pandas where it is installed; the loader never calls it, and
    a converted file needs no pyarrow at all."""
    src, cache = tmp_path / "BTC_USDT-5m.feather", tmp_path / "cache"
    _write_feather(src, N)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from crypto_ai_bot.adapters.candle_files import load_series\n"
        f"s = load_series(Path({str(src)!r}), Path({str(cache)!r}))\n"
        "print(len(s), 'pandas' in sys.modules, 'pyarrow' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout.split() for _ in range(2)]
    assert runs[0] == [str(N), "False", "True"]  # converted: pyarrow read it
    assert runs[1] == [str(N), "False", "False"]  # from the entry


def test_the_real_btc_file_reads_the_same_from_its_entry(tmp_path: Path) -> None:
    src = OHLCV / "binance" / "BTC_USDT-5m.feather"
    if not src.exists():
        pytest.skip(f"real data not present under {OHLCV.resolve()}")
    direct = load_series(src)
    load_series(src, tmp_path)
    _same(load_series(src, tmp_path), direct)
    assert len(direct) == 119_784
