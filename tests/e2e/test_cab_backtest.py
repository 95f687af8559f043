"""cab-backtest as a user runs it: a subprocess over CSV, feather and database candles."""

from __future__ import annotations

import csv
import json
import math
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import PYTHON, need_shared_data, subprocess_env

from crypto_ai_bot.adapters.candle_files import write_csv
from crypto_ai_bot.domain.model import Candle

HEADER = "symbol,entry_time_ms,exit_time_ms,entry_price,exit_price,amount,pnl_quote,exit_reason"
T0 = 1_767_225_600_000
STEP = 300_000


def wave(n: int = 600) -> list[Candle]:
    """A swinging market with a sharp drop: crosses both ways and a hard stop."""
    out = []
    prev = 100.0
    for i in range(n):
        close = 100 + 8 * math.sin(i / 15) - (12 if 300 <= i < 310 else 0)
        hi, lo = max(prev, close) * 1.001, min(prev, close) * 0.999
        d = [Decimal(f"{x:.2f}") for x in (prev, hi, lo, close)]
        out.append(Candle(T0 + i * STEP, d[0], d[1], d[2], d[3], Decimal(5)))
        prev = close
    return out


def cab(*args: str | Path, cwd: Path | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "crypto_ai_bot.cli.backtest", "--no-progress", *map(str, args)],
        capture_output=True, text=True, env=subprocess_env(**env), timeout=120, check=False,
        cwd=cwd,
    )


def test_csv_run_writes_trades_summary_and_picture(tmp_path: Path) -> None:
    data = tmp_path / "BTC_USDT-5m.csv"
    write_csv(data, wave())
    out = tmp_path / "out"
    r = cab("--data", data, "--symbol", "BTC/USDT", "--out", out, "--param", "fast=5",
            "--param", "slow=20", "--stop-pct", "3", "--trailing-pct", "0")
    assert r.returncode == 0, r.stderr
    assert "total return" in r.stdout
    lines = (out / "trades.csv").read_text().splitlines()
    assert lines[0].startswith(HEADER + ",") and len(lines) > 3  # new columns come after
    rows = list(csv.DictReader(lines))
    assert {row["exit_reason"] for row in rows} >= {"signal"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["trades"] == len(rows)
    assert summary["settings"]["params"] == {"fast": 5, "slow": 20}
    png = out / "equity.png"
    assert png.exists() or "matplotlib is not installed" in r.stderr


def test_with_no_flags_it_simulates_the_configured_bot(tmp_path: Path) -> None:
    """The stake, fee, stops, start balance, strategy and risk limits come from the settings
    (.env in the folder where it runs, then the environment), and the run says what it used."""
    data = tmp_path / "BTC_USDT-5m.csv"
    write_csv(data, wave())
    (tmp_path / ".env").write_text("FIXED_AMOUNT=250\nPAPER_FEE_PCT=0.3\nEMA_FAST=5\n")
    out = tmp_path / "out"
    r = cab("--data", data, "--out", out, "--no-plot", cwd=tmp_path, EXITS_TRAILING_PCT="0",
            EMA_SLOW="20", RISK_COOLDOWN_SEC="7")
    assert r.returncode == 0, r.stderr
    assert ("simulating: ema_cross {'fast': 5, 'slow': 20} on 5m, stake 250, fee 0.3 %,"
            " hard stop 2 %, trailing 0 %, start 10000; risk: cooldown 7 s") in r.stdout
    settings = json.loads((out / "summary.json").read_text())["settings"]
    assert settings == {
        "strategy": "ema_cross", "params": {"fast": 5, "slow": 20}, "timeframe_ms": STEP,
        "stop_pct": "2", "trailing_pct": "0", "fee_pct": "0.3", "stake": "250",
        "start_quote": "10000", "close_at_end": True,
    }
    # every flag given: the settings are not read at all (a broken .env is never opened)
    (tmp_path / ".env").write_text("FIXED_AMOUNT=lots\n")
    r = cab("--data", data, "--no-plot", "--strategy", "ema_cross", "--stop-pct", "2",
            "--trailing-pct", "0", "--fee-pct", "0.1", "--stake", "1000", "--start-quote",
            "10000", "--no-risk", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "stake 1000, fee 0.1 %" in r.stdout and "cooldown 0 s" in r.stdout
    r = cab("--data", data, "--no-plot", cwd=tmp_path)
    assert r.returncode == 2 and "FIXED_AMOUNT" in r.stderr


def test_candles_from_the_database(tmp_path: Path) -> None:
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database
    from crypto_ai_bot.adapters.storage.sqlite.market_data import SqliteMarketData

    db_path = tmp_path / "bot.sqlite3"
    db = open_database(str(db_path))
    SqliteMarketData(db).upsert("ETH/USDT", "5m", wave(400))
    db.close()
    r = cab("--symbol", "ETH/USDT", "--timeframe", "5m", "--db", db_path, "--param", "fast=5",
            "--param", "slow=20", "--from", str(T0 + 50 * STEP))
    assert r.returncode == 0, r.stderr
    assert "trades" in r.stdout


def test_real_btc_slice(tmp_path: Path) -> None:
    feather = need_shared_data()
    out = tmp_path / "out"
    r = cab("--data", feather, "--from", "2025-03-01", "--to", "2025-03-15", "--out", out,
            "--no-plot")
    assert r.returncode == 0, r.stderr
    assert (out / "trades.csv").read_text().splitlines()[0].startswith(HEADER + ",")
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert summary["per_symbol"]["BTC/USDT"]["candles"] == 14 * 288
    assert summary["trades"] > 0


def test_a_feather_file_is_converted_once_into_the_candle_cache(tmp_path: Path) -> None:
    feather = need_shared_data()
    home = tmp_path / "home"
    runs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        r = cab("--data", feather, "--from", "2025-03-01", "--to", "2025-03-08", "--out", out,
                "--no-plot", HOME=str(home))
        assert r.returncode == 0, r.stderr
        runs.append((out / "trades.csv").read_bytes())
    assert runs[0] == runs[1]
    entries = (home / ".cache" / "crypto-ai-bot" / "candles").iterdir()
    assert [p.name.split(".")[0] for p in entries] == ["BTC_USDT-5m"]
    off = tmp_path / "off"
    r = cab("--data", feather, "--from", "2025-03-01", "--to", "2025-03-08", "--out", off,
            "--no-plot", "--candle-cache", "off", HOME=str(tmp_path / "none"))
    assert r.returncode == 0, r.stderr
    assert (off / "trades.csv").read_bytes() == runs[0]
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--data", "missing.csv", "--symbol", "BTC/USDT"], "no such file"),
        (["--symbol", "BTC/USDT", "--data", "{good}", "--param", "fast"], "KEY=VALUE"),
        (["--symbol", "BTC/USDT", "--data", "{good}", "--strategy", "nope"], "unknown strategy"),
        (["--symbol", "BTC/USDT", "--data", "{dup}"], "duplicate"),
        (["--symbol", "BTC/USDT", "--data", "{good}", "--fee-pct", "x"], "not a number"),
        (["--symbol", "BTC/USDT", "--data", "{good}", "--timeframe", "7m"], "timeframe"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    good, dup = tmp_path / "good.csv", tmp_path / "dup.csv"
    candles = wave(100)
    write_csv(good, candles)
    write_csv(dup, [*candles[:50], candles[49], *candles[50:]])
    r = cab(*(a.format(good=good, dup=dup) for a in args))
    assert r.returncode == 2
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_without_matplotlib_the_advice_names_the_plot_extra(tmp_path: Path) -> None:
    data = tmp_path / "w.csv"
    write_csv(data, wave(200))
    # matplotlib made unimportable in the child, as on an install without the plot extra
    code = ("import sys, runpy; sys.modules['matplotlib'] = None; "
            "sys.argv[0] = 'cab-backtest'; "
            "runpy.run_module('crypto_ai_bot.cli.backtest', run_name='__main__')")
    r = subprocess.run(
        [PYTHON, "-c", code, "--no-progress", "--symbol", "BTC/USDT", "--data", str(data),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert "pip install 'crypto-ai-bot[plot]'" in r.stderr, r.stderr
    assert not (tmp_path / "o" / "equity.png").exists()
