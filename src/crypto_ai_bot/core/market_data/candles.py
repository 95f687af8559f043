"""Candle files: CSV (`timestamp_ms,open,high,low,close,volume`, optionally .gz) and freqtrade's
feather files. Problems in a series (gaps, duplicates, rows out of order) are found and reported.
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from crypto_ai_bot.core.domain import Candle

CSV_HEADER = ("timestamp_ms", "open", "high", "low", "close", "volume")


class CandleFileError(ValueError):
    """A candle file that cannot be read; the message names the file and the problem."""


def load_candles(path: str | Path) -> list[Candle]:
    """Read a candle file by its extension (.csv, .csv.gz, .feather)."""
    p = Path(path)
    if not p.exists():
        raise CandleFileError(f"{p}: no such file")
    name = p.name.lower()
    if name.endswith(".feather"):
        return _load_feather(p)
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        return _load_csv(p)
    raise CandleFileError(f"{p}: unknown format (use .csv, .csv.gz or .feather)")


def _load_csv(p: Path) -> list[Candle]:
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
                if not (o.is_finite() and h.is_finite() and lo.is_finite() and c.is_finite()):
                    raise CandleFileError(f"{p}:{lineno}: non-finite price")
                out.append(Candle(ts, o, h, lo, c, v))
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise CandleFileError(f"{p}: cannot read: {exc}") from None
    return out


def _load_feather(p: Path) -> list[Candle]:
    try:
        import pyarrow.feather as feather
    except ImportError:  # pragma: no cover - pyarrow is a core dependency
        raise CandleFileError("reading .feather files needs pyarrow") from None
    try:
        table = feather.read_table(p)
    except Exception as exc:
        raise CandleFileError(f"{p}: not a readable feather file: {exc}") from None
    cols = set(table.column_names)
    missing = {"date", "open", "high", "low", "close", "volume"} - cols
    if missing:
        raise CandleFileError(f"{p}: missing column(s) {', '.join(sorted(missing))}")
    import pyarrow as pa
    import pyarrow.compute as pc

    date = table.column("date")
    if pa.types.is_timestamp(date.type):
        ts = pc.cast(pc.cast(date, pa.timestamp("ms", tz="UTC")), pa.int64()).to_pylist()
    else:
        ts = pc.cast(date, pa.int64()).to_pylist()
    # Arrow renders each float as its shortest round-trip string: the exchange's own decimal.
    # Built in C (map) with the cyclic GC paused: GC passes over 100k-candle lists cost more
    # than building them. An open equal to the previous close (the usual case) shares that
    # close's Decimal; looking every price up in a table of distinct ones costs more than it
    # saves.
    paused = gc.isenabled()
    gc.disable()
    try:
        opens, highs, lows, closes = (
            pc.cast(table.column(n), pa.string()).to_pylist()
            for n in ("open", "high", "low", "close")
        )
        close = list(map(Decimal, closes))
        open_ = list(map(Decimal, opens[:1])) + [
            prev if text == prev_text else Decimal(text)
            for text, prev_text, prev in zip(opens[1:], closes, close, strict=False)
        ]
        high, low = list(map(Decimal, highs)), list(map(Decimal, lows))
        volume = list(map(Decimal, pc.cast(table.column("volume"), pa.string()).to_pylist()))
        return list(map(Candle._make, zip(ts, open_, high, low, close, volume, strict=True)))
    finally:
        if paused:
            gc.enable()


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


@dataclass(slots=True)
class SeriesReport:
    """What is wrong with a candle series, if anything."""

    count: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (last ts before, next ts)
    duplicates: list[int] = field(default_factory=list)
    out_of_order: list[int] = field(default_factory=list)
    bad_rows: list[int] = field(default_factory=list)  # high < low, close outside range, ...

    @property
    def ok(self) -> bool:
        return not (self.gaps or self.duplicates or self.out_of_order or self.bad_rows)

    def describe(self) -> str:
        if self.ok:
            return f"{self.count} candles, no gaps, duplicates or rows out of order"
        parts = [f"{self.count} candles"]
        if self.gaps:
            parts.append(f"{len(self.gaps)} gap(s)")
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate(s)")
        if self.out_of_order:
            parts.append(f"{len(self.out_of_order)} row(s) out of order")
        if self.bad_rows:
            parts.append(f"{len(self.bad_rows)} inconsistent row(s)")
        return ", ".join(parts)


def check_series(candles: list[Candle], step_ms: int) -> SeriesReport:
    """Find gaps, duplicates, rows out of order and inconsistent OHLC rows."""
    rep = SeriesReport(count=len(candles))
    prev: int | None = None
    for c in candles:
        if c.high < c.low or not (c.low <= c.open <= c.high) or not (c.low <= c.close <= c.high):
            rep.bad_rows.append(c.ts_ms)
        if prev is not None:
            if c.ts_ms == prev:
                rep.duplicates.append(c.ts_ms)
            elif c.ts_ms < prev:
                rep.out_of_order.append(c.ts_ms)
            elif c.ts_ms - prev > step_ms:
                rep.gaps.append((prev, c.ts_ms))
        if prev is None or c.ts_ms > prev:
            prev = c.ts_ms
    return rep


def clean_series(candles: list[Candle]) -> list[Candle]:
    """Sorted, one candle per timestamp (the last seen wins). Callers report first."""
    by_ts: dict[int, Candle] = {}
    for c in candles:
        by_ts[c.ts_ms] = c
    return [by_ts[t] for t in sorted(by_ts)]
