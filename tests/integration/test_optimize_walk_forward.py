"""Walk-forward never lets a test window's or the hold-out's candles reach the search.

Two proofs over real Optuna studies and real backtests: every trial notes the first and last
candle its backtest received, and each lies inside its own train span; and poisoning candles
(replacing them by a wild market) leaves every search that must not see them exactly as it was,
trial by trial, while the out-of-sample results, which do see them, change.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.synthetic_market import market, poisoned

from crypto_ai_bot.application.strategies import entry
from crypto_ai_bot.bootstrap import backtest_result, reference_config
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.drivers.optimize.search import Searcher
from crypto_ai_bot.drivers.optimize.space import build_space
from crypto_ai_bot.drivers.optimize.trials import Setup, Trials
from crypto_ai_bot.drivers.optimize.walkforward import Outcome, walk_forward
from crypto_ai_bot.drivers.optimize.windows import Plan, plan

pytest.importorskip("optuna")

STEP = 300_000
CANDLES = market(days=24)
PLAN = plan(CANDLES[0].ts_ms, CANDLES[-1].ts_ms + STEP, train_days=6, test_days=3,
            holdout_days=3)


def optimise(candles: list[Any], the_plan: Plan = PLAN) -> tuple[Outcome, dict[str, list[Any]]]:
    series = CandleSeries.of(candles)
    space = build_space(entry("ema_cross").params, {"trailing_pct": 0},
                        {"fast": (2, 30), "slow": (5, 120)})
    setup = Setup({"BTC/USDT": "memory"}, lambda _path: series, backtest_result,
                  reference_config(STEP), space, ("sharpe",), 3, None, {"trailing_pct": 0})
    searcher = Searcher(setup, Trials(setup), None, jobs=1, seed=7, fingerprint="t")
    with searcher.started():
        outcome = walk_forward(searcher, the_plan, trials=12, study="leak", defaults={})
        studies = {name: searcher._storage.get_all_trials(
            searcher._storage.get_study_id_from_name(name)) for name in
            [f"leak:window-{w.index}" for w in the_plan.windows] + ["leak:final"]}
    return outcome, studies


def trials_of(studies: dict[str, list[Any]], name: str) -> list[tuple[Any, ...]]:
    return [(t.number, t.state.name, tuple(sorted(t.params.items())), t.values)
            for t in studies[name]]


@pytest.fixture(scope="module")
def clean() -> tuple[Outcome, dict[str, list[Any]]]:
    return optimise(CANDLES)


def test_the_plan_has_windows_a_final_search_and_a_holdout() -> None:
    assert len(PLAN.windows) == 5 and PLAN.holdout is not None
    assert PLAN.final_train.end_ms == PLAN.holdout.start_ms
    for a, b in zip(PLAN.windows, PLAN.windows[1:], strict=False):
        assert a.test.end_ms == b.test.start_ms  # the test spans tile: one stitched curve


def test_every_trial_saw_only_candles_of_its_own_train_span(
        clean: tuple[Outcome, dict[str, list[Any]]]) -> None:
    outcome, studies = clean
    assert PLAN.holdout is not None
    spans = {f"leak:window-{w.index}": w.train for w in PLAN.windows}
    spans["leak:final"] = PLAN.final_train
    seen = 0
    for name, span in spans.items():
        for t in studies[name]:
            first, last = t.user_attrs["candles"]
            assert span.start_ms <= first <= last < span.end_ms, (name, t.number)
            assert last < PLAN.holdout.start_ms
            seen += 1
    assert seen == 12 * len(spans)
    assert outcome.final.best_params is not None
    assert all(w.search.best_params is not None and w.test is not None
               for w in outcome.windows)


def test_poisoning_the_holdout_changes_no_search_only_the_holdout_result(
        clean: tuple[Outcome, dict[str, list[Any]]]) -> None:
    outcome, studies = clean
    assert PLAN.holdout is not None
    dirty, dirty_studies = optimise(poisoned(CANDLES, PLAN.holdout.start_ms))
    for name in studies:
        assert trials_of(dirty_studies, name) == trials_of(studies, name), name
    assert dirty.final.best_params == outcome.final.best_params
    assert [w.test for w in dirty.windows] == [w.test for w in outcome.windows]
    assert outcome.holdout is not None and dirty.holdout is not None
    assert dirty.holdout["best"] != outcome.holdout["best"]  # the poison was there to see


def test_poisoning_a_test_window_leaves_its_search_and_the_earlier_ones_unchanged(
        clean: tuple[Outcome, dict[str, list[Any]]]) -> None:
    outcome, studies = clean
    w1 = PLAN.windows[1]
    dirty, dirty_studies = optimise(poisoned(CANDLES, w1.test.start_ms))
    for w in PLAN.windows[:2]:
        name = f"leak:window-{w.index}"
        assert trials_of(dirty_studies, name) == trials_of(studies, name), name
    assert dirty.windows[1].search.best_params == outcome.windows[1].search.best_params
    assert dirty.windows[0].test == outcome.windows[0].test
    assert dirty.windows[1].test != outcome.windows[1].test  # its test span is poisoned
    # the next window trains on the poisoned span: its search differs, as it may
    assert trials_of(dirty_studies, "leak:window-2") != trials_of(studies, "leak:window-2")
