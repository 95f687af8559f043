"""The command line: a subprocess that serves Gate's API, argument errors, files."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cab_exchange_sim.cli import main
from cab_exchange_sim.testing import SRC_DIR, SimServer, make_ccxt_gate, start_sim_process


def test_subprocess_serves_currency_pairs() -> None:
    with start_sim_process(None, "--symbols", "BTC/USDT,SOL/USDT",
                           "--balances", "USDT=500,BTC=0.1") as proc:
        pairs = httpx.get(f"{proc.api_url}/spot/currency_pairs", timeout=5).json()
        assert [p["id"] for p in pairs] == ["BTC_USDT", "SOL_USDT"]
        balances = proc.state()["balances"]
        assert balances["USDT"]["available"] == "500" and balances["BTC"]["available"] == "0.1"
        assert proc.set_price("SOL/USDT", "151.5") == "151.5"
    assert f"listening on http://127.0.0.1:{proc.port}" in proc.output()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "abc"], "--port"),
        (["--balances", "USDT"], "--balances"),
        (["--balances", "USDT=-1"], "--balances"),
        (["--symbols", "BTCUSDT"], "--symbols"),
        (["--price-path", "/nonexistent/prices.csv"], "--price-path"),
        (["--tick-ms", "-5"], "--tick-ms"),
        (["--markets", "999"], "--markets"),
        (["--bogus"], "--bogus"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], named: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code: object
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], lines


@pytest.mark.parametrize("args", [["--balances", "USDT=x"], ["--price-path", "/no/such.csv"]])
def test_bad_arguments_in_a_subprocess(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cab_exchange_sim", *args],
        capture_output=True, text=True, timeout=30,
        env={"PYTHONPATH": str(SRC_DIR), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and args[0] in result.stderr


def test_price_path_file_drives_the_price(tmp_path: Path) -> None:
    csv_gz = tmp_path / "btc.csv.gz"
    rows = ["timestamp_ms,open,high,low,close,volume",
            "1700000000000,50000,50500,49800,50200,12",
            "1700000060000,50200,50300,49000,49100,30"]
    csv_gz.write_bytes(gzip.compress("\n".join(rows).encode()))
    with SimServer(price_path=str(csv_gz)) as sim:
        assert sim.state()["prices"]["BTC_USDT"] == "50000"
        steps = [sim.advance(1)["BTC_USDT"] for _ in range(9)]
        assert steps == ["49800", "50500", "50200", "50200", "50300", "49000", "49100",
                         "49100", "49100"]
        assert sim.state()["prices"]["ETH_USDT"] != "3000"  # synthetic walk for the others


@pytest.mark.asyncio
async def test_state_file_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim-state.json"
    with start_sim_process(None, "--state-file", str(state)) as first:
        ex = make_ccxt_gate(first.api_url)
        try:
            order = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50000,
                                          {"clientOrderId": "t-keep"})
        finally:
            await ex.close()
    assert state.is_file()
    with start_sim_process(None, "--state-file", str(state)) as second:
        ex = make_ccxt_gate(second.api_url)
        try:
            again = await ex.fetch_order("t-keep", "BTC/USDT")
            assert again["id"] == order["id"] and again["status"] == "open"
            assert (await ex.fetch_balance())["USDT"]["used"] == 50
        finally:
            await ex.close()
