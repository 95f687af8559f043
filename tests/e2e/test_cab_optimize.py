"""cab-optimize as a user runs it: real subprocesses over a CSV of synthetic candles."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PYTHON, subprocess_env
from tests.synthetic_market import market

from crypto_ai_bot.adapters.candle_files import write_csv

optuna = pytest.importorskip("optuna")

SMALL = ("--space", "fast=2:30", "--space", "slow=5:120", "--param", "trailing_pct=0",
         "--min-trades", "3", "--train-days", "4", "--test-days", "2")


def cab(tool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", f"crypto_ai_bot.cli.{tool}", "--no-progress",
                           *map(str, args)], capture_output=True, text=True,
                          env=subprocess_env(), timeout=300, check=False)


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen([PYTHON, "-m", "crypto_ai_bot.cli.optimize", "--no-progress",
                             *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env())


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("candles") / "BTC_USDT-5m.csv"
    write_csv(path, market(days=14))
    return path


def trials_of(storage: Path, study: str) -> list[Any]:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    s = optuna.load_study(study_name=study,
                          storage=JournalStorage(JournalFileBackend(str(storage))))
    return [t for t in s.get_trials() if t.state.is_finished()]


def test_walk_forward_run_reports_windows_holdout_and_pictures_that_backtest_reads(
        data: Path, tmp_path: Path) -> None:
    out = tmp_path / "opt"
    r = cab("optimize", "--data", data, *SMALL, "--holdout-days", "2", "--trials", "10",
            "--seed", "3", "--jobs", "2", "--out", out)
    assert r.returncode == 0, r.stderr
    for text in ("walk-forward", "out of sample, stitched", "top trials of the final search",
                 "parameter importance", "best parameters:", "hold-out", "trials/s"):
        assert text in r.stdout, text
    doc = json.loads((out / "optimize.json").read_text())
    assert len(doc["windows"]) == 4  # 14 days - 2 held out - 4 to train: four tests of 2
    for w in doc["windows"]:
        assert w["trials"] == 10
        assert w["train"]["result"]["trades"] >= 3 and w["test"]["result"] is not None
        assert w["train"]["to_ms"] == w["test"]["from_ms"]
        assert w["test"]["default"]["trades"] > 0
    holdout = doc["holdout"]
    assert holdout["from_ms"] == doc["windows"][-1]["test"]["to_ms"]
    assert holdout["best"]["from_ms"] >= holdout["from_ms"]
    assert set(doc["best_params"]) == {"fast", "slow", "stop_pct"}
    assert set(doc["final"]["importance"]) == {"fast", "slow", "stop_pct"}
    assert doc["final"]["top"][0]["params"] == doc["best_params"]
    assert doc["out_of_sample"]["buy_hold_return_pct"] is not None
    # every trial, in either worker, got candles of its own train span only
    spans = {f"cab-ema_cross-BTCUSDT:window-{w['index']}": w["train"] for w in doc["windows"]}
    spans["cab-ema_cross-BTCUSDT:final"] = doc["final"]["train"]
    workers = set()
    for study, span in spans.items():
        done = trials_of(out / "optuna.journal", study)
        assert len(done) == 10
        for t in done:
            first, last = t.user_attrs["candles"]
            assert span["from_ms"] <= first <= last < span["to_ms"] <= holdout["from_ms"]
            workers.add(t.user_attrs["worker"])
    assert len(workers) == 2
    for png in ("history.png", "oos_equity.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # cab-backtest takes the parameters back
    bt = tmp_path / "bt"
    r = cab("backtest", "--data", data, "--symbol", "BTC/USDT", "--params-from",
            out / "optimize.json", "--no-risk", "--fee-pct", "0.1", "--stake", "1000",
            "--start-quote", "10000", "--out", bt, "--no-plot")
    assert r.returncode == 0, r.stderr
    settings = json.loads((bt / "summary.json").read_text())["settings"]
    best = doc["best_params"]
    assert settings["params"] == {"fast": best["fast"], "slow": best["slow"]}
    assert float(settings["stop_pct"]) == best["stop_pct"]
    assert float(settings["trailing_pct"]) == 0


def test_two_jobs_are_two_worker_processes_on_one_study(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "opt"
    r = cab("optimize", "--data", data, *SMALL[:-4], "--train-days", "10", "--test-days", "0",
            "--trials", "12", "--jobs", "2", "--out", out)
    assert r.returncode == 0, r.stderr
    done = trials_of(out / "optuna.journal", "cab-ema_cross-BTCUSDT:final")
    assert len(done) == 12
    assert len({t.user_attrs["worker"] for t in done}) == 2


def test_two_commands_join_one_study_through_a_journal_file(data: Path, tmp_path: Path) -> None:
    journal = tmp_path / "shared.journal"
    common = ("--data", data, *SMALL[:-4], "--train-days", "10", "--test-days", "0",
              "--trials", "8", "--storage", journal, "--study", "team")
    workers = [start(*common), start(*common)]
    for p in workers:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    done = trials_of(journal, "team:final")
    assert len(done) == 16  # each command adds its own --trials
    assert len({t.user_attrs["worker"] for t in done}) == 2
    # a third with other settings may not mix its trials into the study
    out = tmp_path / "refused"
    r = cab("optimize", *common[:-4], "--objective", "profit", "--trials", "1", "--storage",
            journal, "--study", "team", "--out", out)
    assert r.returncode == 2 and "was made with other settings" in r.stderr
    assert not out.exists()  # nothing left behind that the next try would be refused for
    assert len(trials_of(journal, "team:final")) == 16


def test_trials_under_the_minimum_trade_count_fail_and_the_command_says_so(
        data: Path, tmp_path: Path) -> None:
    out = tmp_path / "opt"
    r = cab("optimize", "--data", data, *SMALL[:6], "--min-trades", "100000", "--train-days",
            "10", "--test-days", "0", "--trials", "4", "--out", out)
    assert r.returncode == 1
    assert "every trial of the final search failed" in r.stderr
    assert "--min-trades 100000" in r.stderr
    doc = json.loads((out / "optimize.json").read_text())
    assert doc["best_params"] is None and doc["final"]["failed"] == 4


def test_a_user_objective_from_a_file(data: Path, tmp_path: Path) -> None:
    own = tmp_path / "mine.py"
    own.write_text("def calm(result):\n    return -result.summary.max_drawdown_pct\n")
    out = tmp_path / "opt"
    r = cab("optimize", "--data", data, *SMALL[:-4], "--train-days", "10", "--test-days", "0",
            "--trials", "5", "--objective", f"{own}:calm", "--sampler", "random", "--out", out)
    assert r.returncode == 0, r.stderr
    top = json.loads((out / "optimize.json").read_text())["final"]["top"]
    assert top and all(row["values"][0] == pytest.approx(-row["result"]["max_drawdown_pct"],
                                                    abs=1e-6) for row in top)


def test_bad_input_is_one_line_and_exit_2(data: Path, tmp_path: Path) -> None:
    empty = tmp_path / "BTC_USDT-5m.csv"
    empty.write_text("timestamp_ms,open,high,low,close,volume\n")
    existing = tmp_path / "there"
    existing.mkdir()
    cases = [
        (("--data", data, "--strategy", "nope"), "unknown strategy 'nope'"),
        (("--data", empty), "no candles"),
        (("--data", data, "--train-days", "30"), "the windows do not fit the data: 14.0 days"),
        (("--data", data, "--out", existing), "it exists; name a new directory"),
        (("--data", data, "--space", "fast=5"), "expected NAME=LOW:HIGH"),
        (("--data", data, "--objective", "speed"), "unknown objective 'speed'"),
    ]
    for args, message in cases:
        r = cab("optimize", *args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, r.stderr)


def test_multi_objective_on_a_sqlite_study(data: Path, tmp_path: Path) -> None:
    db = tmp_path / "studies.sqlite3"
    out = tmp_path / "opt"
    r = cab("optimize", "--data", data, *SMALL[:-4], "--train-days", "10", "--test-days", "0",
            "--trials", "8", "--jobs", "2", "--objective", "sharpe,profit",
            "--storage", f"sqlite:///{db}", "--out", out)
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "optimize.json").read_text())
    assert len(doc["final"]["best_values"]) == 2
    for row in doc["final"]["top"]:
        assert row["values"][1] == pytest.approx(row["result"]["total_return_pct"], abs=1e-6)
    study = optuna.load_study(study_name="cab-ema_cross-BTCUSDT:final", storage=f"sqlite:///{db}")
    done = [t for t in study.get_trials() if t.state.is_finished()]
    assert len(done) == 8 and len({t.user_attrs["worker"] for t in done}) == 2


def test_without_optuna_the_command_names_the_extra(data: Path, tmp_path: Path) -> None:
    hidden = tmp_path / "no_optuna" / "optuna"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('No module named optuna')\n")
    env = subprocess_env()
    env["PYTHONPATH"] = f"{hidden.parent}:{env['PYTHONPATH']}"
    r = subprocess.run([PYTHON, "-m", "crypto_ai_bot.cli.optimize", "--data", str(data)],
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 2
    assert r.stderr.strip() == ("cab-optimize: optuna is not installed:"
                                " pip install 'crypto-ai-bot[optimize]'")


def test_a_storage_that_cannot_be_opened_is_one_line_without_its_password(
        data: Path, tmp_path: Path) -> None:
    for storage in ("postgresql://trader:s3cret-pw@127.0.0.1:1/studies",
                    str(tmp_path / "no" / "such" / "dir" / "x.journal")):
        r = cab("optimize", "--data", data, *SMALL[:-4], "--train-days", "10", "--test-days",
                "0", "--trials", "1", "--storage", storage)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot open it" in lines[0], r.stderr
        assert "s3cret-pw" not in r.stderr + r.stdout


def test_backtest_params_from_a_file_it_cannot_use_is_one_line_and_exit_2(
        data: Path, tmp_path: Path) -> None:
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps({"best_params": None, "settings": {"strategy": "ema_cross"}}))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    for path, message in ((tmp_path / "missing.json", "No such file"),
                          (failed, "no best_params"), (garbage, "not JSON")):
        r = cab("backtest", "--data", data, "--symbol", "BTC/USDT", "--params-from", path)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], r.stderr
