from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_ai_bot.application.strategies.ema_cross import EmaCross
from crypto_ai_bot.domain.indicators import EMA
from crypto_ai_bot.domain.model import Action, Bar, Candle


def candle(i: int, close: float) -> Bar:
    c = D(str(close))
    return Candle(i, c, c, c, c, D(0)).bar()


def test_ema_is_seeded_with_first_value() -> None:
    e = EMA(3)
    assert e.update(10.0) == 10.0
    assert e.update(20.0) == 15.0


def test_cross_up_then_down() -> None:
    s = EmaCross(2, 4)
    closes = [10.0] * 6 + [12.0, 14.0] + [8.0, 6.0]
    actions = [s.on_candle(candle(i, c)).action for i, c in enumerate(closes)]
    assert actions[6] is Action.BUY
    assert Action.SELL in actions[8:]
    assert actions[:4] == [Action.HOLD] * 4  # warm-up


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=1, max_value=1000), min_size=30, max_size=80),
       st.integers(min_value=0, max_value=29))
def test_no_lookahead(closes: list[float], k: int) -> None:
    """Signals up to k do not change when everything after k changes."""
    a, b = EmaCross(3, 7), EmaCross(3, 7)
    future = [c * 1.5 + 1 for c in closes[k + 1:]]
    sa = [a.on_candle(candle(i, c)).action for i, c in enumerate(closes)]
    sb = [b.on_candle(candle(i, c)).action for i, c in enumerate(closes[: k + 1] + future)]
    assert sa[: k + 1] == sb[: k + 1]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1e9), min_size=1, max_size=60),
       st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=20))
def test_inline_emas_are_the_indicator_emas(closes: list[float], fast: int, more: int) -> None:
    """EmaCross updates its EMAs inline for speed; they stay indicators.EMA, bit for bit."""
    s, ef, es = EmaCross(fast, fast + more), EMA(fast), EMA(fast + more)
    for i, c in enumerate(closes):
        s.on_candle(Bar(i, c, c, c, c, 0.0))
        assert s.values == (ef.update(c), es.update(c))
