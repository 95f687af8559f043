"""The cockpit's control: the loops, the trading state, the operator's orders and the reload
of the settings that may change while the bot runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.cockpit.views import NotFound
from crypto_ai_bot.application.exchange_stops import ExchangeStopKeeper, StopKeeperConfig
from crypto_ai_bot.application.execution import ExecutionConfig, OrderExecutor, Outcome
from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.application.pipeline import SymbolPipeline
from crypto_ai_bot.application.risk import RiskConfig, RiskManager
from crypto_ai_bot.application.trading_state import TradingStates
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import BotError, ConfigError, StorageError
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("cockpit")


@dataclass(frozen=True, slots=True)
class ControlResult:
    ok: bool
    message: str
    sent: bool = False  # an order left (force-exit, force-enter)
    client_order_id: str | None = None
    reasons: list[str] = field(default_factory=list)  # risk's, when it refused an entry
    trading_state: str | None = None
    running: bool | None = None
    changed: dict[str, str] = field(default_factory=dict)  # reload: NAME -> new value
    refused: list[str] = field(default_factory=list)  # reload: NAMEs that need a restart
    unavailable: bool = False  # storage cannot record it now (the API answers 503)


# What `reload` may change while the bot runs (Settings field names): the risk limits, the
# protective stops (the bot's and the exchange-side backstop's distances and pacing) and the
# stake. Everything else is built into objects at start.
RELOADABLE = frozenset({
    "risk_cooldown_sec", "risk_max_spread_pct", "risk_max_position_base",
    "risk_max_orders_per_hour", "risk_daily_loss_limit_quote", "exits_hard_stop_pct",
    "exits_trailing_pct", "fixed_amount", "exchange_stop_offset_pct", "exchange_stop_limit_pct",
    "exchange_stop_min_move_pct", "exchange_stop_min_interval_sec",
    "exchange_stop_expiration_sec", "exchange_stop_retry_max_sec", "exchange_stops_exclusive",
})
# The traded symbols change too where the process can add and remove pipelines (ControlParts.
# resymbol): the loops stop, the pipelines change, the loops start again.
SYMBOL_SETTINGS = frozenset({"symbol", "symbols"})


@dataclass(frozen=True, slots=True)
class Reread:
    """The settings read again (the bootstrap's): what changed, by name (old, new as shown
    by /config), and the configs they make; commit() makes them the effective settings."""

    changed: Mapping[str, tuple[Any, Any]]
    risk: RiskConfig
    exits: ExitsConfig
    execution: ExecutionConfig
    stop_keeper: StopKeeperConfig
    commit: Callable[[], None]
    symbols: tuple[str, ...] = ()  # the symbols the settings read again trade (): unknown


@dataclass(frozen=True, slots=True)
class ControlParts:
    clock: Clock
    bus: MessageBus
    states: TradingStates
    executor: OrderExecutor
    risk: RiskManager
    exits: ProtectiveExits
    pipelines: Mapping[str, SymbolPipeline]
    start: Callable[[], Awaitable[bool]]
    stop: Callable[[], Awaitable[bool]]
    running: Callable[[], bool]
    broker_ready: Callable[[], tuple[bool, str]]
    reread: Callable[[], Reread] | None = None
    stop_keeper: ExchangeStopKeeper | None = None
    # trade these symbols from now on: a description of the change, or ConfigError naming why
    # not (then nothing changed)
    resymbol: Callable[[tuple[str, ...]], Awaitable[str]] | None = None


OPERATOR = "operator"


class CockpitControl:
    def __init__(self, parts: ControlParts) -> None:
        self._p = parts

    def _pipeline(self, symbol: str) -> SymbolPipeline:
        p = self._p.pipelines.get(symbol.upper())
        if p is None:
            raise NotFound(f"unknown symbol {symbol!r}; one of {', '.join(self._p.pipelines)}")
        return p

    # the loops --------------------------------------------------------------------------

    async def start(self) -> ControlResult:
        ready, why = self._p.broker_ready()
        if not ready:
            return ControlResult(False, f"not started: broker not ready: {why}", running=False)
        started = await self._p.start()
        return ControlResult(True, "started" if started else "already running",
                             running=self._p.running())

    async def stop(self) -> ControlResult:
        stopped = await self._p.stop()
        return ControlResult(True, "stopped" if stopped else "was not running",
                             running=self._p.running())

    # the trading state --------------------------------------------------------------------

    def set_state(self, state: TradingState, reason: str) -> ControlResult:
        """Through the bus's SetTradingState, as /orchestrator/trading-state."""
        reason = reason.strip() or f"set by {OPERATOR}"
        try:
            self._p.bus.handle(SetTradingState(state, reason))
        except StorageError as exc:
            return ControlResult(False, f"storage cannot record the trading state: {exc}",
                                 trading_state=self._p.states.current.value, unavailable=True)
        return ControlResult(True, f"trading state {state.value}: {reason}",
                             trading_state=self._p.states.current.value)

    def stop_entries(self, reason: str = "") -> ControlResult:
        return self.set_state(TradingState.REDUCING, reason or "stop entries: operator")

    def halt(self, reason: str) -> ControlResult:
        return self.set_state(TradingState.HALTED, reason)

    def resume(self, reason: str = "") -> ControlResult:
        return self.set_state(TradingState.ACTIVE, reason or "resumed by operator")

    # orders -------------------------------------------------------------------------------

    async def force_exit(self, symbol: str) -> ControlResult:
        """Sell the whole position at market through the executor (written ahead, keyed by
        position and attempt): while one exit is in flight, nothing more is sent."""
        return await self._order(self._force_exit, symbol)

    async def force_enter(self, symbol: str) -> ControlResult:
        """Buy FIXED_AMOUNT at market, through risk as a strategy's entry."""
        return await self._order(self._force_enter, symbol)

    async def _order(self, send: Callable[[SymbolPipeline], Awaitable[ControlResult]],
                     symbol: str) -> ControlResult:
        pl = self._pipeline(symbol)
        try:
            return await send(pl)
        except StorageError as exc:  # written ahead, maybe sent: reconcile settles it
            return ControlResult(False, f"{pl.symbol}: the database failed mid-order ({exc}): "
                                        f"reconcile settles what was sent", unavailable=True)
        except BotError as exc:  # raised before the order was recorded: nothing left
            return ControlResult(False, f"{pl.symbol}: nothing sent: {exc}")

    async def _force_exit(self, pl: SymbolPipeline) -> ControlResult:
        if not pl.in_position():
            return ControlResult(False, f"{pl.symbol}: no open position: nothing sent")
        pending = self._p.executor.exit_in_flight(pl.symbol)
        if pending is not None:
            return ControlResult(False, f"{pl.symbol}: an exit is already in flight "
                                        f"({pending.status.value}): nothing sent",
                                 client_order_id=pending.client_order_id)
        result = await pl.force_exit(f"force_exit: {OPERATOR}")
        if result.outcome is Outcome.SENT:
            status = result.order.status.value if result.order else "sent"
            return ControlResult(True, f"{pl.symbol}: exit sent ({status})", sent=True,
                                 client_order_id=result.client_order_id)
        if result.outcome is Outcome.UNKNOWN:
            return ControlResult(False, f"{pl.symbol}: exit sent, its outcome unknown: "
                                        f"reconcile settles it ({result.detail})", sent=True,
                                 client_order_id=result.client_order_id)
        return ControlResult(False, f"{pl.symbol}: exit {result.outcome.value}: "
                                    f"{result.detail or 'nothing sent'}",
                             client_order_id=result.client_order_id or None)

    async def _force_enter(self, pl: SymbolPipeline) -> ControlResult:
        if pl.in_position():
            return ControlResult(False, f"{pl.symbol}: already in position: nothing sent")
        result = await pl.force_enter(f"force_enter: {OPERATOR}")
        if result is None:
            return ControlResult(False, f"{pl.symbol}: entries blocked: "
                                        f"{pl.entries_blocked_reason}: nothing sent")
        if result.outcome is Outcome.SENT:
            status = result.order.status.value if result.order else "sent"
            return ControlResult(True, f"{pl.symbol}: entry sent ({status})", sent=True,
                                 client_order_id=result.client_order_id)
        if result.outcome is Outcome.SKIPPED and not result.client_order_id:
            reasons = [r for r in result.detail.split("; ") if r]
            return ControlResult(False, f"{pl.symbol}: refused by risk: {result.detail}",
                                 reasons=reasons)
        return ControlResult(False, f"{pl.symbol}: entry {result.outcome.value}: "
                                    f"{result.detail or 'nothing sent'}",
                             sent=result.outcome is Outcome.UNKNOWN,
                             client_order_id=result.client_order_id or None)

    # settings -------------------------------------------------------------------------------

    async def reload(self) -> ControlResult:
        """Read the settings again and apply what may change while the bot runs (RELOADABLE,
        and SYMBOL/SYMBOLS where the process can change its pipelines). All or nothing: when
        a changed setting needs a restart, or the symbols cannot change (a symbol dropped
        while it holds a position, say), nothing is applied and the answer says why."""
        if self._p.reread is None:
            return ControlResult(False, "reload is not available in this process")
        try:
            new = self._p.reread()
        except ConfigError as exc:
            return ControlResult(False, f"settings not reloaded: {exc}")
        resymbol = self._p.resymbol
        movable = RELOADABLE | SYMBOL_SETTINGS if resymbol is not None else RELOADABLE
        refused = sorted(n.upper() for n in new.changed if n not in movable)
        if refused:
            return ControlResult(
                False, f"nothing reloaded: {', '.join(refused)} cannot change while the bot "
                       f"runs: restart it for these", refused=refused)
        if not new.changed:
            return ControlResult(True, "no setting changed")
        moved = ""
        if resymbol is not None and new.symbols and tuple(self._p.pipelines) != new.symbols:
            try:
                moved = await resymbol(new.symbols)
            except ConfigError as exc:
                return ControlResult(False, f"nothing reloaded: {exc}")
        self._p.risk.reconfigure(new.risk)
        self._p.exits.reconfigure(new.exits)
        self._p.executor.config = new.execution
        if self._p.stop_keeper is not None:
            self._p.stop_keeper.reconfigure(new.stop_keeper)
        new.commit()
        changed = {n.upper(): str(v[1]) for n, v in sorted(new.changed.items())}
        log.info("settings_reloaded", changed=changed, symbols=moved or None)
        return ControlResult(True, "reloaded: " + ", ".join(
            f"{n}={v}" for n, v in changed.items()) + (f" ({moved})" if moved else ""),
            changed=changed)
