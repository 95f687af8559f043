"""Every start-up failure of the server, started as the README starts it (`uvicorn
crypto_ai_bot.api.server:app` and `make run`), is one line on stderr and exit code 2, never
uvicorn's exit 3 with a traceback; and no secret is ever in it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import PYTHON, REPO, free_port, subprocess_env

from crypto_ai_bot.adapters.ml.model import file_digest
from crypto_ai_bot.domain.features import FEATURE_NAMES

KEY = "AKIA-THE-KEY-ITSELF-0123456789"


def uvicorn(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "uvicorn", "crypto_ai_bot.api.server:app", "--port", str(free_port())],
        cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True, timeout=60,
    )


def make_run(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`make run` with the suite's venv (taken as installed: nothing is reinstalled)."""
    venv = Path(PYTHON).parent.parent
    return subprocess.run(
        ["make", "-f", str(REPO / "Makefile"), "-o", str(venv / ".installed"),
         f"VENV={venv}", f"PORT={free_port()}", "run"],
        cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True, timeout=60,
    )


def migrated_db(tmp: Path) -> Path:
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database

    path = tmp / "bot.sqlite3"
    open_database(str(path)).close()
    return path


def model_dir(tmp: Path) -> Path:
    d = tmp / "model"
    d.mkdir()
    model = d / "model.txt"
    model.write_text("tree\nend of trees\n")  # whole, as the model check wants it
    size, digest = file_digest(model)
    (d / "meta.json").write_text(json.dumps(
        {"features": list(FEATURE_NAMES), "model": {"backend": "lightgbm", "file": "model.txt",
                                                   "size": size, "sha256": digest}}))
    return d


def _replay(tmp: Path) -> dict[str, str]:
    return {"PRICE_FEED": "replay", "REPLAY_FILE": str(tmp / "no-such.csv")}


def _model(tmp: Path) -> dict[str, str]:
    return {"STRATEGY": "ai", "AI_MODEL_PATH": str(tmp / "no-such-model")}


def _db_dir(tmp: Path) -> dict[str, str]:
    (tmp / "adir").mkdir()
    return {"DB_PATH": str(tmp / "adir")}


def _corrupt(tmp: Path) -> dict[str, str]:
    path = tmp / "bot.sqlite3"
    path.write_bytes(b"this is not a database, only bytes " * 200)
    return {"DB_PATH": str(path)}


def _newer(tmp: Path) -> dict[str, str]:
    path = migrated_db(tmp)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    return {"DB_PATH": str(path)}


def _missing_table(tmp: Path) -> dict[str, str]:
    path = migrated_db(tmp)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE orders")
    return {"DB_PATH": str(path)}


def _read_only(tmp: Path) -> dict[str, str]:
    """Read-only for root too: the immutable attribute (chattr +i) on the file and its folder."""
    path = migrated_db(tmp)
    for p in tmp.iterdir():
        if p.name.startswith("bot.sqlite3-"):
            p.unlink()
    path.chmod(0o444)
    tmp.chmod(0o555)  # no -wal or -shm file can be made either
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path), str(tmp)], capture_output=True)
        if done.returncode:
            pytest.skip(f"root, and chattr +i refused: {done.stderr.decode().strip()}")
    return {"DB_PATH": str(path)}


def _writable_again(tmp: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(tmp), *map(str, tmp.iterdir())], capture_output=True)
    tmp.chmod(0o755)


def _key_file(tmp: Path) -> dict[str, str]:  # the key pasted where its file's path belongs
    return {"MODE": "live", "API_TOKEN": "tok", "API_KEY_FILE": KEY, "API_SECRET": "s"}


def _no_lightgbm(tmp: Path) -> dict[str, str]:
    fake = tmp / "site"
    fake.mkdir()
    (fake / "lightgbm.py").write_text("raise ModuleNotFoundError(\"No module named 'lightgbm'\","
                                      " name='lightgbm')\n")
    src = str(REPO / "src")
    return {"STRATEGY": "ai", "AI_MODEL_PATH": str(model_dir(tmp)),
            "PYTHONPATH": os.pathsep.join([str(fake), src])}


CASES: dict[str, tuple[Callable[[Path], dict[str, str]], str]] = {
    "replay file missing": (_replay, "REPLAY_FILE"),
    "model missing": (_model, "AI_MODEL_PATH"),
    "db path is a directory": (_db_dir, "adir"),
    "db corrupt": (_corrupt, "bot.sqlite3"),
    "db from a newer schema": (_newer, "999"),
    "db missing a table": (_missing_table, "orders"),
    "db read-only": (_read_only, "bot.sqlite3"),
    "API_KEY_FILE missing": (_key_file, "API_KEY_FILE"),
    "STRATEGY=ai without LightGBM": (_no_lightgbm, "lightgbm"),
}


def _one_line_exit_2(out: subprocess.CompletedProcess[str], names: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "Traceback" not in out.stderr + out.stdout, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and names in errors[0], out.stderr[-2000:]
    assert KEY not in out.stderr + out.stdout


@pytest.mark.parametrize("case", list(CASES))
def test_uvicorn_start_up_failure_is_one_line_exit_2(case: str, tmp_path: Path) -> None:
    setup, names = CASES[case]
    work = tmp_path / "work"
    work.mkdir()
    try:
        env = setup(work)
        _one_line_exit_2(uvicorn(work, **env), names)
    finally:
        _writable_again(work)


@pytest.mark.parametrize("case", ["db corrupt", "API_KEY_FILE missing"])
def test_make_run_start_up_failure_is_one_line(case: str, tmp_path: Path) -> None:
    setup, names = CASES[case]
    out = make_run(tmp_path, **setup(tmp_path))
    # make answers 2 for a failed recipe whatever the code; the server's own line is the point
    assert "Error 2" in out.stderr, out.stderr[-2000:]
    lines = [line for line in out.stderr.splitlines() if not line.startswith("make")]
    assert "Traceback" not in out.stderr and len(lines) == 1 and names in lines[0], out.stderr
    assert KEY not in out.stderr + out.stdout


def test_a_second_server_on_a_locked_database_is_one_line_exit_2(tmp_path: Path) -> None:
    """The failure comes in the lifespan (the lock is taken at start): still one line, exit 2."""
    from tests.conftest import running_server

    env = {"DB_PATH": str(tmp_path / "bot.sqlite3"), "INSTANCE_LOCK": "on", "AUTOSTART": "0"}
    first = tmp_path / "first"
    first.mkdir()
    with running_server(first, subprocess_env(**env)):
        out = uvicorn(tmp_path, **env)
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "Traceback" not in out.stderr + out.stdout
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out.stderr[-2000:]
