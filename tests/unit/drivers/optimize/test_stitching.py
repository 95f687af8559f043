"""The out-of-sample curve: test spans stitched by compounding, an empty span held flat."""

from __future__ import annotations

import pytest

from crypto_ai_bot.drivers.optimize.walkforward import Curve
from crypto_ai_bot.drivers.optimize.windows import Span


def test_each_span_starts_where_the_last_ended_and_returns_compound() -> None:
    c = Curve()
    c.extend([1, 2], [10_100.0, 11_000.0], 10_000.0)  # +10 %
    c.extend([3, 4], [9_000.0, 9_500.0], 10_000.0)  # -5 % of the 11,000 it starts with
    assert c.ts_ms == [1, 2, 3, 4]
    assert c.equity == pytest.approx([10_100.0, 11_000.0, 9_900.0, 10_450.0])
    assert c.return_pct(10_000.0) == pytest.approx(4.5)  # 1.10 * 0.95 - 1


def test_a_span_whose_search_found_nothing_holds_the_cash() -> None:
    c = Curve()
    c.flat(Span(0, 10), 10_000.0)
    c.extend([11], [10_500.0], 10_000.0)
    c.flat(Span(12, 20), 10_000.0)
    assert c.equity == [10_000.0, 10_000.0, 10_500.0, 10_500.0, 10_500.0]
    assert Curve().return_pct(10_000.0) is None
