"""cab-perf in a subprocess on a database with fills seeded through the repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAY_MS = 86_400_000


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
           "LANG": "C.UTF-8", "COLUMNS": "200", "DB_PATH": str(cwd / "bot.sqlite3")}
    return subprocess.run(
        [sys.executable, "-m", "crypto_ai_bot.cli.performance", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )


def seed(db_path: Path) -> None:
    """Three fills today (BTC buy+sell, ETH buy) and one BTC sell three days ago."""
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database
    from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
    from crypto_ai_bot.domain.model import FillReport, Side
    from crypto_ai_bot.utils.time import day_start_ms, now_ms

    now = now_ms()
    today = max(day_start_ms(now), now - 60_000)
    fills = [
        # (trade_id, symbol, side, price, amount, fee, fee ccy, ts, realised pnl)
        ("t1", "BTC/USDT", Side.BUY, "60000", "0.01", "0.00002", "BTC", today, "0"),
        ("t2", "BTC/USDT", Side.SELL, "61000", "0.00998", "1.21756", "USDT", today + 1, "8.5"),
        ("t3", "ETH/USDT", Side.BUY, "3000", "1", "0.001", "ETH", today + 2, "0"),
        ("t0", "BTC/USDT", Side.SELL, "58000", "0.01", "0.5", "USDT", today - 3 * DAY_MS, "-5"),
    ]
    db = open_database(str(db_path))
    try:
        repos = SqliteRepositories(db)
        for tid, sym, side, price, amount, fee, ccy, ts, pnl in fills:
            fill = FillReport(tid, sym, side, Decimal(price), Decimal(amount), Decimal(fee), ccy,
                              ts, exchange_order_id=tid, client_order_id=f"c-{tid}")
            assert repos.trades.add("paper", fill, Decimal(pnl))
    finally:
        db.close()


def test_json_today_gives_exact_numbers(tmp_path: Path) -> None:
    seed(tmp_path / "bot.sqlite3")
    r = run(tmp_path, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fills"] == 3 and out["buys"] == 2 and out["sells"] == 1 and "trades" not in out
    assert Decimal(out["realized_pnl_quote"]) == Decimal("8.5")
    # 0.00002 BTC x 60000 + 1.21756 USDT + 0.001 ETH x 3000
    assert Decimal(out["fees_quote"]) == Decimal("5.41756")
    assert out["to_ms"] - out["from_ms"] == DAY_MS and out["from_ms"] % DAY_MS == 0
    btc = out["by_symbol"]["BTC/USDT"]
    assert btc["fills"] == 2 and Decimal(btc["fees_quote"]) == Decimal("2.41756")
    # the exact values stay; the rounded ones for people sit beside them
    assert out["display"] == {"realized_pnl_quote": "8.50", "fees_quote": "5.42"}
    assert btc["display"]["fees_quote"] == "2.42" and btc["display"]["sold_quote"] == "608.78"
    assert Decimal(btc["bought_quote"]) == Decimal("600")
    assert Decimal(btc["sold_quote"]) == Decimal("608.78")
    assert Decimal(out["by_symbol"]["ETH/USDT"]["fees_quote"]) == Decimal("3")


def test_days_widens_the_period_and_table_is_readable(tmp_path: Path) -> None:
    seed(tmp_path / "bot.sqlite3")
    r = run(tmp_path, "--days", "5", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fills"] == 4 and out["sells"] == 2
    assert Decimal(out["realized_pnl_quote"]) == Decimal("3.5")
    assert Decimal(out["fees_quote"]) == Decimal("5.91756")
    assert out["to_ms"] - out["from_ms"] == 5 * DAY_MS
    days = out["by_day"]  # every day of the period, those without a fill too
    assert [d["fills"] for d in days] == [0, 1, 0, 0, 3]
    assert [d["display"]["realized_pnl_quote"] for d in days] == [
        "0.00", "-5.00", "0.00", "0.00", "8.50"]

    r = run(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "BTC/USDT" in r.stdout and "ETH/USDT" in r.stdout and "total" in r.stdout
    assert "8.50" in r.stdout and "5.42" in r.stdout and "5.41756" not in r.stdout
    assert " fills " in r.stdout and "By day" not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80  # COLUMNS is 200 here

    r = run(tmp_path, "--days", "5")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "By day" in r.stdout and max(len(line) for line in lines) <= 80
    day_rows = [line for line in lines if line.startswith("│ 2026") or line.startswith("│ 20")]
    assert len(day_rows) == 5 and "-5.00" in r.stdout


def test_empty_period_and_missing_database(tmp_path: Path) -> None:
    r = run(tmp_path, "--json")
    assert r.returncode == 1
    assert "no database" in r.stderr and not (tmp_path / "bot.sqlite3").exists()
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database

    open_database(str(tmp_path / "bot.sqlite3")).close()
    r = run(tmp_path, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fills"] == 0 and Decimal(out["realized_pnl_quote"]) == 0 and out["by_symbol"] == {}
