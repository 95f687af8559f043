"""The order lifecycle: one transition table; an illegal move raises."""

from __future__ import annotations

from crypto_ai_bot.domain.errors import IllegalTransition
from crypto_ai_bot.domain.model import OrderStatus as S

_LIVE = {S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.UNKNOWN}

TRANSITIONS: dict[S, frozenset[S]] = {
    S.PENDING_SUBMIT: frozenset(_LIVE | {S.REJECTED}),
    S.UNKNOWN: frozenset(_LIVE | {S.REJECTED}),
    S.OPEN: frozenset(_LIVE),
    S.PARTIALLY_FILLED: frozenset(_LIVE - {S.OPEN}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


def can_transition(current: S, new: S) -> bool:
    return new == current or new in TRANSITIONS[current]


def transition(current: S, new: S) -> S:
    """Return the new state, or raise IllegalTransition. Staying put is always allowed."""
    if not can_transition(current, new):
        raise IllegalTransition(f"order cannot go from {current} to {new}")
    return new
