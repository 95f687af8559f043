"""price.png: each symbol's closes with the entries (green), the exits (by reason) and the
stop line (the level each candle's low was checked against): a row a symbol, the whole span on
the left and its last DETAIL candles on the right, where each trade can be told apart.

matplotlib as in reports/backtest.py: optional, Agg, imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crypto_ai_bot.reports.marks import SymbolMarks

DETAIL = 300
_MAX_POINTS = 4000  # a line point per ~30 candles of a year of 5m: plenty for a picture
_EXIT_COLOURS = {"signal": "tab:red", "hard_stop": "tab:purple", "trailing_stop": "tab:orange",
                 "exchange_stop": "tab:brown", "end_of_data": "tab:gray"}


def write_price_png(path: Path, panels: list[SymbolMarks], title: str = "") -> bool:
    """False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    def when(ms: Any) -> Any:  # numpy's datetimes: matplotlib draws them as they are
        return np.asarray(ms, dtype=np.int64).astype("datetime64[ms]")

    fig, axes = plt.subplots(len(panels), 2, figsize=(15, 3.4 * len(panels) + 0.8),
                             squeeze=False, gridspec_kw={"width_ratios": [3, 2]})
    for row, m in zip(axes, panels, strict=True):
        n = len(m.ts_ms)
        for ax, first, stride, label in (
                (row[0], 0, max(1, n // _MAX_POINTS), "all"),
                (row[1], max(0, n - DETAIL), 1, f"last {min(n, DETAIL)} candles")):
            idx = np.arange(first, n, stride)
            since = int(m.ts_ms[first])
            trades = [t for t in m.trades if t.exit_time_ms >= since]
            ax.plot(when(m.ts_ms[idx]), m.close[idx], linewidth=0.7, color="tab:blue",
                    label="close")
            stop = m.stop[idx]
            if np.isfinite(stop).any():
                ax.plot(when(m.ts_ms[idx]), stop, linewidth=0.8, color="tab:red", alpha=0.6,
                        label="stop line")
            entries = [t for t in trades if t.entry_time_ms >= since]
            if entries:
                ax.scatter(when([t.entry_time_ms for t in entries]),
                           [float(t.entry_price) for t in entries], marker="^", s=14,
                           color="tab:green", label="entry", zorder=3)
            for reason in sorted({str(t.exit_reason) for t in trades}):
                out = [t for t in trades if t.exit_reason == reason]
                ax.scatter(when([t.exit_time_ms for t in out]),
                           [float(t.exit_price) for t in out], marker="v", s=14,
                           color=_EXIT_COLOURS.get(reason, "tab:red"),
                           label=f"exit: {reason}", zorder=3)
            ax.set_title(f"{m.symbol}: {label}", fontsize=10, loc="left")
            ax.grid(alpha=0.3)
            ax.tick_params(axis="x", labelrotation=25, labelsize=8)
        row[0].legend(loc="upper left", fontsize=7, ncol=3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
