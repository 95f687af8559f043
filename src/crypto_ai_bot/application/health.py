"""Health and readiness: what /health and /ready report, computed from the live objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.migrations.runner import available_migrations


@dataclass(slots=True)
class Readiness:
    ready: bool
    reasons: list[str] = field(default_factory=list)


def check_db(db: Database) -> tuple[bool, str]:
    try:
        db.one("SELECT 1")
    except Exception as exc:
        return False, f"database error: {exc}"
    latest = available_migrations()[-1][0]
    version = db.schema_version()
    if version != latest:
        return False, f"schema version {version}, expected {latest}"
    return True, f"ok (schema {version})"


def readiness(db_ok: bool, db_detail: str, broker_ready: bool, broker_detail: str,
              can_run: bool, run_detail: str) -> Readiness:
    reasons = []
    if not db_ok:
        reasons.append(f"db: {db_detail}")
    if not broker_ready:
        reasons.append(f"broker: {broker_detail}")
    if not can_run:
        reasons.append(f"orchestrator: {run_detail}")
    return Readiness(ready=not reasons, reasons=reasons)


def overall_status(db_ok: bool, broker_ready: bool, stale_loops: list[str],
                   trading_state: str) -> str:
    if not db_ok or not broker_ready:
        return "down"
    if stale_loops or trading_state != "ACTIVE":
        return "degraded"
    return "ok"

