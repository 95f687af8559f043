"""Whether a database holds every table its schema version promises (a file restored from a
wrong copy, or hand-edited, may be at the latest version and still miss one)."""

from __future__ import annotations

import sqlite3
from functools import cache

from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.migrations.runner import run_migrations
from crypto_ai_bot.domain.errors import StorageError

_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"


@cache
def expected_tables() -> frozenset[str]:
    """The tables the migrations create, from a scratch database in memory."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        run_migrations(conn)
        return frozenset(row[0] for row in conn.execute(_TABLES))
    finally:
        conn.close()


def check_tables(db: Database) -> None:
    """Raise StorageError naming the file and the tables it lacks."""
    try:
        present = {row[0] for row in db.all(_TABLES)}
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"database {db.path} is not usable: {exc}") from None
    missing = sorted(expected_tables() - present)
    if missing:
        raise StorageError(
            f"database {db.path} lacks table(s) {', '.join(missing)}: copy a backup from "
            "BACKUP_DIR (cab-maintenance list) over it, or move the file away to start afresh"
        )
