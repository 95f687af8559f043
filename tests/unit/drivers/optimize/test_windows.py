"""Walk-forward spans: rolling and anchored windows, the final train span, the hold-out."""

from __future__ import annotations

import pytest

from crypto_ai_bot.drivers.optimize.windows import DAY_MS, Span, WindowsDoNotFit, plan

T0 = 1_767_225_600_000


def days(a: float, b: float) -> Span:
    return Span(T0 + round(a * DAY_MS), T0 + round(b * DAY_MS))


def test_rolling_windows_move_on_by_one_test_span() -> None:
    p = plan(T0, T0 + 100 * DAY_MS, train_days=30, test_days=10, holdout_days=20)
    assert [(w.train, w.test) for w in p.windows] == [
        (days(0, 30), days(30, 40)), (days(10, 40), days(40, 50)),
        (days(20, 50), days(50, 60)), (days(30, 60), days(60, 70)),
        (days(40, 70), days(70, 80))]
    assert p.final_train == days(50, 80)  # the train length just before the hold-out
    assert p.holdout == days(80, 100)


def test_anchored_windows_keep_the_first_candle() -> None:
    p = plan(T0, T0 + 60 * DAY_MS, train_days=30, test_days=10, anchored=True)
    assert [(w.train, w.test) for w in p.windows] == [
        (days(0, 30), days(30, 40)), (days(0, 40), days(40, 50)), (days(0, 50), days(50, 60))]
    assert p.final_train == days(0, 60) and p.holdout is None


def test_a_remainder_shorter_than_a_test_span_is_left_to_the_final_search() -> None:
    p = plan(T0, T0 + 45 * DAY_MS, train_days=20, test_days=10, holdout_days=5)
    assert [w.test for w in p.windows] == [days(20, 30), days(30, 40)]
    assert p.final_train == days(20, 40) and p.holdout == days(40, 45)


def test_no_windows_with_test_days_zero() -> None:
    p = plan(T0, T0 + 40 * DAY_MS, train_days=30, test_days=0, holdout_days=10)
    assert p.windows == [] and p.final_train == days(0, 30) and p.holdout == days(30, 40)


@pytest.mark.parametrize(("train", "test", "hold"), [(30, 10, 70), (90, 30, 0), (101, 0, 0)])
def test_windows_that_do_not_fit_are_refused_with_the_numbers(
        train: float, test: float, hold: float) -> None:
    with pytest.raises(WindowsDoNotFit, match=r"100\.0 days of candles"):
        plan(T0, T0 + 100 * DAY_MS + 1, train_days=train, test_days=test, holdout_days=hold)


def test_a_train_span_must_be_positive() -> None:
    with pytest.raises(WindowsDoNotFit, match="--train-days must be positive"):
        plan(T0, T0 + 100 * DAY_MS, train_days=0, test_days=10)
