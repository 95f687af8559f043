"""The trading state's only writer: ACTIVE, REDUCING (exits only) or HALTED (nothing new).

The watchdog (a tripped dead man's switch), reconcile (a position mismatch, then a clean pass)
and the operator all change it here, so that each change is stored and announced alike.
"""

from __future__ import annotations

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.events import TradingStateChanged
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories

OPERATOR = "operator: "  # the prefix of the operator's reasons
RECONCILE = "reconcile:"  # ... and of reconcile's, which a clean pass may lift


class TradingStates:
    def __init__(self, repos: Repositories, bus: MessageBus, clock: Clock) -> None:
        self._repos = repos
        self._bus = bus
        self._clock = clock

    @property
    def current(self) -> TradingState:
        return self._repos.state.trading_state()

    @property
    def reason(self) -> str:
        return self._repos.state.trading_state_reason()

    def set(self, state: TradingState, reason: str) -> None:
        """Store the state with its reason, then announce it."""
        now = self._clock.now_ms()
        self._repos.state.set_trading_state(state, reason, now)
        self._bus.publish(TradingStateChanged(now, "", state, reason))

    def handle(self, command: SetTradingState) -> None:
        """The operator's switch."""
        self.set(command.state, f"{OPERATOR}{command.reason}")
