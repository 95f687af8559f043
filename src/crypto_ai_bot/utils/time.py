"""Time is integer milliseconds since the epoch, UTC, read through an injected Clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime

MS_PER_SEC = 1000


MS_PER_DAY = 86_400_000


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds; prefer an injected Clock in core code."""
    return time.time_ns() // 1_000_000


def day_start_ms(ts_ms: int) -> int:
    """Start of the UTC day containing ts_ms."""
    return ts_ms - ts_ms % MS_PER_DAY


def iso_utc(ts_ms: int) -> str:
    """ISO-8601 rendering of a timestamp, for humans."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_date_ms(text: str) -> int:
    """Parse '2025-01-01', '2025-01-01T12:00' or epoch ms into epoch ms (UTC)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or epoch ms)") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


TIMEFRAME_MS = {
    "10s": 10_000,  # Gate's shortest spot candles
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


def timeframe_ms(timeframe: str) -> int:
    """Length of a candle timeframe such as '5m' in milliseconds."""
    try:
        return TIMEFRAME_MS[timeframe]
    except KeyError:
        raise ValueError(
            f"unknown timeframe {timeframe!r}; one of {', '.join(TIMEFRAME_MS)}"
        ) from None
