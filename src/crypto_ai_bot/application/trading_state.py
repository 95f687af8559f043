"""The trading state's only writer: ACTIVE, REDUCING (exits only) or HALTED (nothing new).

The watchdog (a tripped dead man's switch), reconcile (a position mismatch, then a clean pass)
and the operator all change it here, so that each change is stored and announced alike.

Fail closed when storage fails: a write that the database refuses (disk full, I/O error), of
the state or of an order, halts trading in memory at once (`storage_fault`), so that nothing
new leaves while nothing can be recorded. The HALTED write is retried (`retry`, from the
watchdog) until it is stored; from then on the database itself says HALTED, and only the
operator resumes, as after any halt: space coming back never resumes trading by itself.
"""

from __future__ import annotations

import threading

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import StorageError
from crypto_ai_bot.domain.events import TradingStateChanged
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("trading_state")

OPERATOR = "operator: "  # the prefix of the operator's reasons
RECONCILE = "reconcile:"  # ... and of reconcile's, which a clean pass may lift
STORAGE = "storage: "  # ... and of a storage fault's halt, which only the operator lifts


class TradingStates:
    def __init__(self, repos: Repositories, bus: MessageBus, clock: Clock) -> None:
        self._repos = repos
        self._bus = bus
        self._clock = clock
        self._guard = threading.RLock()  # the watchdog thread writes here too
        # Set while the database cannot record: the halt held in memory, not yet stored.
        self._unrecorded: tuple[TradingState, str] | None = None
        self.storage_error = ""  # the latest write the database refused, while it refuses

    @property
    def current(self) -> TradingState:
        held = self._unrecorded
        if held is not None:
            return held[0]
        try:
            return self._repos.state.trading_state()
        except StorageError as exc:  # cannot even read: nothing new may leave
            self.storage_fault(f"trading state unreadable: {exc}")
            return TradingState.HALTED

    @property
    def reason(self) -> str:
        held = self._unrecorded
        if held is not None:
            return held[1]
        try:
            return self._repos.state.trading_state_reason()
        except StorageError as exc:
            return f"{STORAGE}trading state unreadable: {exc}"

    @property
    def storage_ok(self) -> bool:
        """False while a halt is held in memory because the database refused to record."""
        return self._unrecorded is None

    def set(self, state: TradingState, reason: str) -> bool:
        """Store the state with its reason, then announce it; True once stored.

        While the database refuses the write the bot stays HALTED in memory whatever was
        asked, and the write of that halt is retried; an operator's resume raises
        StorageError (it cannot be recorded, so it does not happen)."""
        with self._guard:
            # the halt must be on record before anything else
            if (self._unrecorded is not None and state is not TradingState.HALTED
                    and not self.retry()):
                raise StorageError(f"cannot record {state.value}: {self.storage_error}")
            now = self._clock.now_ms()
            try:
                self._repos.state.set_trading_state(state, reason, now)
            except StorageError as exc:
                self._hold(f"{STORAGE}cannot record {state.value} ({reason}): {exc}", str(exc))
                if state is TradingState.HALTED or state is TradingState.REDUCING:
                    return False  # halted in memory: what was asked, and more, holds
                raise
            self._unrecorded, self.storage_error = None, ""
        self._bus.publish(TradingStateChanged(now, "", state, reason))
        return True

    def storage_fault(self, what: str) -> None:
        """A write the database refused (an order's, the audit's ...): halt in memory now,
        then try to record the halt."""
        with self._guard:
            if self._unrecorded is None:
                self._hold(f"{STORAGE}{what}", what)
        self.retry()

    def retry(self) -> bool:
        """Try again to record the halt held in memory; True when nothing is held any more.
        The watchdog calls it on every tick."""
        with self._guard:
            held = self._unrecorded
            if held is None:
                return True
            now = self._clock.now_ms()
            try:
                self._repos.state.set_trading_state(held[0], held[1], now)
            except StorageError as exc:
                self.storage_error = str(exc)
                return False
            self._unrecorded, self.storage_error = None, ""
        log.warning("storage_halt_recorded", reason=held[1])
        try:
            self._bus.publish(TradingStateChanged(now, "", held[0], held[1]))
        except StorageError as exc:  # the audit refused it: the halt is stored all the same
            log.error("storage_halt_not_audited", error=str(exc))
        return True

    def _hold(self, reason: str, error: str) -> None:
        if self._unrecorded is None:
            log.error("storage_fault_halted", reason=reason)
        self._unrecorded = (TradingState.HALTED, reason)
        self.storage_error = error

    def handle(self, command: SetTradingState) -> None:
        """The operator's switch."""
        self.set(command.state, f"{OPERATOR}{command.reason}")
