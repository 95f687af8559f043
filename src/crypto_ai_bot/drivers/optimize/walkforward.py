"""Walk-forward optimisation: a search on each window's train span, its best parameters
judged on the test span that follows, the test spans stitched into one out-of-sample curve
beside buy-and-hold and the default parameters; then the final search, whose best parameters
are the answer, judged last on the hold-out no search has seen.

A window's best parameters are the best trial of its own study: the score that picks them is
the train span's alone. Curves are stitched by compounding: each test span's curve starts at
the equity the previous one ended with (a span whose search found nothing trades nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.drivers.optimize.search import Progress, Searcher
from crypto_ai_bot.drivers.optimize.trials import brief
from crypto_ai_bot.drivers.optimize.windows import Plan, Span

if TYPE_CHECKING:
    import optuna

StudyProgress = Callable[[str], Progress | None]  # a study's label -> its progress callback


@dataclass
class Curve:
    """An equity curve in quote at candle closes; stitched ones start at the start balance."""

    ts_ms: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)

    def extend(self, ts_ms: list[int], equity: list[float], start: float) -> None:
        if not equity:
            return
        base = self.equity[-1] if self.equity else start
        factor = base / start
        self.ts_ms.extend(ts_ms)
        self.equity.extend(e * factor for e in equity)

    def flat(self, span: Span, start: float) -> None:
        level = self.equity[-1] if self.equity else start
        self.ts_ms.extend((span.start_ms, span.end_ms))
        self.equity.extend((level, level))

    def return_pct(self, start: float) -> float | None:
        return (self.equity[-1] / start - 1) * 100 if self.equity else None


@dataclass
class StudyOutcome:
    name: str
    span: Span
    trials: int
    failed: int
    best_params: dict[str, Any] | None
    best_values: list[float] | None
    train: dict[str, Any] | None  # the best trial's result on the train span
    top: list[dict[str, Any]]
    history: list[tuple[int, float | None]]  # (trial number, first objective; None: failed)
    failures: dict[str, int] = field(default_factory=dict)  # why trials failed, how often


@dataclass
class WindowOutcome:
    index: int
    search: StudyOutcome
    test: dict[str, Any] | None
    default: dict[str, Any] | None  # the default parameters on the test span


@dataclass
class Outcome:
    plan: Plan
    windows: list[WindowOutcome]
    final: StudyOutcome
    importance: dict[str, float]
    holdout: dict[str, Any] | None
    default_values: dict[str, Any]
    oos: Curve  # the stitched test spans with each window's best parameters
    oos_default: Curve
    oos_buy_hold: Curve
    holdout_curves: dict[str, Curve]  # best, default, buy_hold over the hold-out


def summarise(study: optuna.Study, span: Span, top: int) -> StudyOutcome:
    """What a study found: its best trial (multi-objective: the Pareto trial best on the
    first objective), the top trials, the history of the first objective."""
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state.name in ("COMPLETE", "FAIL", "PRUNED")]
    complete = [t for t in done if t.state.name == "COMPLETE" and t.values]
    ranked = sorted(complete, key=lambda t: t.values[0], reverse=True)
    best = ranked[0] if ranked else None
    if best is not None and len(study.directions) > 1:
        front = study.best_trials
        best = max(front, key=lambda t: t.values[0]) if front else best
    rows = [{"number": t.number, "values": list(t.values), "params": dict(t.params),
             "result": t.user_attrs.get("result")} for t in ranked[:top]]
    history = [(t.number, t.values[0] if t.state.name == "COMPLETE" and t.values else None)
               for t in sorted(done, key=lambda t: t.number)]
    failures: dict[str, int] = {}
    for t in done:
        if t.state.name != "COMPLETE":
            why = str(t.user_attrs.get("failed", t.state.name.lower()))
            failures[why] = failures.get(why, 0) + 1
    return StudyOutcome(
        failures=failures, name=study.study_name, span=span, trials=len(done),
        failed=sum(1 for t in done if t.state.name != "COMPLETE"),
        best_params={k: round(v, 6) if isinstance(v, float) else v
                     for k, v in best.params.items()} if best else None,
        best_values=list(best.values) if best else None,
        train=best.user_attrs.get("result") if best else None, top=rows, history=history)


def importance(study: optuna.Study) -> dict[str, float]:
    """Optuna's parameter importance of the first objective; {} when it cannot say
    (fewer than two complete trials, or nothing varies)."""
    import warnings

    from crypto_ai_bot.drivers.optimize.search import optuna_module

    optuna = optuna_module()
    try:
        # PED-ANOVA, Optuna's default, asks which parameters reach *low* targets: negated
        with warnings.catch_warnings():  # it warns of that, although the target is negated
            warnings.simplefilter("ignore")
            got: dict[str, float] = optuna.importance.get_param_importances(
                study, target=lambda t: -t.values[0],
                evaluator=optuna.importance.PedAnovaImportanceEvaluator())
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}
    return {k: round(float(v), 6) for k, v in got.items()}


def walk_forward(searcher: Searcher, plan: Plan, *, trials: int, study: str,
                 defaults: Mapping[str, Any], top: int = 10,
                 progress: StudyProgress | None = None) -> Outcome:
    """Run the plan's searches (n trials each) and judge them out of sample."""
    evaluate = searcher.trials
    start = float(evaluate.setup.config.start_quote)
    oos, oos_default, oos_hold = Curve(), Curve(), Curve()
    windows: list[WindowOutcome] = []

    def judge(values: Mapping[str, Any] | None, span: Span) -> BacktestResult | None:
        if values is None:
            return None
        return evaluate.run(values, span)

    for w in plan.windows:
        label = f"window {w.index + 1}/{len(plan.windows)}"
        st = searcher.run(f"{study}:window-{w.index}", w.train, trials,
                          progress(label) if progress else None)
        found = summarise(st, w.train, top)
        tested = judge(found.best_params, w.test)
        default = judge(defaults, w.test)
        if tested is not None:
            oos.extend(tested.equity_ts_ms, tested.equity, start)
        else:
            oos.flat(w.test, start)
        if default is not None:
            oos_default.extend(default.equity_ts_ms, default.equity, start)
            oos_hold.extend(default.equity_ts_ms, default.buy_hold, start)
        windows.append(WindowOutcome(w.index, found, brief(tested) if tested else None,
                                     brief(default) if default else None))
    st = searcher.run(f"{study}:final", plan.final_train, trials,
                      progress("final") if progress else None)
    final = summarise(st, plan.final_train, top)
    held: dict[str, Any] | None = None
    curves: dict[str, Curve] = {}
    if plan.holdout is not None:
        best = judge(final.best_params, plan.holdout)
        default = judge(defaults, plan.holdout)
        held = {"from_ms": plan.holdout.start_ms, "to_ms": plan.holdout.end_ms,
                "best": brief(best) if best else None,
                "default": brief(default) if default else None,
                "buy_hold_return_pct": default.summary.buy_hold_return_pct if default else None}
        for key, res, series in (("best", best, "equity"), ("default", default, "equity"),
                                 ("buy_hold", default, "buy_hold")):
            c = Curve()
            if res is not None:
                c.extend(res.equity_ts_ms, getattr(res, series), start)
            curves[key] = c
    return Outcome(plan, windows, final, importance(st), held, dict(defaults), oos,
                   oos_default, oos_hold, curves)
