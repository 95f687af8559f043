"""The database facade: one SQLite connection per process, WAL, unit-of-work transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crypto_ai_bot.adapters.storage.sqlite.migrations.runner import (
    available_migrations,
    current_version,
    run_migrations,
)
from crypto_ai_bot.domain.errors import StorageError

Row = sqlite3.Row


class Database:
    """Owns the connection. Repositories run their SQL through it.

    Writes outside `transaction()` autocommit one statement at a time; inside, they commit
    together or not at all. A re-entrant lock makes it safe to share with the watchdog thread.
    """

    def __init__(self, path: str, *, busy_timeout_ms: int = 5_000) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        self._lock = threading.RLock()
        self._depth = 0

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def migrate(self) -> int:
        with self._lock:
            try:
                return run_migrations(self._conn)
            except sqlite3.DatabaseError as exc:
                raise StorageError(f"database {self.path} is not usable: {exc}") from exc

    def schema_version(self) -> int:
        with self._lock:
            return current_version(self._conn)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work: BEGIN IMMEDIATE … COMMIT, rolled back on error. Nests as one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            row: Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_database(path: str) -> Database:
    """Open (creating if needed) and migrate the database at path."""
    db = Database(path)
    db.migrate()
    return db


def check_db(db: Database) -> tuple[bool, str]:
    """Whether the database answers and is at the schema this code expects."""
    try:
        db.one("SELECT 1")
    except Exception as exc:
        return False, f"database error: {exc}"
    latest = available_migrations()[-1][0]
    version = db.schema_version()
    if version != latest:
        return False, f"schema version {version}, expected {latest}"
    return True, f"ok (schema {version})"
