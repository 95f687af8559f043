"""What caused an order, and when the pipeline saw it: the start of its latency figures.

The pipeline stamps a signal it acts on, or a stop the price has crossed, with a monotonic
clock (a duration, never a decision: money and trading times stay on the injected Clock); the
executor announces OrderSent with the time to the request from it (docs/performance.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Origin:
    cause: str  # "signal" | "stop"
    seen_ns: int  # time.perf_counter_ns() when it was seen
    candle_ts_ms: int = 0  # a signal: the opening time of its candle
    decided_ms: int = 0  # a signal: Decision.ts_ms

    @classmethod
    def now(cls, cause: str, candle_ts_ms: int = 0, decided_ms: int = 0) -> Origin:
        return cls(cause, time.perf_counter_ns(), candle_ts_ms, decided_ms)

    def elapsed_us(self) -> int:
        return (time.perf_counter_ns() - self.seen_ns) // 1000
