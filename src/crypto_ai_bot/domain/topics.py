"""Event topics: past-tense names of things that happened."""

from __future__ import annotations

DECISION_MADE = "decision.made"
ORDER_PLACED = "order.placed"
ORDER_FILLED = "order.filled"
ORDER_REJECTED = "order.rejected"
ORDER_UNKNOWN = "order.unknown"
ORDER_SETTLED = "order.settled"
EXIT_TRIGGERED = "exit.triggered"
STOP_MOVED = "stop.moved"
RECONCILE_MISMATCH = "reconcile.mismatch"
RECONCILE_UNKNOWN_ORDER = "reconcile.unknown_order"
DMS_TRIPPED = "dms.tripped"
TRADING_STATE_CHANGED = "trading_state.changed"
RISK_DENIED = "risk.denied"

