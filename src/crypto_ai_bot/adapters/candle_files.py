"""Candle files: CSV (`timestamp_ms,open,high,low,close,volume`, optionally .gz) and freqtrade's
feather files. Problems in a series (gaps, duplicates, rows out of order) are found and reported.
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
import itertools
import math
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.model import Bar, Candle

CSV_HEADER = ("timestamp_ms", "open", "high", "low", "close", "volume")


class CandleFileError(ValueError):
    """A candle file that cannot be read; the message names the file and the problem."""


def load_candles(path: str | Path, lines: list[int] | None = None) -> list[Candle]:
    """Read a candle file by its extension (.csv, .csv.gz, .feather); `lines`, when given,
    receives each candle's line in the file (a feather file's row, from 1)."""
    p = _candle_file(path)
    if _is_feather(p):
        candles = _load_feather(p).candles()
        if lines is not None:
            lines.extend(range(1, len(candles) + 1))
        return candles
    return _load_csv(p, lines)


def load_series(path: str | Path, cache_dir: Path | None = None) -> CandleSeries:
    """Read a candle file by its extension; a feather file of floats stays floats until a
    price is asked for (see CandleSeries). With cache_dir, a feather file of floats is
    converted once into a cache entry there (adapters/candle_cache.py) and read from it while
    the file is unchanged."""
    p = _candle_file(path)
    if not _is_feather(p):
        return CandleSeries.of(_load_csv(p))
    if cache_dir is None:
        return _load_feather(p)
    from crypto_ai_bot.adapters import candle_cache

    columns = candle_cache.read(cache_dir, p)
    if columns is not None:
        return _series_of(columns)
    taken = candle_cache.stamp(p)
    got = _read_feather(p)
    if isinstance(got, CandleSeries):  # exact decimals: read as they are, never cached
        return got
    if taken is not None:
        candle_cache.write(cache_dir, p, got, taken)
    return _series_of(got)


def _candle_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise CandleFileError(f"{p}: no such file")
    name = p.name.lower()
    if not name.endswith((".feather", ".csv", ".csv.gz")):
        raise CandleFileError(f"{p}: unknown format (use .csv, .csv.gz or .feather)")
    return p


def _is_feather(p: Path) -> bool:
    return p.name.lower().endswith(".feather")


def _load_csv(p: Path, lines: list[int] | None = None) -> list[Candle]:
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    out: list[Candle] = []
    try:
        with opener(p, "rt", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            for lineno, row in enumerate(reader, start=1):
                if not row or not row[0].strip():
                    continue
                if lineno == 1 and not row[0].strip().lstrip("-").isdigit():
                    continue  # header
                if len(row) < 6:
                    raise CandleFileError(f"{p}:{lineno}: expected 6 columns, got {len(row)}")
                try:
                    ts = int(row[0])
                    o, h, lo, c, v = (Decimal(x.strip()) for x in row[1:6])
                except (ValueError, InvalidOperation):
                    raise CandleFileError(f"{p}:{lineno}: not a number in {row!r}") from None
                problem = _row_problem(o, h, lo, c, v)
                if problem:
                    raise CandleFileError(f"{p}:{lineno}: {problem}")
                out.append(Candle(ts, o, h, lo, c, v))
                if lines is not None:
                    lines.append(lineno)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise CandleFileError(f"{p}: cannot read: {exc}") from None
    return out


_FLOAT_MAX = Decimal("1.7976931348623157e308")  # a price beyond it is inf to every backtest


def _row_problem(o: Decimal, h: Decimal, lo: Decimal, c: Decimal, v: Decimal) -> str:
    """What makes a row no candle at all ('' when nothing): a price that is not a finite
    positive number, a negative or non-finite volume. A candle whose prices disagree (high
    below low) is check_series' bad row: cab-data import refuses it by line, --fix drops it."""
    for name, x in (("open", o), ("high", h), ("low", lo), ("close", c)):
        if not x.is_finite() or abs(x) > _FLOAT_MAX:
            return f"non-finite price: {name} {x}"
        if x <= 0:
            return f"price not positive: {name} {x}"
    if not v.is_finite() or v < 0 or v > _FLOAT_MAX:
        return f"volume not a finite non-negative number: {v}"
    return ""


def _first_bad_row(p: Path, columns: dict[str, Any]) -> None:
    """Refuse the first unusable row of float columns, by its row number (1 = first)."""
    import numpy as np

    o, h, lo, c, v = (np.asarray(columns[n], dtype=np.float64)
                      for n in ("open", "high", "low", "close", "volume"))
    bad = ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0) | (v < 0)
           | ~np.isfinite(v))
    if bad.any():
        i = int(np.argmax(bad))
        problem = _row_problem(*(Decimal(repr(float(x[i]))) for x in (o, h, lo, c, v)))
        raise CandleFileError(f"{p}: row {i + 1}: {problem or 'unusable candle'}")


def _load_feather(p: Path) -> CandleSeries:
    got = _read_feather(p)
    return got if isinstance(got, CandleSeries) else _series_of(got)


Columns = tuple[Any, Any, Any, Any, Any, Any]  # time int64 ms, open, high, low, close, volume


def _read_feather(p: Path) -> Columns | CandleSeries:
    """A feather file's checked columns as numpy arrays; a file whose prices are not floats
    as the series of its exact decimals."""
    try:
        import pyarrow as pa
        import pyarrow.feather as feather
    except ImportError:  # pragma: no cover - pyarrow is a core dependency
        raise CandleFileError("reading .feather files needs pyarrow") from None
    try:
        table = feather.read_table(p)
    except Exception as exc:
        raise CandleFileError(f"{p}: not a readable feather file: {exc}") from None
    missing = {"date", "open", "high", "low", "close", "volume"} - set(table.column_names)
    if missing:
        raise CandleFileError(f"{p}: missing column(s) {', '.join(sorted(missing))}")
    import numpy as np

    date = table.column("date")
    if pa.types.is_timestamp(date.type):  # whatever its unit, as epoch ms (floored)
        ts = _numpy(p, "date", date.cast(pa.timestamp("ms"), safe=False).cast(pa.int64()))
    elif pa.types.is_integer(date.type):
        ts = _numpy(p, "date", date.cast(pa.int64()))
    else:
        raise CandleFileError(f"{p}: column date is {date.type}, not a time")
    names = ("open", "high", "low", "close", "volume")
    if not all(pa.types.is_floating(table.column(n).type) for n in names):
        return CandleSeries.of(_feather_decimals(p, table, ts.tolist()))
    arrays: list[Any] = []
    for n in names:
        values = _numpy(p, n, table.column(n).cast(pa.float64()))
        if not np.isfinite(values).all():
            raise CandleFileError(f"{p}: column {n} holds a value that is not a finite number")
        arrays.append(values)
    _first_bad_row(p, dict(zip(names, arrays, strict=True)))
    o, h, lo, c, v = arrays
    return ts, o, h, lo, c, v


def _numpy(p: Path, name: str, column: Any) -> Any:
    """A chunked Arrow column of int64 or float64 as one numpy array of its own, an empty
    value as NaN (floats) or refused. Read from its buffers: pyarrow's to_numpy imports pandas
    when it is installed, which costs a backtest a third of a second and 40 MB."""
    import numpy as np
    import pyarrow as pa

    dtype = np.dtype(np.int64 if pa.types.is_integer(column.type) else np.float64)
    parts = []
    for chunk in column.chunks:
        if not len(chunk):
            continue
        if chunk.null_count:
            if dtype.kind != "f":
                raise CandleFileError(f"{p}: column {name} holds empty values")
            chunk = chunk.fill_null(math.nan)
        parts.append(np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk),
                                   offset=chunk.offset * dtype.itemsize))
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _series_of(columns: Columns) -> CandleSeries:
    """A series of float Bars over checked columns (time, open, high, low, close, volume)."""
    # Built in C with the cyclic GC paused: GC passes over 100k-row lists cost more than
    # building them. tuple.__new__(Bar, row) is what Bar._make does, without its Python frame
    # (zip(strict=True) already guarantees six fields a row).
    paused = gc.isenabled()
    gc.disable()
    try:
        rows = zip(*(a.tolist() for a in columns), strict=True)
        bars = list(map(tuple.__new__, itertools.repeat(Bar), rows))
    finally:
        if paused:
            gc.enable()
    ts, o, h, lo, c, _v = columns
    return CandleSeries(bars, columns=(ts, o, h, lo, c))


def _feather_decimals(p: Path, table: Any, ts: list[int]) -> list[Candle]:
    """Columns that are not floats (decimals, integers, text) are read as exact Decimals."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: list[list[Decimal]] = []
    for n in ("open", "high", "low", "close", "volume"):
        try:
            out.append(list(map(Decimal, pc.cast(table.column(n), pa.string()).to_pylist())))
        except (InvalidOperation, TypeError, pa.ArrowInvalid):
            raise CandleFileError(f"{p}: column {n} holds a value that is not a number") from None
    for n, col in zip(("open", "high", "low", "close"), out, strict=False):
        if not all(v.is_finite() for v in col):
            raise CandleFileError(f"{p}: column {n} holds a value that is not a finite number")
    for i, row in enumerate(zip(*out, strict=True)):
        problem = _row_problem(*row)
        if problem:
            raise CandleFileError(f"{p}: row {i + 1}: {problem}")
    return list(map(Candle._make, zip(ts, *out, strict=True)))


def write_csv(path: str | Path, candles: list[Candle]) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for c in candles:
        w.writerow((c.ts_ms, c.open, c.high, c.low, c.close, c.volume))
    data = buf.getvalue().encode()
    if p.name.endswith(".gz"):
        data = gzip.compress(data)
    p.write_bytes(data)
