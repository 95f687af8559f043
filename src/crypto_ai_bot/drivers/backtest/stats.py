"""Summary statistics of a backtest: returns, risk ratios, trade counts, buy-and-hold.

Money (PnL, fees, balances) stays Decimal. Ratios over the equity curve (drawdown, Sharpe,
Sortino) are statistics and use floats.

Sharpe and Sortino are computed on the per-candle simple returns of the equity curve (marked
to market at each close), with a risk-free rate of 0, and annualised by sqrt(periods per year)
where periods per year = 365 days / candle interval (crypto trades around the clock: 105,120
five-minute candles). Sortino's downside deviation is sqrt(mean(min(r, 0)^2)) over all periods.
Max drawdown is the largest fall from a running peak of that curve, in percent: closes only,
so a dip inside a candle that recovers by its close does not count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from crypto_ai_bot.domain.model import ZERO

YEAR_MS = 365 * 86_400_000
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class SymbolSummary:
    symbol: str
    candles: int
    first_ts_ms: int
    last_ts_ms: int
    trades: int
    win_rate_pct: float
    pnl_quote: Decimal
    fees_quote: Decimal
    exposure_pct: float
    buy_hold_return_pct: float


@dataclass(frozen=True, slots=True)
class Summary:
    start_quote: Decimal
    final_quote: Decimal
    pnl_quote: Decimal
    total_return_pct: float
    trades: int
    wins: int
    losses: int
    win_rate_pct: float
    profit_factor: float | None  # None when no trade lost (gross loss 0)
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    exposure_pct: float  # share of timeline steps with any position open at the close
    fees_quote: Decimal
    buy_hold_return_pct: float  # equal split of the start balance across the symbols
    timeframe_ms: int
    periods_per_year: float
    first_ts_ms: int
    last_ts_ms: int
    per_symbol: dict[str, SymbolSummary] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as exact strings, floats rounded for reading."""
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


# The curves hold a point per candle (120,000 for a year of 5m candles): numpy does the
# arithmetic (its sums are pairwise, within a few units in the last place of exact ones).
Floats = Sequence[float] | npt.NDArray[np.float64]


def returns(equity: Floats) -> npt.NDArray[np.float64]:
    """Simple returns between consecutive points (a point of 0 gives a return of 0)."""
    e = np.asarray(equity, dtype=np.float64)
    before, after = e[:-1], e[1:]
    return np.divide(after, before, out=np.ones_like(after), where=before != 0) - 1.0


def _drawdowns(equity: Floats) -> npt.NDArray[np.float64]:
    """Each point's fall below the running peak, a fraction of the peak (<= 0; 0 where the
    peak is not positive)."""
    e = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(e) if len(e) else e
    return np.divide(e - peak, peak, out=np.zeros_like(e), where=peak > 0)


def max_drawdown_pct(equity: Floats) -> float:
    """Largest peak-to-trough fall, in percent of the peak (0 for a curve that never falls)."""
    falls = _drawdowns(equity)
    return max(0.0, -float(falls.min())) * 100.0 if len(falls) else 0.0


def drawdown_series(equity: Floats) -> list[float]:
    """Drawdown in percent at each point, for the picture."""
    out: list[float] = (_drawdowns(equity) * 100.0).tolist()
    return out


def sharpe(rets: Floats, periods_per_year: float) -> float | None:
    """Annualised mean/std of per-period returns (sample std); None when undefined."""
    r = np.asarray(rets, dtype=np.float64)
    n = len(r)
    if n < 2:
        return None
    mean = float(r.sum()) / n
    d = r - mean
    var = float((d * d).sum()) / (n - 1)
    if var <= 0:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods_per_year)


def sortino(rets: Floats, periods_per_year: float) -> float | None:
    """Annualised mean / downside deviation (target 0); None without a losing period."""
    r = np.asarray(rets, dtype=np.float64)
    n = len(r)
    if n < 2:
        return None
    losses = r[r < 0]
    downside = float((losses * losses).sum()) / n
    if downside <= 0:
        return None
    return float(r.sum()) / n / math.sqrt(downside) * math.sqrt(periods_per_year)


def profit_factor(pnls: Sequence[Decimal]) -> float | None:
    """Gross profit / gross loss; None when nothing was lost."""
    gain = sum((p for p in pnls if p > 0), ZERO)
    loss = -sum((p for p in pnls if p < 0), ZERO)
    return float(gain / loss) if loss > 0 else None


def buy_hold_pct(first_open: Decimal, last_close: Decimal, fee_pct: Decimal) -> float:
    """Buying at the first open and selling at the last close, paying the fee on both fills."""
    if first_open <= 0:
        return 0.0
    keep = 1 - fee_pct / _HUNDRED
    return float((last_close / first_open * keep * keep - 1) * _HUNDRED)


def win_rate(pnls: Sequence[Decimal]) -> float:
    return 100.0 * sum(1 for p in pnls if p > 0) / len(pnls) if pnls else 0.0


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0
