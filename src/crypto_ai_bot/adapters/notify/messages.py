"""What the bot tells people: which events are notified (and how loudly), and their text.

`Selector` runs inside the bus handler: it only decides (kind, level, a repeat to skip) and
never formats or waits. `Messages` turns an event into a `Notification` in the outbox's
worker, off the trading loops; an exit's round trip PnL is read there from the stored fills.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from crypto_ai_bot.adapters.notify.config import Level, NotifyConfig
from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.events import (
    DeadMansSwitchTripped,
    Event,
    ExchangeStopFired,
    LoopsStarted,
    LoopsStopped,
    OrderFilled,
    PositionChecked,
    ReconcileMismatch,
    RiskDenied,
    TradingStateChanged,
    UnknownOrderFound,
)
from crypto_ai_bot.domain.model import ZERO, MarketInfo, Side, split_symbol
from crypto_ai_bot.ports.storage import OrdersRepository, TradeRecord, TradesRepository
from crypto_ai_bot.utils.time import day_start_ms

_DAY_MS = 86_400_000
# the event kinds each notified kind comes from (PositionChecked only resets a mismatch)
SUBSCRIBED: tuple[type[Event], ...] = (
    OrderFilled, ExchangeStopFired, RiskDenied, TradingStateChanged, ReconcileMismatch,
    UnknownOrderFound, PositionChecked, DeadMansSwitchTripped, LoopsStarted, LoopsStopped,
)


@dataclass(frozen=True, slots=True)
class Notification:
    """One message, as every channel sends it: `text` is the whole of it, label first."""

    kind: str
    ts_ms: int
    symbol: str
    title: str
    text: str
    silent: bool = False
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pending:
    """An event waiting in an outbox, with how loudly it is to be sent."""

    event: Event
    kind: str
    silent: bool


def kind_of(event: Event) -> str:
    if isinstance(event, OrderFilled):
        return "entry" if event.side is Side.BUY else "exit"
    if isinstance(event, ExchangeStopFired):
        return "stop"
    if isinstance(event, RiskDenied):
        return "risk"
    if isinstance(event, TradingStateChanged):
        return "state"
    if isinstance(event, ReconcileMismatch | UnknownOrderFound):
        return "reconcile"
    if isinstance(event, DeadMansSwitchTripped):
        return "dms"
    if isinstance(event, LoopsStarted | LoopsStopped):
        return "lifecycle"
    return ""


class Selector:
    """Which events become notifications. Repeats are skipped: risk denies an entry on every
    evaluation once the daily loss limit is reached (told once a UTC day), and reconcile
    finds a mismatch on every pass until it is settled (told again only if it changes)."""

    def __init__(self, config: NotifyConfig) -> None:
        self._config = config
        self._loss_day: int | None = None
        self._mismatch: dict[str, str] = {}

    def select(self, event: Event) -> Pending | None:
        if isinstance(event, PositionChecked):
            if event.ok:
                self._mismatch.pop(event.symbol, None)
            return None
        kind = kind_of(event)
        level: Level = self._config.level(kind) if kind else "off"
        if level == "off":
            return None
        if isinstance(event, RiskDenied):
            if "daily_loss" not in event.rules:
                return None
            day = day_start_ms(event.ts_ms)
            if self._loss_day == day:
                return None
            self._loss_day = day
        if isinstance(event, ReconcileMismatch):
            seen = f"{event.local}|{event.exchange}"
            if self._mismatch.get(event.symbol) == seen:
                return None
            self._mismatch[event.symbol] = seen
        return Pending(event, kind, level == "silent")


class Messages:
    """The text of each notification, labelled `[PAPER]` or `[LIVE]`."""

    def __init__(self, label: str, *, trades: TradesRepository, orders: OrdersRepository,
                 market: Callable[[str], MarketInfo | None],
                 loss_limit: Callable[[], Decimal] = lambda: ZERO) -> None:
        self.label = label
        self._trades = trades
        self._orders = orders
        self._market = market
        self._loss_limit = loss_limit  # the risk gate's daily loss limit now (0: none)

    def render(self, item: Pending) -> Notification:
        e = item.event
        title, lines, extra = self._body(e)
        text = "\n".join([f"{self.label} {title}", *lines])
        return Notification(item.kind, e.ts_ms, e.symbol, f"{self.label} {title}", text,
                            item.silent, extra)

    def _body(self, e: Event) -> tuple[str, list[str], dict[str, str]]:
        if isinstance(e, OrderFilled):
            return self._fill(e)
        if isinstance(e, ExchangeStopFired):
            return (f"{e.symbol} exchange stop fired",
                    [f"stop {e.stop} sold the position (order {e.exchange_order_id})"],
                    {"stop": e.stop, "exchange_order_id": e.exchange_order_id})
        if isinstance(e, RiskDenied):
            why = "; ".join(e.reasons)
            return ("daily loss limit reached: entries blocked until the next UTC day",
                    [why], {"reasons": why})
        if isinstance(e, TradingStateChanged):
            return (f"trading state {e.state.value}", [e.reason] if e.reason else [],
                    {"state": e.state.value, "reason": e.reason})
        if isinstance(e, ReconcileMismatch):
            return (f"{e.symbol} reconcile mismatch",
                    [f"bot: {e.local}", f"exchange: {e.exchange}", f"diff: {e.diff}"],
                    {"local": e.local, "exchange": e.exchange, "diff": e.diff})
        if isinstance(e, UnknownOrderFound):
            return (f"{e.symbol} unknown order at the exchange",
                    [f"{e.side} {e.amount} (order {e.exchange_order_id}), not adopted"],
                    {"exchange_order_id": e.exchange_order_id})
        if isinstance(e, DeadMansSwitchTripped):
            loops = ", ".join(e.loops)
            return ("dead man's switch tripped: trading HALTED",
                    [f"silent loops: {loops}", f"action: {e.action}"],
                    {"loops": loops, "action": e.action})
        if isinstance(e, LoopsStarted):
            return ("bot started", [f"trading {', '.join(e.symbols)}"],
                    {"symbols": ",".join(e.symbols)})
        if isinstance(e, LoopsStopped):
            return "bot stopped", ["the trading loops stopped"], {}
        return e.topic, [], {}

    def _fill(self, e: OrderFilled) -> tuple[str, list[str], dict[str, str]]:
        market = self._market(e.symbol)
        price = display.price(e.avg_price, market) if e.avg_price is not None else "?"
        amount = display.amount(e.filled, market)
        extra = {"side": e.side.value, "price": price, "amount": amount,
                 "client_order_id": e.client_order_id}
        quote = split_symbol(e.symbol)[1]
        if e.side is Side.BUY:
            cost = (f" ({display.money(e.filled * e.avg_price)} {quote})"
                    if e.avg_price is not None else "")
            return (f"{e.symbol} entry filled",
                    [f"bought {amount} at {price}{cost}",
                     f"fee {display.fee(e.fee, e.fee_currency, market)} {e.fee_currency}"],
                    extra)
        lines = [f"sold {amount} at {price}"]
        rec = self._orders.get(e.client_order_id)
        fills = self._trades.for_order(e.client_order_id)
        if not fills and rec is not None and rec.exchange_order_id:
            # a fired exchange stop's sell: its fills carry the exchange's ids, not ours
            fills = [t for t in self._trades.between(e.ts_ms - _DAY_MS, e.ts_ms + 1, e.symbol)
                     if t.exchange_order_id == rec.exchange_order_id]
        pnl, pct = round_trip(fills, quote)
        if rec is not None and rec.reason:
            lines.append(f"reason: {rec.reason}")
        if pnl is not None:
            shown = f"PnL {_signed(display.money(pnl))} {quote}"
            if pct is not None:
                shown += f" ({_signed(display.pct(pct))} %)"
            lines.append(shown)
            extra["pnl_quote"] = display.money(pnl)
            if pct is not None:
                extra["pnl_pct"] = display.pct(pct)
        limit = self._loss_limit()
        if limit > 0:  # the exit that reached the limit says so at once
            lost = -self._trades.realized_pnl_between(day_start_ms(e.ts_ms), e.ts_ms + 1)
            if lost >= limit:
                lines.append(f"daily loss limit reached: {display.money(lost)} of "
                             f"{display.money(limit)} {quote} lost today: no new entries "
                             "until 00:00 UTC")
                extra["daily_loss_limit_reached"] = "true"
        return f"{e.symbol} exit filled", lines, extra


def round_trip(fills: list[TradeRecord], quote: str) -> tuple[Decimal | None, Decimal | None]:
    """An exit's realised PnL in quote (entry fees included, through the cost basis) and as a
    percentage of the cost basis it released (as the cockpit's unrealised PnL %)."""
    if not fills:
        return None, None
    pnl = sum((f.realized_pnl for f in fills), ZERO)
    proceeds = sum((f.price * f.amount - (f.fee if f.fee_currency == quote else ZERO)
                    for f in fills), ZERO)
    cost = proceeds - pnl
    return pnl, (pnl / cost * 100 if cost > 0 else None)


def _signed(text: str) -> str:
    return text if text.startswith("-") else f"+{text}"
