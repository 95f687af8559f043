"""What cab-optimize writes: optimize.json, the optimisation history and the out-of-sample
equity (PNGs; matplotlib is the `plot` extra, imported only when a picture is asked for).

optimize.json holds `best_params` (the final search's best, stops included as `stop_pct` and
`trailing_pct`: `cab-backtest --params-from` reads them back), `windows` (each with its `train`
and `test` spans and results), `out_of_sample` (the stitched test spans) and `holdout`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from crypto_ai_bot.drivers.optimize.walkforward import Curve, Outcome, StudyOutcome
from crypto_ai_bot.drivers.optimize.windows import Span
from crypto_ai_bot.utils.time import iso_utc


def _clean(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()}


def _span(span: Span) -> dict[str, Any]:
    return {"from_ms": span.start_ms, "to_ms": span.end_ms, "from": iso_utc(span.start_ms),
            "to": iso_utc(span.end_ms), "days": round(span.days, 3)}


def _study(s: StudyOutcome) -> dict[str, Any]:
    return {"study": s.name, "trials": s.trials, "failed": s.failed,
            "best_params": _clean(s.best_params), "best_values": s.best_values,
            "train": {**_span(s.span), "result": s.train},
            "top": [{**row, "params": _clean(row["params"])} for row in s.top]}


def optimize_document(outcome: Outcome, settings: dict[str, Any]) -> dict[str, Any]:
    start = float(settings["start_quote"])

    def pct(c: Curve) -> float | None:
        r = c.return_pct(start)
        return round(r, 6) if r is not None and math.isfinite(r) else None

    windows = []
    for w, plan in zip(outcome.windows, outcome.plan.windows, strict=True):
        windows.append({
            "index": w.index, "study": w.search.name, "trials": w.search.trials,
            "failed": w.search.failed, "best_params": _clean(w.search.best_params),
            "train": {**_span(plan.train), "score": w.search.best_values,
                      "result": w.search.train},
            "test": {**_span(plan.test), "result": w.test, "default": w.default},
        })
    return {
        "settings": settings,
        "best_params": _clean(outcome.final.best_params),
        "default_params": _clean(outcome.default_values),
        "final": {**_study(outcome.final), "importance": outcome.importance},
        "windows": windows,
        "out_of_sample": {"return_pct": pct(outcome.oos),
                          "default_return_pct": pct(outcome.oos_default),
                          "buy_hold_return_pct": pct(outcome.oos_buy_hold)},
        "holdout": None if outcome.holdout is None or outcome.plan.holdout is None else {
            **_span(outcome.plan.holdout), **outcome.holdout},
    }


def write_optimize_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def write_history_png(path: Path, study: StudyOutcome, objective: str) -> bool:
    """Each trial's score of the final search and the best so far. False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    done = [(n, v) for n, v in study.history if v is not None]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    if done:
        xs, ys = zip(*done, strict=True)
        ax.scatter(xs, ys, s=8, alpha=0.6, label="trial")
        best, running = [], -math.inf
        for y in ys:
            running = max(running, y)
            best.append(running)
        ax.plot(xs, best, color="tab:red", linewidth=1.2, drawstyle="steps-post",
                label="best so far")
        ax.legend(loc="lower right")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"optimisation history ({study.trials} trials, {study.failed} failed)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_oos_png(path: Path, outcome: Outcome, start_quote: float, title: str = "") -> bool:
    """The stitched out-of-sample equity beside the default parameters and buy-and-hold, the
    hold-out after it (shaded). False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    from datetime import UTC, datetime

    def when(ts: list[int]) -> list[datetime]:
        return [datetime.fromtimestamp(t / 1000, tz=UTC) for t in ts]

    def thin(c: Curve) -> tuple[list[int], list[float]]:
        stride = max(1, len(c.equity) // 3000)
        return c.ts_ms[::stride], c.equity[::stride]

    fig, ax = plt.subplots(figsize=(11, 5))
    lines = (("best of each window", outcome.oos, "best"),
             ("default parameters", outcome.oos_default, "default"),
             ("buy and hold", outcome.oos_buy_hold, "buy_hold"))
    for label, curve, key in lines:
        color = None
        if curve.equity:
            ts, eq = thin(curve)
            (line,) = ax.plot(when(ts), eq, label=label, linewidth=1.0)
            color = line.get_color()
        held = outcome.holdout_curves.get(key)
        if held is not None and held.equity:  # drawn apart: the span between is not tested
            level = (curve.equity[-1] if curve.equity else start_quote) / start_quote
            ts, eq = thin(Curve(held.ts_ms, [e * level for e in held.equity]))
            ax.plot(when(ts), eq, color=color, linewidth=1.0,
                    label=None if color else f"{label} (hold-out)")
    for w in outcome.plan.windows:
        ax.axvline(when([w.test.start_ms])[0], color="grey", alpha=0.25, linewidth=0.8)
    if outcome.plan.holdout is not None:
        h = outcome.plan.holdout
        a, b = when([h.start_ms, h.end_ms])
        ax.axvspan(a, b, color="tab:orange", alpha=0.12, label="hold-out (never searched)")
    ax.set_ylabel("equity (quote)")
    ax.set_title(title or "out-of-sample equity (test spans stitched)")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
