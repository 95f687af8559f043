"""RiskManager: a gate for entries that answers with reasons, never with an exception.

Protective exits never pass through it: no risk rule may block a position's way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.model import Intent, Ticker, TradingState
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.time import day_start_ms

HOUR_MS = 3_600_000
_BASIS_POINT = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class RiskConfig:
    cooldown_sec: int = 0
    max_spread_pct: Decimal = Decimal(0)  # 0 = no limit
    max_position_base: Decimal = Decimal(0)  # 0 = no limit
    max_orders_per_hour: int = 0  # 0 = no limit
    daily_loss_limit_quote: Decimal = Decimal(0)  # 0 = no limit


class RiskResult(NamedTuple):
    ok: bool
    reasons: list[str]
    limits: dict[str, Any]
    rules: list[str]  # machine names of the rules that denied

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reasons": list(self.reasons), "limits": dict(self.limits)}


class RiskManager:
    def __init__(self, config: RiskConfig, repos: Repositories,
                 trading_state: Callable[[], TradingState] | None = None) -> None:
        """trading_state: where the gate reads the state (TradingStates.current in the trading
        process: a halt held in memory while the database cannot record); else the stored
        state."""
        self._repos = repos
        self._trading_state = trading_state or repos.state.trading_state
        self.reconfigure(config)

    def reconfigure(self, config: RiskConfig) -> None:
        """New limits from the next check on (the cockpit's reload)."""
        self._config = config
        self._configured = {  # the configured half of every answer's limits
            "cooldown_sec": config.cooldown_sec,
            "max_spread_pct": str(config.max_spread_pct),
            "max_position_base": str(config.max_position_base),
            "max_orders_per_hour": config.max_orders_per_hour,
            "daily_loss_limit_quote": str(config.daily_loss_limit_quote),
        }

    @property
    def config(self) -> RiskConfig:
        """The limits (its answers' are prepared from it); reconfigure() replaces them."""
        return self._config

    def check(
        self,
        symbol: str,
        ticker: Ticker,
        order_base: Decimal,
        now_ms: int,
        quote_free: Decimal | None = None,
        order_cost: Decimal | None = None,
    ) -> RiskResult:
        """Decide whether an entry of `order_base` (estimated) may be sent now."""
        cfg = self.config
        reasons: list[str] = []
        rules: list[str] = []

        def deny(rule: str, why: str) -> None:
            rules.append(rule)
            reasons.append(why)

        state = self._trading_state()
        if state is not TradingState.ACTIVE:
            deny("trading_state", f"trading state is {state.value}: no new entries")

        if cfg.cooldown_sec:
            last = self._repos.orders.last_created_ms(symbol)
            if last is not None and now_ms - last < cfg.cooldown_sec * 1000:
                left = (cfg.cooldown_sec * 1000 - (now_ms - last)) // 1000
                deny("cooldown", f"cooldown: {left}s left of {cfg.cooldown_sec}s since last order")

        spread = ticker.spread_pct
        if cfg.max_spread_pct and spread > cfg.max_spread_pct:
            deny("spread", f"spread {display.pct(spread)}% above {cfg.max_spread_pct}%")

        position = self._repos.positions.get(symbol).base_amount
        if cfg.max_position_base and position + order_base > cfg.max_position_base:
            deny(
                "max_position",
                f"position {position} + order {order_base} above {cfg.max_position_base}",
            )

        if cfg.max_orders_per_hour:
            count = self._repos.orders.count_since(now_ms - HOUR_MS)
            if count >= cfg.max_orders_per_hour:
                deny(
                    "orders_per_hour",
                    f"{count} orders in the last hour (limit {cfg.max_orders_per_hour})",
                )

        day_pnl: Decimal | None = None  # a rule that is off costs nothing, as those above
        if cfg.daily_loss_limit_quote:
            day_pnl = self._repos.trades.realized_pnl_between(day_start_ms(now_ms), now_ms + 1)
            if -day_pnl >= cfg.daily_loss_limit_quote:
                deny("daily_loss",
                     f"daily loss {display.money(-day_pnl)} reached limit "
                     f"{cfg.daily_loss_limit_quote}")

        if quote_free is not None and order_cost is not None and order_cost > quote_free:
            deny("balance", f"free quote {display.money(quote_free)} cannot pay "
                            f"{display.money(order_cost)}")

        limits = {
            **self._configured,
            "spread_pct": str(spread.quantize(_BASIS_POINT)),
            "position_base": str(position),
            "daily_realized_pnl_quote": None if day_pnl is None else str(day_pnl),
            "intent": Intent.ENTRY.value,
        }
        return RiskResult(not reasons, reasons, limits, rules)  # positional: once an entry
