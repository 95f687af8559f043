"""scan (backtests read ahead) finds the decisions decide (candle by candle) makes, no others."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto_ai_bot.application.strategies.ema_cross import EmaCross
from crypto_ai_bot.domain.model import Bar

T0 = 1_767_225_600_000


def bars(closes: list[float]) -> list[Bar]:
    return [Bar(T0 + i * 300_000, c, c, c, c, 1.0) for i, c in enumerate(closes)]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # paper is a factory
@given(st.lists(st.floats(min_value=1, max_value=2), min_size=1, max_size=120))
def test_scan_finds_what_decide_decides(paper: Callable[..., Any], closes: list[float]) -> None:
    series = bars([100 * math.exp(c) for c in closes])
    one, ahead = paper(), paper()
    p, q = one.pipelines["BTC/USDT"], ahead.pipelines["BTC/USDT"]
    p.strategy, q.strategy = EmaCross(2, 5), EmaCross(2, 5)
    by_decide = [(i, d.action, d.reason) for i, b in enumerate(series)
                 if (d := p.decide([b], Decimal(1))) is not None]
    by_scan = []
    i, signal = q.scan(series, 0)
    while signal is not None:
        by_scan.append((i, signal.action, signal.reason))
        i, signal = q.scan(series, i + 1)
    assert i == len(series)
    assert by_scan == by_decide
    assert q.stats.candles == p.stats.candles == len(series)
    assert q.stats.decisions == p.stats.decisions
    assert q.stats.last_signal == p.stats.last_signal
    assert q.stats.last_signal_candle_ts_ms == p.stats.last_signal_candle_ts_ms
