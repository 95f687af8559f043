"""Health and readiness: what /health and /ready report, from what the parts say of themselves
(the database's own check is adapters/storage/sqlite/database.check_db)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Readiness:
    ready: bool
    reasons: list[str] = field(default_factory=list)


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
                   trading_state: str, *, storage_ok: bool = True) -> str:
    """storage_ok: False while the database refuses the bot's writes (a halt held in memory,
    TradingStates.storage_ok): the bot cannot record, so it is down."""
    if not db_ok or not broker_ready or not storage_ok:
        return "down"
    if stale_loops or trading_state != "ACTIVE":
        return "degraded"
    return "ok"

