"""Database maintenance: online backup, rotation, VACUUM, integrity check, backup listing.

Everything here works while the bot runs on the same file: connections use a busy timeout,
the backup goes through SQLite's online backup API (a consistent snapshot even in WAL mode),
and nothing opens a missing database (which would silently create an empty one).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crypto_ai_bot.domain.errors import DatabaseCorrupt, StorageError
from crypto_ai_bot.utils.time import MS_PER_DAY

BACKUP_PREFIX = "db-"
BACKUP_SUFFIX = ".sqlite3"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_S = 30.0
# A badly corrupt file can make SQLite's own error text undecodable: that is a failure too.
_DB_ERRORS = (sqlite3.Error, UnicodeDecodeError)


class MaintenanceError(StorageError):
    """A maintenance step could not run; the message says which file and why."""


class UnsoundDatabase(MaintenanceError, DatabaseCorrupt):
    """The database fails its quick_check: it is not backed up as if healthy."""


@dataclass(frozen=True, slots=True)
class BackupFile:
    path: Path
    size: int
    mtime_ms: int


@dataclass(frozen=True, slots=True)
class IntegrityResult:
    ok: bool
    messages: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VacuumResult:
    size_before: int
    size_after: int


def _check_sqlite_file(path: Path) -> None:
    """Refuse a missing, empty or non-SQLite file with a clear message."""
    if not path.is_file():
        raise MaintenanceError(f"database not found: {path}")
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if not head:
        raise MaintenanceError(f"{path} is empty, not an SQLite database")
    if head != _SQLITE_MAGIC:
        raise MaintenanceError(f"{path} is not an SQLite database (bad header)")


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    """An existing database, opened read-write without creating it, with a busy timeout."""
    _check_sqlite_file(path)
    uri = path.resolve().as_uri() + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise MaintenanceError(f"cannot open {path}: {exc}") from None
    # A corrupt file can hand back text that is not UTF-8: show it, do not crash on it.
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    with closing(conn):
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        yield conn


def backup_name(now_ms: int) -> str:
    """`db-YYYYmmdd-HHMMSS.sqlite3` for a UTC time."""
    stamp = datetime.fromtimestamp(now_ms / 1000, tz=UTC).strftime("%Y%m%d-%H%M%S")
    return f"{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"


def _unique_path(directory: Path, name: str) -> Path:
    path = directory / name
    stem = name.removesuffix(BACKUP_SUFFIX)
    n = 1
    while path.exists():
        path = directory / f"{stem}-{n}{BACKUP_SUFFIX}"
        n += 1
    return path


def backup(db_path: str | Path, backup_dir: str | Path, now_ms: int) -> BackupFile:
    """Copy the database with the online backup API into backup_dir; returns the new file.

    The copy is written under a temporary name and renamed when complete, so a listing or a
    rotation never sees half a backup. Two backups in the same second get `-1`, `-2`… suffixes.
    """
    src_path = Path(db_path)
    directory = Path(backup_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MaintenanceError(f"cannot create {directory}: {exc.strerror}") from None
    target = _unique_path(directory, backup_name(now_ms))
    partial = target.with_name(target.name + ".partial")
    try:
        with _connect(src_path) as src, closing(sqlite3.connect(partial)) as dst:
            _refuse_unsound(src, src_path)
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal
        os.replace(partial, target)
    except UnsoundDatabase:
        partial.unlink(missing_ok=True)
        raise
    except _DB_ERRORS as exc:
        partial.unlink(missing_ok=True)
        raise MaintenanceError(f"backup of {src_path} failed: {exc}") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MaintenanceError(f"backup of {src_path} failed: {exc.strerror}") from None
    return _describe(target)


def _refuse_unsound(conn: sqlite3.Connection, path: Path) -> None:
    """A corrupt source is refused before anything is copied: a backup must be good to
    restore from, and the last good one must not rotate out behind a bad copy."""
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(20)").fetchall()]
    except _DB_ERRORS as exc:
        rows = [str(exc)]
    if rows != ["ok"]:
        raise UnsoundDatabase(
            f"{path} fails its integrity check ({rows[0]}): not backed up; restore the "
            "latest good backup over it (cab-maintenance list) with the bot stopped"
        )


def _describe(path: Path) -> BackupFile:
    st = path.stat()
    return BackupFile(path, st.st_size, st.st_mtime_ns // 1_000_000)


def list_backups(backup_dir: str | Path) -> list[BackupFile]:
    """Backups in backup_dir, newest first."""
    directory = Path(backup_dir)
    if not directory.is_dir():
        return []
    files = [
        _describe(p) for p in directory.iterdir()
        if p.is_file() and p.name.startswith(BACKUP_PREFIX) and p.name.endswith(BACKUP_SUFFIX)
    ]
    return sorted(files, key=lambda b: (b.mtime_ms, b.path.name), reverse=True)


def rotate(backup_dir: str | Path, days: int, now_ms: int) -> list[BackupFile]:
    """Delete backups last modified more than `days` days before now; returns what went."""
    if days < 1:
        raise MaintenanceError(f"retention must be at least 1 day (got {days})")
    cutoff = now_ms - days * MS_PER_DAY
    removed = []
    for b in list_backups(backup_dir):
        if b.mtime_ms < cutoff:
            try:
                b.path.unlink()
            except OSError as exc:
                raise MaintenanceError(f"cannot delete {b.path}: {exc.strerror}") from None
            removed.append(b)
    return removed


def _db_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def vacuum(db_path: str | Path) -> VacuumResult:
    """VACUUM, `PRAGMA optimize`, then a WAL checkpoint so the file shrinks on disk."""
    path = Path(db_path)
    with _connect(path) as conn:
        before = _db_size(path)
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA optimize")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except _DB_ERRORS as exc:
            raise MaintenanceError(f"vacuum of {path} failed: {exc}") from None
    return VacuumResult(before, _db_size(path))


def integrity_check(db_path: str | Path) -> IntegrityResult:
    """`PRAGMA integrity_check`; a corrupt or foreign file is a failed result, not an error."""
    path = Path(db_path)
    try:
        with _connect(path) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except MaintenanceError as exc:
        if not path.is_file():
            raise
        return IntegrityResult(False, [str(exc)])
    except sqlite3.DatabaseError as exc:
        return IntegrityResult(False, [f"{path}: {exc}"])
    except UnicodeDecodeError:
        return IntegrityResult(False, [f"{path}: database disk image is malformed"])
    messages = [str(r[0]) for r in rows]
    return IntegrityResult(messages == ["ok"], messages)
