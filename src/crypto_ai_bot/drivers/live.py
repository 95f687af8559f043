"""The orchestrator: each step as its own periodic asyncio task, for every symbol.

evaluate and protective_exits run per symbol, reconcile once for all, and the watchdog on a
thread. start() reconciles first (fail closed: a symbol that cannot be settled takes no new
entries) and is idempotent, as is stop(); stop lets an iteration in flight finish, so an order
being placed is recorded before the loops end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crypto_ai_bot.adapters.metrics import Metrics
from crypto_ai_bot.application.bus import EventBus
from crypto_ai_bot.application.dead_mans_switch import DeadMansSwitch, Heartbeats, Watchdog
from crypto_ai_bot.application.pipeline import SymbolPipeline
from crypto_ai_bot.application.reconcile.service import Reconciler, ReconcileReport
from crypto_ai_bot.domain import topics
from crypto_ai_bot.domain.model import OrderStatus, TradingState
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import bind, get_logger
from crypto_ai_bot.utils.time import day_start_ms

log = get_logger("orchestrator")


@dataclass(frozen=True, slots=True)
class OrchestratorConfig:
    """Loop intervals (seconds) and what the orchestrator watches for the alert metrics."""

    evaluate_s: float
    exits_s: float
    reconcile_s: float
    watchdog_s: float
    countdown_s: int = 0  # exchange cancel-all timer kept armed in live mode; 0 = off
    daily_loss_limit_quote: Decimal = Decimal(0)  # for the alert metric; 0 = no limit
    stop_timeout_s: float = 30.0


class Orchestrator:
    def __init__(
        self,
        pipelines: dict[str, SymbolPipeline],
        *,
        broker: Broker,
        reconciler: Reconciler,
        repos: Repositories,
        bus: EventBus,
        metrics: Metrics,
        clock: Clock,
        config: OrchestratorConfig,
        heartbeats: Heartbeats,
        dms: DeadMansSwitch,
        exits_enabled: bool = True,
    ) -> None:
        self.pipelines = pipelines
        self._broker = broker
        self._reconciler = reconciler
        self._repos = repos
        self._bus = bus
        self._metrics = metrics
        self._clock = clock
        self.config = config
        self.heartbeats = heartbeats
        self.dms = dms
        self._exits_enabled = exits_enabled
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
            specs: list[tuple[str, float, Callable[[], Awaitable[Any]]]] = []
            for symbol, p in self.pipelines.items():
                specs.append((f"evaluate:{symbol}", self.config.evaluate_s, p.evaluate))
                if self._exits_enabled:
                    specs.append((f"exits:{symbol}", self.config.exits_s, p.protect))
            specs.append(("reconcile", self.config.reconcile_s, self.reconcile_once))
            if self.config.countdown_s:
                specs.append(("countdown", max(self.config.countdown_s / 4, 1.0),
                              self._arm_countdown))
            now = self._clock.now_ms()
            for name, _, _ in specs:
                self.heartbeats.beat(name, now)
            self._tasks = [
                asyncio.create_task(self._run_loop(name, every, step), name=name)
                for name, every, step in specs
            ]
            self.dms.arm()
            self.watchdog.start()
            self._metrics.orchestrator_running.set(1)
            log.info("orchestrator_started", symbols=self.symbols)
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
            self._metrics.orchestrator_running.set(0)
            log.info("orchestrator_stopped")
            return True

    async def _run_loop(self, name: str, every: float, step: Callable[[], Awaitable[Any]]) -> None:
        while not self._stop.is_set():
            cycle = self.cycles.get(name, 0) + 1
            self.cycles[name] = cycle
            with bind(loop=name, cycle_id=f"{name}#{cycle}"):
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("loop_step_failed", error=str(exc))
                else:
                    now = self._clock.now_ms()
                    self.heartbeats.beat(name, now)
                    self._metrics.loop_last_beat.labels(loop=name).set(now / 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=every)

    async def reconcile_once(self, startup: bool = False) -> ReconcileReport:
        now = self._clock.now_ms()
        report = await self._reconciler.run(self.symbols, settle_before_ms=now if startup else None)
        self._repos.idempotency.purge_expired(now)  # keys past IDEMPOTENCY_TTL_SEC
        for symbol, p in self.pipelines.items():
            err = report.errors.get(symbol)
            p.entries_blocked_reason = f"reconcile failed: {err}" if err else ""
        self.last_reconcile = report
        return report

    async def _arm_countdown(self) -> None:
        for symbol in self.symbols:
            await self._broker.arm_countdown(symbol, self.config.countdown_s)

    # dead man's switch ----------------------------------------------------------------

    def _watchdog_tick(self) -> None:
        now = self._clock.now_ms()
        for loop, ts in self.heartbeats.snapshot().items():
            self._metrics.loop_last_beat.labels(loop=loop).set(ts / 1000)
        self.dms.check()
        self._metrics.dms_tripped.set(1 if self.dms.tripped else 0)
        self._metrics.set_trading_state(self._repos.state.trading_state().value)
        pnl = self._daily_pnl(now)
        limit = self.config.daily_loss_limit_quote
        self._metrics.daily_pnl.set(float(pnl))
        self._metrics.daily_loss_limit_reached.set(1 if limit and -pnl >= limit else 0)

    def _daily_pnl(self, now: int) -> Decimal:
        return self._repos.trades.realized_pnl_between(day_start_ms(now), now + 1)

    def on_dms_trip(self, stale: list[str], action: str) -> None:
        """Called on the watchdog thread: halt in the DB now, cancel/close on the loop."""
        now = self._clock.now_ms()
        why = f"dead man's switch: silent loops {', '.join(stale)}"
        self._repos.state.set_trading_state(TradingState.HALTED, why, now)
        self._metrics.dms_trips.inc()
        self._metrics.dms_tripped.set(1)
        self._metrics.set_trading_state(TradingState.HALTED.value)
        self._bus.emit(topics.DMS_TRIPPED, now, loops=stale, action=action)
        if self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self._dms_cleanup(action), self.loop)

    async def _dms_cleanup(self, action: str) -> None:
        for symbol, p in self.pipelines.items():
            for rec in self._repos.orders.not_final(symbol):
                if rec.status is OrderStatus.OPEN and rec.exchange_order_id:
                    with contextlib.suppress(Exception):
                        await self._broker.cancel_order(symbol, rec.exchange_order_id)
            if action == "close":
                with contextlib.suppress(Exception):
                    await p.executor.exit(symbol, "dead man's switch: close")

    def set_trading_state(self, state: TradingState, reason: str) -> None:
        """The operator's switch: ACTIVE, REDUCING (exits only) or HALTED."""
        now = self._clock.now_ms()
        self._repos.state.set_trading_state(state, f"operator: {reason}", now)
        self._metrics.set_trading_state(state.value)
        if state is TradingState.ACTIVE:
            self.dms.tripped = False
            self._metrics.dms_tripped.set(0)
        self._bus.emit(topics.TRADING_STATE_CHANGED, now, state=state.value,
                       reason=f"operator: {reason}")

    # views ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = self._clock.now_ms()
        beats = self.heartbeats.snapshot()
        positions = {}
        for symbol, p in self.pipelines.items():
            pos = self._repos.positions.get(symbol)
            level = p.stop_level()
            last, signal = p.stats.last_decision, p.stats.last_signal
            positions[symbol] = {
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
        return {
            "running": self.running,
            "symbols": self.symbols,
            "trading_state": self._repos.state.trading_state().value,
            "trading_state_reason": self._repos.state.trading_state_reason(),
            "positions": positions,
            "loops": {
                name: {"last_beat_ms": ts, "age_ms": now - ts} for name, ts in sorted(beats.items())
            },
            "dms": {"tripped": self.dms.tripped, "timeout_ms": self.dms.timeout_ms},
            "watchdog_alive": self.watchdog.alive,
            "started_ms": self.started_ms or None,
        }
