"""A candle file converted once: its checked columns as numpy arrays in one .npy file of a cache
directory, read back in milliseconds where the feather file costs pyarrow's import and parse.

An entry is named by its source's resolved path (one entry per source: a new version replaces
the old) and holds the source's size and modification time; it serves only while both are
unchanged, and only a series of floats that passed every check of candle_files is written. A
cache that cannot be read or written is passed over: the source file is always the truth.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when the layout below changes: older entries are then rebuilt
MIN_ROWS = 10_000  # smaller files load fast anyway (and tests' temporary files make no entries)

# (time int64 ms, open, high, low, close, volume float64), numpy arrays of one length
Columns = tuple[Any, Any, Any, Any, Any, Any]


def default_dir() -> Path:
    """~/.cache/crypto-ai-bot/candles (cab-backtest --candle-cache names another)."""
    return Path.home() / ".cache" / "crypto-ai-bot" / "candles"


def entry_path(cache_dir: Path, source: Path) -> Path:
    key = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"{source.name}.{key}.npy"


def read(cache_dir: Path, source: Path) -> Columns | None:
    """The source's columns from its entry, or None (no entry, a stale or unreadable one)."""
    import numpy as np

    now = stamp(source)
    if now is None:
        return None
    try:
        with entry_path(cache_dir, source).open("rb") as fh:
            if np.load(fh, allow_pickle=False).tolist() != now:
                return None
            ts = np.load(fh, allow_pickle=False)
            prices = np.load(fh, allow_pickle=False)
    except (OSError, ValueError, EOFError, SyntaxError):  # SyntaxError: a garbled header
        return None
    if ts.dtype != np.int64 or prices.dtype != np.float64 or prices.shape != (5, len(ts)):
        return None
    o, h, lo, c, v = prices  # rows of a C-ordered array: contiguous views
    return ts, o, h, lo, c, v


def write(cache_dir: Path, source: Path, columns: Columns, taken: list[int]) -> None:
    """Keep the columns as the source's entry; `taken` is stamp(source) taken before the
    source was read (a source changed since then is simply rebuilt next time)."""
    import numpy as np

    if len(columns[0]) < MIN_ROWS:
        return
    tmp = ""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".tmp", delete=False) as fh:
            tmp = fh.name
            np.save(fh, np.asarray(taken, dtype=np.int64))
            np.save(fh, np.ascontiguousarray(columns[0], dtype=np.int64))
            np.save(fh, np.vstack(columns[1:]).astype(np.float64, copy=False))
        os.replace(tmp, entry_path(cache_dir, source))
    except OSError:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def stamp(source: Path) -> list[int] | None:
    """What an entry written now records of the source; None when it cannot be read."""
    try:
        st = source.stat()
    except OSError:
        return None
    return [FORMAT, st.st_size, st.st_mtime_ns]
