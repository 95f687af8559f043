"""Numbered SQL migrations applied in order and recorded in PRAGMA user_version."""

from __future__ import annotations

import functools
import re
import sqlite3
from importlib import resources

from crypto_ai_bot.domain.errors import MigrationError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@functools.cache  # the package's files: read once (/health asks for the latest at every call)
def available_migrations() -> tuple[tuple[int, str, str], ...]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    out = []
    for entry in resources.files("crypto_ai_bot.adapters.storage.sqlite.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            out.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return tuple(sorted(out))


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def run_migrations(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; returns the resulting version."""
    migrations = available_migrations()
    latest = migrations[-1][0] if migrations else 0
    version = current_version(conn)
    if version > latest:
        raise MigrationError(
            f"database schema version {version} is newer than this code knows ({latest})"
        )
    for number, name, sql in migrations:
        if number <= version:
            continue
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise MigrationError(f"migration {name} failed: {exc}") from exc
        version = number
    return version


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
