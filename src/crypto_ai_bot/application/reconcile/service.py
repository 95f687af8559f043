"""One reconcile pass over every symbol: orders, then positions, then balances.

Exchange state is the truth. A position that differs beyond dust is audited, raises the
mismatch metric and moves trading to REDUCING; a clean pass lifts a REDUCING that reconcile set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.reconcile.balances import BalancesReconciler
from crypto_ai_bot.application.reconcile.orders import OrdersReconciler, OrdersResult
from crypto_ai_bot.application.reconcile.positions import PositionCheck, PositionsReconciler
from crypto_ai_bot.application.send_gate import SendGate
from crypto_ai_bot.application.trading_state import RECONCILE, TradingStates
from crypto_ai_bot.domain.events import PositionChecked, ReconcileMismatch
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import get_logger

log = get_logger("reconcile")


@dataclass(slots=True)
class ReconcileReport:
    orders: dict[str, OrdersResult] = field(default_factory=dict)
    positions: dict[str, PositionCheck] = field(default_factory=dict)
    balances: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def mismatches(self) -> list[str]:
        return [s for s, p in self.positions.items() if not p.ok]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "orders": {
                s: {"checked": r.checked, "settled": r.settled, "not_found": r.not_found,
                    "foreign": r.foreign}
                for s, r in self.orders.items()
            },
            "positions": {
                s: {"local": str(p.local), "exchange": str(p.exchange), "diff": str(p.diff),
                    "ok": p.ok}
                for s, p in self.positions.items()
            },
            "balances": self.balances,
            "errors": self.errors,
        }


class Reconciler:
    def __init__(
        self,
        broker: Broker,
        repos: Repositories,
        orders: OrdersReconciler,
        bus: MessageBus,
        states: TradingStates,
        clock: Clock,
        before_positions: Callable[[str], Awaitable[None]] | None = None,
        sending: SendGate | None = None,
    ) -> None:
        self._broker = broker
        self._before_positions = before_positions  # per symbol, first (e.g. fired exchange stops)
        self._sending = sending or SendGate()  # the executor's: see OrderExecutor.sending
        self._repos = repos
        self._orders = orders
        self._positions = PositionsReconciler(broker, repos)
        self._balances = BalancesReconciler(broker, repos, clock)
        self._bus = bus
        self._states = states
        self._clock = clock

    async def run(
        self, symbols: list[str], *, settle_before_ms: int | None = None,
        progress: Callable[[], None] | None = None,
    ) -> ReconcileReport:
        """`progress` is called after each symbol's orders: a pass over many symbols is
        long, and alive while it moves on (the dead man's switch hears it)."""
        report = ReconcileReport()
        for symbol in symbols:
            if progress is not None:
                progress()
            try:
                if self._before_positions is not None:
                    await self._before_positions(symbol)
                report.orders[symbol] = await self._orders.run(
                    symbol, settle_before_ms=settle_before_ms
                )
                if self._before_positions is not None and report.orders[symbol].settled:
                    # a settled exit may have closed the position: its stop goes now
                    await self._before_positions(symbol)
            except Exception as exc:
                report.errors[symbol] = f"{type(exc).__name__}: {exc}"
                log.warning("reconcile_orders_failed", symbol=symbol, error=str(exc))
        async with self._sending:  # no order between the balance read and the comparison
            try:
                balances = await self._broker.fetch_balance()
            except Exception as exc:
                for symbol in symbols:
                    report.errors.setdefault(symbol, f"balance: {type(exc).__name__}: {exc}")
                log.warning("reconcile_balance_failed", error=str(exc))
                return report
            checks = {}
            for symbol in symbols:
                check = self._positions.check(symbol, balances)
                if not check.ok and await self._orders.recheck_not_found(symbol):
                    check = self._positions.check(symbol, balances)  # late fills explained it
                checks[symbol] = check
        now = self._clock.now_ms()
        for symbol, check in checks.items():
            report.positions[symbol] = check
            self._bus.publish(PositionChecked(now, symbol, check.ok))
            if not check.ok:
                log.error("reconcile_mismatch", symbol=symbol, local=str(check.local),
                          exchange=str(check.exchange))
                self._bus.publish(ReconcileMismatch(now, symbol, str(check.local),
                                                    str(check.exchange), str(check.diff)))
        snap = self._balances.snapshot(symbols, balances)
        report.balances = {c: {"free": str(b.free), "used": str(b.used)} for c, b in snap.items()}
        self._update_trading_state(report)
        return report

    def _update_trading_state(self, report: ReconcileReport) -> None:
        states = self._states
        current = states.current
        if report.mismatches:
            if current is TradingState.ACTIVE:
                why = f"{RECONCILE} position mismatch on {', '.join(report.mismatches)}"
                states.set(TradingState.REDUCING, why)
        elif (current is TradingState.REDUCING and not report.errors
              and states.reason.startswith(RECONCILE)):
            states.set(TradingState.ACTIVE, f"{RECONCILE} clean pass")
