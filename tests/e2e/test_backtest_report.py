"""cab-backtest's report as a trader gets it: the files of --out, the page that opens offline,
the old columns of trades.csv kept, and an --out that is never overwritten silently."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
from tests.e2e.test_cab_backtest import HEADER, cab, wave

from crypto_ai_bot.adapters.candle_files import write_csv

CHROMIUM = Path("/usr/bin/chromium")
# what the vendored chart library names without fetching it: the SVG namespace, its licence's
# address in its header comment, and the attribution link it draws in the chart
NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://www.apache.org/licenses/LICENSE-2.0",
               "https://www.tradingview.com/"}


def _run(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    data = tmp_path / "BTC_USDT-5m.csv"
    if not data.exists():
        write_csv(data, wave(1500))
    out = tmp_path / "out"
    r = cab("--data", data, "--out", out, "--param", "fast=5", "--param", "slow=20",
            "--stop-pct", "3", "--trailing-pct", "1", "--stake", "1000", "--no-risk", *extra)
    return r, out


def test_the_summary_tables_and_files(tmp_path: Path) -> None:
    r, out = _run(tmp_path)
    assert r.returncode == 0, r.stderr
    for needle in ("settings", "ema_cross", "{'fast': 5, 'slow': 20}", "CAGR", "Calmar",
                   "expectancy", "best trade", "worst trade", "streaks", "duration",
                   "exposure", "buy and hold, same risk", "per symbol", "per exit reason",
                   "monthly returns %", "weekly returns %"):
        assert needle in r.stdout, needle
    names = {p.name for p in out.iterdir()}
    assert {"trades.csv", "summary.json", "report.html"} <= names
    assert {"equity.png", "price.png"} <= names or "matplotlib is not installed" in r.stderr
    rows = list(csv.DictReader((out / "trades.csv").open()))
    header = (out / "trades.csv").read_text().splitlines()[0].split(",")
    assert header[:8] == HEADER.split(",")
    assert header[8:] == ["entry_time", "exit_time", "fees_quote", "duration_min",
                          "return_pct"]
    row = rows[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["entry_time"])
    assert float(row["duration_min"]) == (int(row["exit_time_ms"])
                                          - int(row["entry_time_ms"])) / 60_000
    cost = float(row["entry_price"]) * float(row["amount"])
    assert abs(float(row["return_pct"]) - float(row["pnl_quote"]) / cost * 100) < 1e-3
    doc = json.loads((out / "summary.json").read_text())
    rep = doc["report"]
    assert sum(g["trades"] for g in rep["per_exit_reason"]) == doc["summary"]["trades"]
    assert rep["settings"]["symbols"] == ["BTC/USDT"] and rep["settings"]["stake"] == "1000"
    assert "same capital at risk" in rep["buy_hold"]["label"]
    assert rep["monthly"] and rep["weekly"]


def test_the_page_fetches_nothing_and_renders(tmp_path: Path) -> None:
    r, out = _run(tmp_path, "--no-progress")
    assert r.returncode == 0, r.stderr
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(https?:)?//|@import|fetch\(|XMLHttpRequest|<link|"""
                         r"""import\(""", page, re.I)
    found = set(re.findall(r"https?://[^\s\"'`)$?]+", page))
    assert found <= {u.rstrip("/") for u in NOT_FETCHED} | NOT_FETCHED, found
    assert "TradingView Lightweight Charts" in page and '"markers"' in page
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: the page's rendering is not checked")
    # the page's own script marks the body when both charts are built; an error stops it
    dom = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
         "--virtual-time-budget=8000", "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert '<body data-rendered="ok">' in dom.stdout, dom.stderr[-2000:]


def test_an_out_folder_in_use_is_refused_unless_forced(tmp_path: Path) -> None:
    r, out = _run(tmp_path, "--no-plot")
    assert r.returncode == 0, r.stderr
    before = (out / "trades.csv").read_bytes()
    (out / "notes.txt").write_text("mine")
    again, _ = _run(tmp_path, "--no-plot", "--stake", "500")
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and "--force" in again.stderr
    assert (out / "trades.csv").read_bytes() == before
    forced, _ = _run(tmp_path, "--no-plot", "--stake", "500", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (out / "trades.csv").read_bytes() != before
    assert (out / "notes.txt").read_text() == "mine"  # only the report's files are replaced
