"""The database facade: one SQLite connection per process, WAL, unit-of-work transactions.

Durability: WAL with `synchronous = FULL`, so that a transaction that returned from COMMIT
(an order's write-ahead record above all) is on the disk before the request leaves; NORMAL
could lose the last commits to a power cut. Every SQLite error leaves here as StorageError, so
that the application can tell "the database cannot record" from any other failure.
"""

from __future__ import annotations

import contextlib
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
from crypto_ai_bot.domain.errors import DatabaseCorrupt, StorageError

Row = sqlite3.Row


class Database:
    """Owns the connection. Repositories run their SQL through it.

    Writes outside `transaction()` autocommit one statement at a time; inside, they commit
    together or not at all. A re-entrant lock makes it safe to share with the watchdog thread.
    """

    def __init__(self, path: str, *, busy_timeout_ms: int = 5_000,
                 check_integrity: bool = False, durable: bool = True) -> None:
        """check_integrity: refuse (DatabaseCorrupt) a file that fails quick_check before
        anything, even the journal mode, is written to it. durable=False (synchronous NORMAL,
        a power cut may lose the last commits) is for records that can be made again: a
        backtest's --record."""
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if check_integrity:
                refuse_unsound(self)
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
                sync = "FULL" if durable else "NORMAL"
                self._conn.execute(f"PRAGMA synchronous = {sync}")
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            self._conn.close()
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        except StorageError:
            self._conn.close()
            raise

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
            self._run("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self._run("COMMIT")
                except StorageError:
                    self._rollback()  # a COMMIT that failed may leave the transaction open
                    raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database {self.path}: {exc}") from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._run(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            try:
                self._conn.executemany(sql, rows)
            except sqlite3.Error as exc:
                raise StorageError(f"database {self.path}: {exc}") from exc

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            try:
                row: Row | None = self._run(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise StorageError(f"database {self.path}: {exc}") from exc
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            try:
                return list(self._run(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise StorageError(f"database {self.path}: {exc}") from exc

    def quick_check(self) -> list[str]:
        """`PRAGMA quick_check`: [] when the file is sound, else SQLite's first findings."""
        with self._lock:
            try:
                rows = self._conn.execute("PRAGMA quick_check(20)").fetchall()
            except (sqlite3.Error, UnicodeDecodeError) as exc:
                return [str(exc) or type(exc).__name__]
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def refuse_unsound(db: Database) -> None:
    """Raise DatabaseCorrupt (one line: the file, the finding, the way back) when the
    database fails its quick_check: nothing may write to a corrupt file."""
    found = db.quick_check()
    if found:
        raise DatabaseCorrupt(
            f"database {db.path} fails its integrity check ({found[0]}); nothing was written "
            "to it: stop the bot, copy a good backup over it (cab-maintenance list shows them) "
            "and start again"
        )


def open_database(path: str) -> Database:
    """Open (creating if needed), check (quick_check) and migrate the database at path."""
    db = Database(path, check_integrity=True)
    try:
        db.migrate()
    except BaseException:
        db.close()
        raise
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
