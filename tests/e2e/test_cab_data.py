"""cab-data as a user runs it: `python -m crypto_ai_bot.cli.data …` in a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data" / "ohlcv"
STEP = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run cab-data with a clean environment (no .env, no inherited settings)."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
            "LANG": "C.UTF-8", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "crypto_ai_bot.cli.data", *args],
        cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def rows(times: list[int]) -> str:
    lines = ["timestamp_ms,open,high,low,close,volume"]
    lines += [f"{t},100.5,101,99.75,100.25,1.5" for t in times]
    return "\n".join(lines) + "\n"


def real(name: str) -> Path:
    p = DATA / name
    if not p.exists():
        pytest.skip(f"real data not present: {p.resolve()}")
    return p


def test_import_real_feather_list_export_and_reimport(tmp_path: Path) -> None:
    feather = real("binance/BTC_USDT-5m.feather")
    r = run(tmp_path, "import", str(feather), "--db", "bot.db")
    assert r.returncode == 0, r.stderr
    assert "no gaps, duplicates or rows out of order" in r.stdout
    assert "as BTC/USDT 5m" in r.stdout

    r = run(tmp_path, "list", "--db", "bot.db")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "BTC/USDT" in x)
    assert "5m" in line and "2024-12-31 00:00:00" in line and "119784" in line

    r = run(tmp_path, "export", "--symbol", "BTC/USDT", "--timeframe", "5m", "--out",
            "jan.csv.gz", "--from", "2025-01-01", "--to", "2025-01-02", "--db", "bot.db")
    assert r.returncode == 0, r.stderr
    text = gzip.decompress((tmp_path / "jan.csv.gz").read_bytes()).decode().splitlines()
    assert len(text) == 1 + 288 and text[1].startswith(str(T0))

    r = run(tmp_path, "import", "jan.csv.gz", "--symbol", "BTC/USDT", "--timeframe", "5m",
            "--db", "copy.db")
    assert r.returncode == 0 and "stored 288 candle(s)" in r.stdout


def test_import_real_csv_gz_infers_the_series_from_the_name(tmp_path: Path) -> None:
    r = run(tmp_path, "import", str(real("BTC_USDT-5m.csv.gz")), "--db", "bot.db")
    assert r.returncode == 0, r.stderr
    assert "stored 119784 candle(s) as BTC/USDT 5m" in r.stdout


def test_duplicates_and_disorder_are_refused_unless_fixed(tmp_path: Path) -> None:
    times = [T0, T0 + STEP, T0 + STEP, T0 + 3 * STEP, T0 + 2 * STEP, T0 + 4 * STEP]
    (tmp_path / "ETH_USDT-5m.csv").write_text(rows(times))
    r = run(tmp_path, "import", "ETH_USDT-5m.csv", "--db", "bot.db")
    assert r.returncode == 2
    assert "refusing to import" in r.stderr and "1 duplicate(s)" in r.stderr
    assert "1 row(s) out of order" in r.stderr and "--fix" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bot.db").exists()  # nothing was stored

    r = run(tmp_path, "import", "ETH_USDT-5m.csv", "--db", "bot.db", "--fix")
    assert r.returncode == 0, r.stderr
    assert "--fix: dropped 1 row(s), sorted 1 out-of-order row(s)" in r.stdout
    assert "stored 5 candle(s) as ETH/USDT 5m" in r.stdout


def test_gaps_are_reported_and_stored(tmp_path: Path) -> None:
    times = [T0 + i * STEP for i in range(5)] + [T0 + i * STEP for i in range(9, 12)]
    (tmp_path / "gappy.csv").write_text(rows([*times, T0 + 20 * STEP]))
    r = run(tmp_path, "import", "gappy.csv", "--symbol", "sol/usdt", "--timeframe", "5m",
            "--db", "bot.db")
    assert r.returncode == 0, r.stderr
    assert "2 gap(s); largest 8 missing candle(s) between 2025-01-01 00:55:00" in r.stdout
    r = run(tmp_path, "list", "--db", "bot.db")
    line = next(x for x in r.stdout.splitlines() if "SOL/USDT" in x)
    assert line.split("│")[-3].strip() == "9" and line.split("│")[-2].strip() == "2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "missing.csv", "--db", "b.db"], "cannot tell the symbol"),
        (["import", "BTC_USDT-5m.csv", "--db", "b.db"], "BTC_USDT-5m.csv: no such file"),
        (["import", "corrupt.csv", "--symbol", "BTC/USDT", "--timeframe", "5m", "--db", "b.db"],
         "corrupt.csv:4: not a number"),
        (["import", "corrupt.csv", "--symbol", "BTC/USDT", "--timeframe", "7m", "--db", "b.db"],
         "unknown timeframe '7m'"),
        (["download", "--symbol", "BTC/USDT", "--timeframe", "5m", "--since", "yesterday"],
         "--since: not a date: 'yesterday'"),
        (["download", "--symbol", "BTC/USDT", "--timeframe", "9m", "--since", "2025-01-01"],
         "unknown timeframe '9m'"),
        (["download", "--symbol", "BTCUSDT", "--timeframe", "5m", "--since", "2025-01-01"],
         "use BASE/QUOTE"),
        (["list", "--db", "nothing-here.db"], "no database at nothing-here.db"),
        (["export", "--symbol", "BTC/USDT", "--timeframe", "5m", "--out", "x.json",
          "--db", "b.db"], "use a .csv or .csv.gz"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "corrupt.csv").write_text(rows([T0, T0 + STEP]) + "1,2,three,4,5,6\n")
    r = run(tmp_path, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cab-data: ") and message in lines[0]


@pytest.mark.parametrize(("row", "message"), [
    ("-5,-5,-5,-5,1", "bad.csv:4: price not positive: open -5"),
    ("0,0,0,0,1", "bad.csv:4: price not positive: open 0"),
    ("1e400,1e400,1e400,1e400,1", "bad.csv:4: non-finite price: open 1E+400"),
    ("10,9,11,10,1", "bad.csv:4: refusing to import: high 9, low 11"),
])
def test_import_refuses_rows_that_are_not_candles(tmp_path: Path, row: str,
                                                  message: str) -> None:
    (tmp_path / "bad.csv").write_text(rows([T0, T0 + STEP]) + f"{T0 + 2 * STEP},{row}\n")
    r = run(tmp_path, "import", "bad.csv", "--symbol", "BTC/USDT", "--timeframe", "5m",
            "--db", "b.db")
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_config_errors_exit_2_with_the_message(tmp_path: Path) -> None:
    r = run(tmp_path, "list", MODE="sideways")
    assert r.returncode == 2
    assert r.stderr.startswith("cab-data: MODE:")
    r = run(tmp_path, "download", "--symbol", "BTC/USDT", "--timeframe", "5m", "--since",
            "2025-01-01", "--db", "b.db", EXCHANGE="no-such-exchange")
    assert r.returncode == 2
    assert "EXCHANGE: 'no-such-exchange' is not an exchange ccxt knows" in r.stderr


def test_list_on_an_empty_database(tmp_path: Path) -> None:
    (tmp_path / "ETH_USDT-1h.csv").write_text(rows([T0]))
    assert run(tmp_path, "import", "ETH_USDT-1h.csv", "--db", "a.db").returncode == 0
    r = run(tmp_path, "list", "--db", "a.db")
    assert "ETH/USDT" in r.stdout and "1h" in r.stdout
    r = run(tmp_path, "export", "--symbol", "BTC/USDT", "--timeframe", "1h", "--out", "o.csv",
            "--db", "a.db")
    assert r.returncode == 2 and "no stored candles for BTC/USDT 1h" in r.stderr
