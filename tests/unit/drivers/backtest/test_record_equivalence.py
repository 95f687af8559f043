"""A backtest kept in memory and one recorded in a SQLite file trade exactly alike."""

from __future__ import annotations

import math
import sqlite3
from decimal import Decimal
from pathlib import Path

from crypto_ai_bot.application.risk import RiskConfig
from crypto_ai_bot.bootstrap import run_backtest
from crypto_ai_bot.domain.model import Candle

T0 = 1_767_225_600_000
STEP = 300_000


def market(n: int, phase: float) -> list[Candle]:
    """Swings with drops: crosses both ways, hard and trailing stops."""
    out, prev = [], 100.0
    for i in range(n):
        close = 100 + 6 * math.sin(i / 9 + phase) + 3 * math.sin(i / 2.3) - (9 if i % 97 < 3 else 0)
        hi, lo = max(prev, close) * 1.004, min(prev, close) * 0.996
        d = [Decimal(f"{x:.3f}") for x in (prev, hi, lo, close)]
        out.append(Candle(T0 + i * STEP, d[0], d[1], d[2], d[3], Decimal(3)))
        prev = close
    return out


def test_memory_and_recorded_runs_agree(tmp_path: Path) -> None:
    series = {"BTC/USDT": market(1500, 0.0), "ETH/USDT": market(1500, 1.3)}
    kw = {"params": {"fast": 3, "slow": 8}, "stop_pct": "1.5", "trailing_pct": "2",
          "stake": 3000, "start_quote": 5000, "risk": RiskConfig(cooldown_sec=600)}
    db = tmp_path / "run.sqlite3"
    memory = run_backtest(series, **kw)  # type: ignore[arg-type]
    recorded = run_backtest(series, record=str(db), **kw)  # type: ignore[arg-type]
    reasons = {t.exit_reason for t in memory.trades}
    assert len(memory.trades) > 50 and {"signal", "hard_stop", "trailing_stop"} <= reasons
    assert recorded.trades == memory.trades
    assert recorded.equity == memory.equity
    assert recorded.summary.final_quote == memory.summary.final_quote
    with sqlite3.connect(db) as conn:  # the file holds the run, in the bot's own schema
        fills, pnl = conn.execute("SELECT COUNT(*), GROUP_CONCAT(realized_pnl, '|')"
                                  " FROM trades").fetchone()
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM orders GROUP BY status"))
    assert fills == 2 * len(memory.trades)
    assert sum(map(Decimal, pnl.split("|"))) == sum(t.pnl_quote for t in memory.trades)
    assert sum(statuses.values()) == fills
