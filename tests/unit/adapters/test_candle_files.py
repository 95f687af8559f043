"""Candle files (CSV, gzip, freqtrade feather) and series checks."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.paths import OHLCV

from crypto_ai_bot.adapters.candle_files import (
    CandleFileError,
    load_candles,
    load_series,
    write_csv,
)
from crypto_ai_bot.domain.candles import CLOSE, OPEN, CandleSeries, check_series, clean_series
from crypto_ai_bot.domain.model import Bar, Candle

STEP = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
DATA = OHLCV


def c(ts: int, o: str = "100", h: str = "101", lo: str = "99", cl: str = "100.5") -> Candle:
    return Candle(ts, Decimal(o), Decimal(h), Decimal(lo), Decimal(cl), Decimal("1.25"))


CSV_TEXT = (
    "timestamp_ms,open,high,low,close,volume\n"
    f"{T0},92792.05,92848.01,92706.02,92782.39,51.41651\n"
    "\n"
    f"{T0 + STEP},92782.39,92907.03,92748.93,92861.2,33.36201\n"
)


def test_csv_keeps_exact_decimals_and_skips_header_and_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(CSV_TEXT)
    got = load_candles(p)
    assert [k.ts_ms for k in got] == [T0, T0 + STEP]
    assert got[0].open == Decimal("92792.05") and got[1].close == Decimal("92861.2")
    assert str(got[0].volume) == "51.41651"


def test_gzipped_csv_and_headerless_csv_read_the_same(tmp_path: Path) -> None:
    gz = tmp_path / "x.csv.gz"
    gz.write_bytes(gzip.compress(CSV_TEXT.encode()))
    bare = tmp_path / "bare.csv"
    bare.write_text("\n".join(CSV_TEXT.splitlines()[1:]))
    plain = tmp_path / "x.csv"
    plain.write_text(CSV_TEXT)
    assert load_candles(gz) == load_candles(bare) == load_candles(plain)


def test_write_csv_round_trips(tmp_path: Path) -> None:
    series = [c(T0), c(T0 + STEP, "0.00001234", "0.00001300", "0.00001200", "0.00001250")]
    for name in ("out.csv", "sub/out.csv.gz"):
        write_csv(tmp_path / name, series)
        assert load_candles(tmp_path / name) == series


def _write_feather(path: Path, dates: object, **cols: list[float] | list[str]) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    table = pa.table({"date": dates, **cols})
    feather.write_feather(table, str(path))


def test_feather_timestamps_become_ms_and_floats_their_shortest_decimal(tmp_path: Path) -> None:
    import pyarrow as pa

    p = tmp_path / "BTC_USDT-5m.feather"
    dates = pa.array([T0, T0 + STEP], type=pa.timestamp("ms", tz="UTC"))
    _write_feather(p, dates, open=[0.1, 2.0], high=[0.3, 2.5], low=[0.05, 1.5],
                   close=[0.2, 2.25], volume=[10.0, 3.5])
    got = load_candles(p)
    assert got[0] == Candle(T0, Decimal("0.1"), Decimal("0.3"), Decimal("0.05"),
                            Decimal("0.2"), Decimal("10"))
    assert got[1].ts_ms == T0 + STEP and got[1].close == Decimal("2.25")


def test_feather_with_integer_dates(tmp_path: Path) -> None:
    p = tmp_path / "x.feather"
    _write_feather(p, [T0], open=[1.0], high=[1.0], low=[1.0], close=[1.0], volume=[1.0])
    assert load_candles(p)[0].ts_ms == T0


def test_a_feather_series_stays_floats_until_a_price_is_asked(tmp_path: Path) -> None:
    p = tmp_path / "x.feather"
    _write_feather(p, [T0, T0 + STEP, T0 + 2 * STEP], open=[92792.0, 0.1, 3.0],
                   high=[92800.5, 0.3, 3.0], low=[92790.0, 0.05, 3.0],
                   close=[92792.05, 0.2, 3.0], volume=[1.0, 2.0, 3.0])
    series = load_series(p)
    assert series.bars[0] == Bar(T0, 92792.0, 92800.5, 92790.0, 92792.05, 1.0)
    assert str(series.price(0, OPEN)) == "92792" and series.price(0, CLOSE) == Decimal("92792.05")
    assert series.candle(1) == load_candles(p)[1] == Candle(
        T0 + STEP, Decimal("0.1"), Decimal("0.3"), Decimal("0.05"), Decimal("0.2"), Decimal(2))
    later = series.span(T0 + STEP, None)
    assert [b.ts_ms for b in later.bars] == [T0 + STEP, T0 + 2 * STEP]
    assert later.price(0, CLOSE) == Decimal("0.2")


def test_a_series_of_decimal_candles_answers_with_its_own_decimals() -> None:
    exact = Decimal("0.12345678901234567890123")  # more digits than a float holds
    series = CandleSeries.of([Candle(T0, exact, exact, exact, exact, Decimal(1))])
    assert series.bars[0].close == float(exact) and series.price(0, CLOSE) == exact


def test_feather_non_finite_prices_and_text_columns(tmp_path: Path) -> None:
    nan = tmp_path / "nan.feather"
    _write_feather(nan, [T0], open=[1.0], high=[float("nan")], low=[1.0], close=[1.0],
                   volume=[1.0])
    with pytest.raises(CandleFileError, match=r"nan\.feather: column high .* not a finite"):
        load_series(nan)
    text = tmp_path / "text.feather"
    _write_feather(text, [T0], open=["0.1"], high=["0.3"], low=["0.05"], close=["0.2"],
                   volume=["7"])
    assert load_series(text).price(0, CLOSE) == Decimal("0.2")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.csv", f"{CSV_TEXT}{T0 + 2 * STEP},1,2,x,1,1\n", r"bad\.csv:5: not a number"),
        ("short.csv", f"{T0},1,2,0.5\n", r"short\.csv:1: expected 6 columns, got 4"),
        ("nan.csv", f"{T0},1,nan,1,1,1\n", r"nan\.csv:1: non-finite price"),
        ("neg.csv", f"{CSV_TEXT}{T0 + 2 * STEP},-5,1,1,1,1\n",
         r"neg\.csv:5: price not positive: open -5"),
        ("zero.csv", f"{T0},1,1,1,0,1\n", r"zero\.csv:1: price not positive: close 0"),
        ("huge.csv", f"{T0},1,1e400,1,1,1\n", r"huge\.csv:1: non-finite price: high 1E\+400"),
        ("vol.csv", f"{T0},1,2,0.5,1,-3\n", r"vol\.csv:1: volume not a finite"),
        ("x.txt", "hello", r"x\.txt: unknown format"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, name: str, content: str,
                                     expected: str) -> None:
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(CandleFileError, match=expected):
        load_candles(p)


def test_feather_rows_that_are_not_candles_are_refused_by_row(tmp_path: Path) -> None:
    neg = tmp_path / "neg.feather"
    _write_feather(neg, [T0, T0 + STEP], open=[1.0, -5.0], high=[2.0, 2.0], low=[0.5, 0.5],
                   close=[1.0, 1.0], volume=[1.0, 1.0])
    with pytest.raises(CandleFileError, match=r"neg\.feather: row 2: price not positive"):
        load_series(neg)
    zero = tmp_path / "zero.feather"
    _write_feather(zero, [T0], open=["1"], high=["1"], low=["0"], close=["1"], volume=["1"])
    with pytest.raises(CandleFileError, match=r"zero\.feather: row 1: price not positive: low"):
        load_series(zero)


def test_missing_and_corrupt_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match=r"nope\.csv: no such file"):
        load_candles(tmp_path / "nope.csv")
    gz = tmp_path / "broken.csv.gz"
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(CandleFileError, match=r"broken\.csv\.gz: cannot read"):
        load_candles(gz)
    fe = tmp_path / "broken.feather"
    fe.write_bytes(b"\x00garbage")
    with pytest.raises(CandleFileError, match=r"broken\.feather: not a readable feather"):
        load_candles(fe)
    cols = tmp_path / "cols.feather"
    _write_feather(cols, [T0], open=[1.0], close=[1.0])
    with pytest.raises(CandleFileError, match=r"missing column.*high.*low.*volume"):
        load_candles(cols)


def test_check_series_finds_gaps_duplicates_disorder_and_bad_rows() -> None:
    series = [
        c(T0), c(T0 + STEP), c(T0 + STEP),  # duplicate
        c(T0 + 4 * STEP),  # gap of two candles
        c(T0 + 3 * STEP),  # out of order
        c(T0 + 5 * STEP, h="98"),  # high below low
        c(T0 + 6 * STEP, cl="102"),  # close above high
    ]
    rep = check_series(series, STEP)
    assert rep.count == 7 and not rep.ok
    assert rep.duplicates == [T0 + STEP]
    assert rep.gaps == [(T0 + STEP, T0 + 4 * STEP)]
    assert rep.out_of_order == [T0 + 3 * STEP]
    assert rep.bad_rows == [T0 + 5 * STEP, T0 + 6 * STEP]
    text = rep.describe()
    for part in ("1 gap(s)", "1 duplicate(s)", "1 row(s) out of order", "2 inconsistent"):
        assert part in text


def test_check_series_on_a_clean_series() -> None:
    rep = check_series([c(T0 + i * STEP) for i in range(5)], STEP)
    assert rep.ok and rep.describe().startswith("5 candles, no gaps")


def test_clean_series_sorts_and_keeps_the_last_duplicate() -> None:
    series = [c(T0 + STEP), c(T0), c(T0 + STEP, cl="100.75")]
    assert clean_series(series) == [c(T0), c(T0 + STEP, cl="100.75")]


def test_real_csv_and_feather_hold_the_same_btc_series() -> None:
    csv_path, feather_path = DATA / "BTC_USDT-5m.csv.gz", DATA / "binance" / "BTC_USDT-5m.feather"
    if not (csv_path.exists() and feather_path.exists()):
        pytest.skip(f"real data not present under {DATA.resolve()}")
    from_csv, from_feather = load_candles(csv_path), load_candles(feather_path)
    assert len(from_csv) > 100_000
    assert from_csv == from_feather
    assert check_series(from_csv, STEP).ok


_ROWS = st.lists(
    st.tuples(st.integers(-2, 6), st.sampled_from([99.5, 100.0, 100.25, 101.0]),
              st.sampled_from([99.5, 100.0, 101.0]), st.sampled_from([99.0, 99.5, 100.0]),
              st.sampled_from([99.5, 100.0, 100.75, 101.5])),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(rows=_ROWS, start=st.one_of(st.none(), st.integers(0, 20)))
def test_a_feather_series_is_checked_on_its_columns_as_on_its_rows(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, float, float, float, float]], start: int | None,
) -> None:
    """Rows step back, repeat, skip ahead and break their ranges; the columns' answers (and a
    span's columns) are those of the rows one by one."""
    p = tmp_path_factory.mktemp("f") / "x.feather"
    ts, t = [], T0
    for step, *_ in rows:
        t += step * STEP
        ts.append(t)
    prices = list(zip(*(r[1:] for r in rows), strict=True)) or [(), (), (), ()]
    _write_feather(p, ts or [T0], open=list(prices[0]) or [1.0], high=list(prices[1]) or [1.0],
                   low=list(prices[2]) or [1.0], close=list(prices[3]) or [1.0],
                   volume=[1.0] * (len(rows) or 1))
    series = load_series(p)
    if start is not None:
        series = series.span(T0 + start * STEP, None)
    assert series.columns is not None
    assert check_series(series, STEP) == check_series(series.bars, STEP)
    assert series.stamps().tolist() == [b.ts_ms for b in series.bars]
    for k in range(1, 5):
        assert series.columns[k].tolist() == [b[k] for b in series.bars]
