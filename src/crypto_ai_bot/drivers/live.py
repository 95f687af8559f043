"""The orchestrator: each step as its own periodic asyncio task, for every symbol.

evaluate and protective_exits run per symbol, reconcile once for all, and the watchdog on a
thread. start() reconciles first (fail closed: a symbol that cannot be settled takes no new
entries) and is idempotent, as is stop(); stop lets an iteration in flight finish, so an order
being placed is recorded before the loops end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.dead_mans_switch import DeadMansSwitch, Heartbeats, Watchdog
from crypto_ai_bot.application.pipeline import SymbolPipeline
from crypto_ai_bot.application.reconcile.service import Reconciler, ReconcileReport
from crypto_ai_bot.application.trading_state import TradingStates
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import StorageError
from crypto_ai_bot.domain.events import DeadMansSwitchTripped, Event, LoopsStarted, LoopsStopped
from crypto_ai_bot.domain.model import Intent, OrderStatus, TradingState
from crypto_ai_bot.drivers.status_display import market_or_none, min_amount, position_display
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import bind, get_logger

log = get_logger("orchestrator")
LAG_PERIOD_S = 0.1  # how often the event loop's lag is sampled
MIN_WAIT_S = 0.005  # the shortest wait between two steps of a loop


@dataclass(frozen=True, slots=True)
class OrchestratorConfig:
    """Loop intervals (seconds), the exchange's cancel-all timer, the dead man's switch."""

    evaluate_s: float
    exits_s: float
    reconcile_s: float
    watchdog_s: float
    countdown_s: int = 0  # exchange cancel-all timer kept armed in live mode; 0 = off
    dms_timeout_ms: int = 120_000  # a loop silent this long trips the dead man's switch
    dms_action: str = "halt"  # halt | close (also sell the positions)
    stop_timeout_s: float = 30.0


Due = Callable[[], float | None] | None  # seconds until a loop's next step is due, if known


class Orchestrator:
    def __init__(
        self,
        pipelines: dict[str, SymbolPipeline],
        *,
        broker: Broker,
        reconciler: Reconciler,
        repos: Repositories,
        bus: MessageBus,
        states: TradingStates,
        clock: Clock,
        config: OrchestratorConfig,
        heartbeats: Heartbeats,
        dms: DeadMansSwitch,
        exits_enabled: bool = True,
        on_loop_lag: Callable[[float], None] | None = None,
    ) -> None:
        self.pipelines = pipelines
        self._broker = broker
        self._reconciler = reconciler
        self._repos = repos
        self._bus = bus
        self.states = states
        self._clock = clock
        self.config = config
        self.heartbeats = heartbeats
        self.dms = dms
        self._exits_enabled = exits_enabled
        self._on_loop_lag = on_loop_lag  # seconds a timer fired late (a metric)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        self.watchdog = Watchdog(config.watchdog_s, self._watchdog_tick)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.last_reconcile: ReconcileReport | None = None
        self.started_ms = 0
        self.cycles: dict[str, int] = {}

    @property
    def symbols(self) -> list[str]:
        return list(self.pipelines)

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> bool:
        """Start the loops; False when they already run."""
        async with self._lock:
            if self.running:
                return False
            self.loop = asyncio.get_running_loop()
            self.started_ms = self._clock.now_ms()
            self._stop = asyncio.Event()
            await self.reconcile_once(startup=True)
            self.heartbeats.forget()
            specs: list[tuple[str, float, Callable[[], Awaitable[Any]], Due]] = []
            for symbol, p in self.pipelines.items():
                specs.append((f"evaluate:{symbol}", self.config.evaluate_s, p.evaluate,
                              p.evaluate_due_in_s))  # wakes as the next candle closes
                if self._exits_enabled:
                    specs.append((f"exits:{symbol}", self.config.exits_s, p.protect, None))
            specs.append(("reconcile", self.config.reconcile_s, self.reconcile_once, None))
            if self.config.countdown_s:
                specs.append(("countdown", max(self.config.countdown_s / 4, 1.0),
                              self._arm_countdown, None))
            now = self._clock.now_ms()
            for name, _, _, _ in specs:
                self.heartbeats.beat(name, now)
            self._tasks = [
                asyncio.create_task(self._run_loop(name, every, step, due), name=name)
                for name, every, step, due in specs
            ]
            if self._on_loop_lag is not None:
                self._tasks.append(asyncio.create_task(self._watch_lag(self._on_loop_lag),
                                                       name="loop-lag"))
            self.dms.arm()
            self.watchdog.start()
            log.info("orchestrator_started", symbols=self.symbols)
            await self._announce(LoopsStarted(self._clock.now_ms(), "", tuple(self.symbols)))
            return True

    async def stop(self) -> bool:
        """Stop the loops after their current iteration; False when nothing ran."""
        async with self._lock:
            if not self._tasks:
                return False
            self._stop.set()
            self.dms.disarm()
            self.watchdog.stop()
            _, pending = await asyncio.wait(self._tasks, timeout=self.config.stop_timeout_s)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            self._tasks = []
            if self.config.countdown_s:
                for symbol in self.symbols:
                    with contextlib.suppress(Exception):
                        await self._broker.arm_countdown(symbol, 0)
            log.info("orchestrator_stopped")
            await self._announce(LoopsStopped(self._clock.now_ms(), ""))
            return True

    async def _announce(self, event: Event) -> None:
        """The loops started or stopped: an audit that cannot record it changes neither."""
        try:
            await self._bus.dispatch(event)
        except StorageError as exc:
            log.error("not_audited", topic=event.topic, error=str(exc))

    async def _run_loop(self, name: str, every: float, step: Callable[[], Awaitable[Any]],
                        due: Due = None) -> None:
        while not self._stop.is_set():
            cycle = self.cycles.get(name, 0) + 1
            self.cycles[name] = cycle
            with bind(loop=name, cycle_id=f"{name}#{cycle}"):
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except StorageError as exc:  # the database cannot record: halt in memory
                    log.error("loop_step_failed", error=str(exc), error_type="StorageError")
                    self.states.storage_fault(f"{name}: {exc}")
                except Exception as exc:
                    log.exception("loop_step_failed", error=str(exc))
                else:
                    self.heartbeats.beat(name, self._clock.now_ms())
            wait = every
            if due is not None:
                with contextlib.suppress(Exception):  # a feed's schedule never stops a loop
                    soon = due()
                    if soon is not None:
                        wait = max(MIN_WAIT_S, min(every, soon))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=wait)

    async def _watch_lag(self, report: Callable[[float], None]) -> None:
        """How late the event loop runs a timer: what every loop and /health wait on top of
        their own work when the process is busy."""
        while not self._stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(LAG_PERIOD_S)
            report(max(0.0, time.perf_counter() - before - LAG_PERIOD_S))

    async def reconcile_once(self, startup: bool = False) -> ReconcileReport:
        now = self._clock.now_ms()
        report = await self._reconciler.run(
            self.symbols, settle_before_ms=now if startup else None,
            progress=None if startup else self._reconcile_moves_on)
        self._repos.idempotency.purge_expired(now)  # keys past IDEMPOTENCY_TTL_SEC
        for symbol, p in self.pipelines.items():
            err = report.errors.get(symbol)
            p.entries_blocked_reason = f"reconcile failed: {err}" if err else ""
        self.last_reconcile = report
        return report

    def _reconcile_moves_on(self) -> None:
        self.heartbeats.beat("reconcile", self._clock.now_ms())

    async def _arm_countdown(self) -> None:
        for symbol in self.symbols:  # one request each: a beat each, as reconcile's
            await self._broker.arm_countdown(symbol, self.config.countdown_s)
            self.heartbeats.beat("countdown", self._clock.now_ms())

    # dead man's switch ----------------------------------------------------------------

    def _watchdog_tick(self) -> None:
        self.states.retry()  # a halt the database refused is written as soon as it can be
        self.dms.check()

    def on_dms_trip(self, stale: list[str], action: str) -> None:
        """Called on the watchdog thread: halt now (in the DB, or in memory while the DB
        refuses the write, retried by the watchdog), announce, cancel/close on the loop.
        A storage failure stops none of these steps."""
        now = self._clock.now_ms()
        try:
            self.states.set(TradingState.HALTED,
                            f"dead man's switch: silent loops {', '.join(stale)}")
        except Exception as exc:  # the halt holds in memory (TradingStates); go on
            log.error("dms_halt_not_announced", error=str(exc))
        try:
            self._bus.publish(DeadMansSwitchTripped(now, "", stale, action))
        except StorageError as exc:
            log.error("dms_trip_not_audited", error=str(exc))
        if self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self._dms_cleanup(action), self.loop)

    async def _dms_cleanup(self, action: str) -> None:
        """Cancel the resting entry orders, through the executor so that what became of each
        is recorded at once; exits (a fired stop's sell) keep working. `close` also sells."""
        for symbol, p in self.pipelines.items():
            for rec in self._repos.orders.not_final(symbol):
                resting = rec.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
                if rec.intent is Intent.ENTRY and resting and rec.exchange_order_id:
                    try:
                        await p.executor.cancel(rec)
                    except Exception as exc:  # reconcile settles it; the others still go
                        log.warning("dms_cancel_failed", symbol=symbol, error=str(exc),
                                    client_order_id=rec.client_order_id)
            if action == "close":
                with contextlib.suppress(Exception):
                    await p.executor.exit(symbol, "dead man's switch: close")

    def set_trading_state(self, command: SetTradingState) -> None:
        """The operator's switch (SetTradingState's handler): ACTIVE also re-arms the switch.
        While the database cannot record, a resume raises StorageError and nothing changes."""
        self.states.handle(command)
        if command.state is TradingState.ACTIVE:
            self.dms.tripped = False

    # views ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = self._clock.now_ms()
        beats = self.heartbeats.snapshot()
        positions = {}
        for symbol, p in self.pipelines.items():
            pos = self._repos.positions.get(symbol)
            market = market_or_none(self._broker, symbol)
            held = pos.is_open(min_amount(market))  # dust below the minimum is no position
            level = p.stop_level() if held else None
            last, signal = p.stats.last_decision, p.stats.last_signal
            positions[symbol] = {
                "in_position": held,
                "base_amount": str(pos.base_amount),
                "entry_avg": str(pos.entry_avg),
                "peak": str(pos.peak),
                "stop": str(level.price) if level else None,
                "stop_reason": level.reason if level else None,
                "realized_pnl_quote": str(pos.realized_pnl),
                "entries_blocked": p.entries_blocked_reason or None,
                "candles_evaluated": p.stats.candles,
                "decisions": dict(p.stats.decisions),
                "last_signal": None if signal is None else {
                    "action": signal.action.value, "reason": signal.reason,
                    "candle_ts_ms": p.stats.last_signal_candle_ts_ms,
                },
                "last_decision": None if last is None else {  # the latest buy or sell
                    "action": last.action.value, "reason": last.reason, "ts_ms": last.ts_ms,
                    "price": str(last.price),
                },
                "last_result": p.stats.last_result or None,
            }
            positions[symbol]["display"] = position_display(pos, level, last, market)
        return {
            "running": self.running,
            "symbols": self.symbols,
            "trading_state": self.states.current.value,
            "trading_state_reason": self.states.reason,
            "storage_ok": self.states.storage_ok,
            "positions": positions,
            "loops": {
                name: {"last_beat_ms": ts, "age_ms": now - ts} for name, ts in sorted(beats.items())
            },
            "dms": {"tripped": self.dms.tripped, "timeout_ms": self.dms.timeout_ms},
            "watchdog_alive": self.watchdog.alive,
            "started_ms": self.started_ms or None,
        }
