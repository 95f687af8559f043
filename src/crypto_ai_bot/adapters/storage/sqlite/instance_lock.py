"""InstanceLock: one trading process per database.

An OS file lock beside the database (it disappears with its process, however it dies), plus an
owner row (host, pid, started_at) so that a person can see who holds it.
"""

from __future__ import annotations

import os
import socket

from filelock import FileLock, Timeout

from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.domain.errors import InstanceLocked
from crypto_ai_bot.utils.time import iso_utc


class InstanceLock:
    def __init__(self, db: Database, db_path: str) -> None:
        self._db = db
        self.path = f"{db_path}.lock"
        self._lock = FileLock(self.path, timeout=0)

    def acquire(self, now_ms: int) -> None:
        try:
            self._lock.acquire()
        except Timeout:
            raise InstanceLocked(
                f"another instance holds {self.path} ({self.owner_text()}); "
                "stop it first or use another DB_PATH"
            ) from None
        self._db.execute(
            "INSERT INTO instance_owner (id, host, pid, started_ms) VALUES (1,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET host=excluded.host, pid=excluded.pid,"
            " started_ms=excluded.started_ms",
            (socket.gethostname(), os.getpid(), now_ms),
        )

    def owner_text(self) -> str:
        row = self._db.one("SELECT host, pid, started_ms FROM instance_owner WHERE id=1")
        if row is None:
            return "owner unknown"
        return f"host {row['host']}, pid {row['pid']}, since {iso_utc(row['started_ms'])} UTC"

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)
