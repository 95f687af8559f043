"""What a trial scores: a number from a backtest's result, the higher the better.

sharpe, sortino (annualised, stats.py), profit (total return %), calmar (annualised return %
over the max drawdown %), or a user's own function: `package.module:function` or
`path/to/file.py:function`, called with the BacktestResult and returning a float. A result
below the minimum trade count, or whose score is undefined (no trade, a flat curve), scores
None: the trial fails, it never counts as good.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from crypto_ai_bot.application.strategies.loader import load_module
from crypto_ai_bot.drivers.backtest.runner import BacktestResult
from crypto_ai_bot.drivers.backtest.stats import YEAR_MS

Score = Callable[[BacktestResult], float | None]


def calmar(result: BacktestResult) -> float | None:
    """Annualised (compounded) return % / max drawdown %; None without a drawdown."""
    s = result.summary
    span_ms = s.last_ts_ms - s.first_ts_ms + s.timeframe_ms
    if s.max_drawdown_pct <= 0 or span_ms <= 0 or s.start_quote <= 0:
        return None
    growth = float(s.final_quote / s.start_quote)
    if growth <= 0:
        return -100.0 / s.max_drawdown_pct
    annual: float = (growth ** (YEAR_MS / span_ms) - 1) * 100.0
    return annual / s.max_drawdown_pct


BUILTIN: dict[str, Score] = {
    "sharpe": lambda r: r.summary.sharpe,
    "sortino": lambda r: r.summary.sortino,
    "profit": lambda r: r.summary.total_return_pct,
    "calmar": calmar,
}


def resolve(name: str) -> Score:
    """A built-in objective or `module:function` / `file.py:function`; ValueError if unusable."""
    if name in BUILTIN:
        return BUILTIN[name]
    where, sep, attr = name.partition(":")
    if not sep or not attr:
        raise ValueError(f"unknown objective {name!r}; one of {', '.join(BUILTIN)}"
                         " or module:function, path/to/file.py:function")
    try:
        module = load_module(where, "objective")
    except ValueError as exc:
        raise ValueError(f"objective {name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"objective {name!r}: {where} has no function {attr!r}")
    return fn  # type: ignore[no-any-return]


def scores(result: BacktestResult, objectives: Sequence[Score],
           min_trades: int) -> tuple[list[float] | None, str]:
    """The objectives' values, or None and why the trial fails."""
    if result.summary.trades < min_trades:
        return None, f"{result.summary.trades} trades < --min-trades {min_trades}"
    values: list[float] = []
    for fn in objectives:
        v = fn(result)
        if v is None or not isinstance(v, int | float) or not math.isfinite(v):
            return None, "objective undefined (no trade or a flat curve)"
        values.append(float(v))
    return values, ""
