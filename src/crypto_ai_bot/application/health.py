"""Health and readiness: what /health and /ready report, from what the parts say of themselves
(the database's own check is adapters/storage/sqlite/database.check_db).

/health's status is the worst of a list of problems, each `down` (the bot cannot trade safely)
or `degraded` (it runs, but not as it should), shown as `reasons`; a `note` (the orchestrator
stopped, as a live bot is until the operator starts it) is said in `notes` and leaves the
status alone. A new input is one more `Problem` in `problems()`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal, overload

from crypto_ai_bot.ports.broker_health import BrokerHealth

Level = Literal["down", "degraded", "note"]


@dataclass(slots=True)
class Readiness:
    ready: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Problem:
    level: Level
    text: str


@dataclass(frozen=True, slots=True)
class HealthInputs:
    """What each part says of itself at one moment."""

    db_ok: bool
    db_detail: str
    broker_ready: bool  # markets loaded (and, live, the keys answered) at start-up
    broker_detail: str
    broker: BrokerHealth | None  # the broker's own account of its calls, if it keeps one
    running: bool  # the orchestrator's loops
    watchdog_alive: bool
    stale_loops: list[str]
    trading_state: str
    storage_ok: bool = True  # False while the database refuses the bot's writes (TradingStates)
    storage_error: str = ""


def problems(h: HealthInputs) -> list[Problem]:
    out: list[Problem] = []
    if not h.db_ok:
        out.append(Problem("down", f"db: {h.db_detail}"))
    if not h.storage_ok:  # the bot cannot record, so it does not trade
        out.append(Problem("down", f"db: cannot record: {h.storage_error}"))
    if not h.broker_ready:
        out.append(Problem("down", f"broker: not ready: {h.broker_detail}"))
    b = h.broker
    if b is not None and not b.can_trade:
        out.append(Problem("down", f"broker: cannot trade, the exchange refuses the keys: "
                                   f"{b.auth_error}"))
    if b is not None and b.circuit != "closed":
        out.append(Problem("degraded", f"broker: circuit breaker {b.circuit}"))
    if b is not None and b.failing_calls:
        out.append(Problem("degraded", f"broker: the last {b.failing_calls} calls failed: "
                                       f"{b.last_error}"))
    if h.running and not h.watchdog_alive:
        out.append(Problem("down", "watchdog: thread dead, the dead man's switch is blind"))
    if not h.running:
        out.append(Problem("note", "orchestrator: stopped (POST /orchestrator/start)"))
    if h.stale_loops:
        out.append(Problem("degraded", f"loops: silent {', '.join(h.stale_loops)}"))
    if h.trading_state != "ACTIVE":
        out.append(Problem("degraded", f"trading state: {h.trading_state}"))
    return out


def status_of(found: list[Problem]) -> str:
    if any(p.level == "down" for p in found):
        return "down"
    return "degraded" if any(p.level == "degraded" for p in found) else "ok"


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


@overload
def printable(text: str, limit: int = ...) -> str: ...
@overload
def printable(text: None, limit: int = ...) -> None: ...
def printable(text: str | None, limit: int = 300) -> str | None:
    """Text safe to show anyone: control and format characters (newlines, ANSI escapes,
    bidi overrides) become spaces, and it is cut at `limit` characters."""
    if text is None:
        return None
    clean = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
