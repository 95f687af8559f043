"""cab-maintenance as a user runs it, in a subprocess against real SQLite files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAY_S = 86_400


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """cab-maintenance with a clean environment: no .env, DB_PATH in the tmp dir."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
            "LANG": "C.UTF-8", "COLUMNS": "200", "DB_PATH": str(cwd / "data" / "bot.sqlite3")}
    return subprocess.run(
        [sys.executable, "-m", "crypto_ai_bot.cli.maintenance", *args],
        cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )


def seed_db(path: Path) -> None:
    """A migrated database holding one position, written through the repository."""
    from crypto_ai_bot.adapters.storage.sqlite.database import open_database
    from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
    from crypto_ai_bot.domain.model import Position

    db = open_database(str(path))
    try:
        SqliteRepositories(db).positions.save(
            Position("BTC/USDT", base_amount=Decimal("0.25"), cost_basis=Decimal("15000"))
        )
    finally:
        db.close()


def test_backup_twice_gives_two_valid_copies_and_list_shows_them(tmp_path: Path) -> None:
    seed_db(tmp_path / "data" / "bot.sqlite3")
    first = run(tmp_path, "backup")
    second = run(tmp_path, "backup")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    files = sorted((tmp_path / "backups").glob("db-*.sqlite3"))
    assert len(files) == 2, files  # unique names even within the same second
    assert not list((tmp_path / "backups").glob("*.partial"))
    for f in files:
        assert f.name[3:18].replace("-", "").isdigit()  # db-YYYYmmdd-HHMMSS
        with sqlite3.connect(f) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            amount = conn.execute("SELECT base_amount FROM positions").fetchone()[0]
            assert Decimal(amount) == Decimal("0.25")
    listing = run(tmp_path, "list")
    assert listing.returncode == 0, listing.stderr
    for f in files:
        assert f.name in listing.stdout
    assert "KiB" in listing.stdout


def test_backup_dir_and_db_flag(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.sqlite3"
    seed_db(other)
    r = run(tmp_path, "--db", str(other), "backup", BACKUP_DIR=str(tmp_path / "bk"))
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "bk").glob("db-*.sqlite3"))) == 1
    assert not (tmp_path / "data").exists()  # DB_PATH was not touched


def test_rotate_deletes_only_old_backups(tmp_path: Path) -> None:
    bk = tmp_path / "backups"
    bk.mkdir()
    now = time.time()
    ages = {"db-20200101-000000.sqlite3": 40, "db-20200102-000000.sqlite3": 31,
            "db-20200103-000000.sqlite3": 29, "db-20200104-000000.sqlite3": 0}
    for name, days in ages.items():
        (bk / name).write_bytes(b"x")
        os.utime(bk / name, (now - days * DAY_S, now - days * DAY_S))
    (bk / "notes.txt").write_text("not a backup")
    os.utime(bk / "notes.txt", (now - 100 * DAY_S, now - 100 * DAY_S))

    r = run(tmp_path, "rotate", "--days", "30")
    assert r.returncode == 0, r.stderr
    left = sorted(p.name for p in bk.iterdir())
    assert left == ["db-20200103-000000.sqlite3", "db-20200104-000000.sqlite3", "notes.txt"]
    assert "deleted 2" in r.stdout

    r = run(tmp_path, "rotate", BACKUP_RETENTION_DAYS="1")  # the default comes from settings
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in bk.iterdir()) == ["db-20200104-000000.sqlite3", "notes.txt"]


def test_vacuum_and_integrity_on_a_good_database(tmp_path: Path) -> None:
    seed_db(tmp_path / "data" / "bot.sqlite3")
    r = run(tmp_path, "vacuum")
    assert r.returncode == 0, r.stderr
    assert "vacuumed" in r.stdout
    r = run(tmp_path, "integrity")
    assert r.returncode == 0, r.stderr
    assert "integrity ok" in r.stdout


def test_integrity_on_a_corrupted_database_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    seed_db(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    for i in range(page, len(data), 7):  # keep the header page, scramble the rest
        data[i] = (data[i] * 31 + 17) % 256
    path.write_bytes(bytes(data))
    r = run(tmp_path, "integrity")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "integrity FAILED" in r.stdout
    assert "Traceback" not in r.stderr


def test_integrity_on_a_non_sqlite_file_and_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_text("definitely not sqlite\n" * 100)
    r = run(tmp_path, "--db", "junk.db", "integrity")
    assert r.returncode == 1
    assert "not an SQLite database" in r.stdout
    assert "Traceback" not in r.stderr

    r = run(tmp_path, "--db", "missing.db", "integrity")
    assert r.returncode == 1
    assert "database not found: missing.db" in r.stderr
    assert not (tmp_path / "missing.db").exists()  # never created by a check

    r = run(tmp_path, "--db", "junk.db", "backup")
    assert r.returncode == 1
    assert "not an SQLite database" in r.stderr and "Traceback" not in r.stderr


def scramble(path: Path) -> None:
    """Corrupt every page but the header page, as a failing disk would."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    for i in range(page, len(data), 7):
        data[i] = (data[i] * 31 + 17) % 256
    path.write_bytes(bytes(data))


def test_backup_refuses_a_corrupt_database_with_the_way_back(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    seed_db(path)
    scramble(path)
    r = run(tmp_path, "backup")
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0] and "integrity check" in lines[0]
    assert "restore" in lines[0] and "backup" in lines[0]
    assert not list((tmp_path / "backups").glob("*")) if (tmp_path / "backups").exists() else True


def test_the_commands_refuse_a_corrupt_database_and_never_write_to_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    seed_db(path)
    scramble(path)
    before = path.read_bytes()
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO / "src"),
            "LANG": "C.UTF-8", "COLUMNS": "200", "DB_PATH": str(path)}
    r = subprocess.run([sys.executable, "-m", "crypto_ai_bot.cli.performance"], cwd=tmp_path,
                       env=base, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert str(path) in r.stderr and "integrity check" in r.stderr and "backup" in r.stderr
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists() or \
        path.with_name(path.name + "-wal").stat().st_size == 0
