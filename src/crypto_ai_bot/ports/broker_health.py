"""What a broker says of its own calls, for /health and /ready (the live broker reports it;
the paper broker, which cannot fail so, does not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class BrokerHealth:
    auth_error: str = ""  # the exchange refused our keys on the latest private call
    failing_calls: int = 0  # consecutive calls that failed (5xx, network, timeout, breaker)
    last_error: str = ""  # the latest failure, while failing_calls > 0
    circuit: str = "closed"  # the circuit breaker: closed | open | half_open

    @property
    def can_trade(self) -> bool:
        return not self.auth_error


@runtime_checkable
class ReportsHealth(Protocol):
    def health(self) -> BrokerHealth: ...
