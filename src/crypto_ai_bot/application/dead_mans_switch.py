"""Heartbeats, the dead man's switch, and the watchdog thread that checks them.

The watchdog runs on a thread of its own so that a blocked event loop cannot hide a stall.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("safety.dms")


class Heartbeats:
    """Last beat per loop name (epoch ms); safe across threads."""

    def __init__(self) -> None:
        self._beats: dict[str, int] = {}
        self._lock = threading.Lock()

    def beat(self, loop: str, now_ms: int) -> None:
        with self._lock:
            self._beats[loop] = now_ms

    def forget(self) -> None:
        with self._lock:
            self._beats.clear()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._beats)


class DeadMansSwitch:
    """Trips once when any loop has been silent longer than the timeout."""

    def __init__(
        self, heartbeats: Heartbeats, clock: Clock, timeout_ms: int,
        on_trip: Callable[[list[str]], None],
    ) -> None:
        self._heartbeats = heartbeats
        self._clock = clock
        self.timeout_ms = timeout_ms
        self._on_trip = on_trip
        self.tripped = False
        self._armed = False

    def arm(self) -> None:
        self._armed = True
        self.tripped = False

    def disarm(self) -> None:
        self._armed = False

    def stale(self) -> list[str]:
        now = self._clock.now_ms()
        return sorted(
            loop for loop, ts in self._heartbeats.snapshot().items() if now - ts > self.timeout_ms
        )

    def check(self) -> list[str]:
        """Stale loops now; trips (once) when armed and any loop is stale."""
        stale = self.stale()
        if stale and self._armed and not self.tripped:
            self.tripped = True
            log.error("dead_mans_switch_tripped", loops=stale, timeout_ms=self.timeout_ms)
            self._on_trip(stale)
        return stale


class Watchdog:
    """A daemon thread calling `tick()` every interval until stopped."""

    def __init__(self, interval_s: float, tick: Callable[[], None]) -> None:
        self._interval = interval_s
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_tick_ms = 0

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cab-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    self._tick()
                except Exception:
                    log.exception("watchdog_tick_failed")
        except BaseException:  # the switch is blind now: /health says down (`alive`)
            log.critical("watchdog_thread_died", exc_info=True)
            raise

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._thread = None

    @property
    def alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive())
