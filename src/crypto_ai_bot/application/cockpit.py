"""The operator's cockpit: what the bot shows (CockpitReader) and what it lets one do
(CockpitControl), for the HTTP API (api/v1.py) and the Telegram commands alike.

No web framework here: plain values (dataclasses, exact Decimals, integer ms) that the API
turns into its models. The bootstrap builds both and puts them on the Container.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.dead_mans_switch import Heartbeats
from crypto_ai_bot.application.execution import ExecutionConfig, OrderExecutor, Outcome
from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.application.pipeline import SymbolPipeline
from crypto_ai_bot.application.risk import RiskConfig, RiskManager
from crypto_ai_bot.application.round_trips import RoundTrip, exit_kind, fee_quote, round_trips
from crypto_ai_bot.application.trading_state import TradingStates
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import BotError, BrokerError, ConfigError, StorageError
from crypto_ai_bot.domain.model import ZERO, Balance, Candle, Intent, MarketInfo, Side, TradingState
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.ports.strategy import ExposesIndicators, Strategy
from crypto_ai_bot.utils.logging import get_logger
from crypto_ai_bot.utils.time import day_start_ms, timeframe_ms

log = get_logger("cockpit")
_HUNDRED = Decimal(100)
_PCT = Decimal("0.0001")
PERIODS = ("day", "week", "month")


# what the reader answers ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LoopBeat:
    name: str
    last_beat_ms: int
    age_ms: int


@dataclass(frozen=True, slots=True)
class SymbolStatus:
    symbol: str
    price: Decimal | None
    in_position: bool
    amount: Decimal
    entry_price: Decimal | None
    cost_quote: Decimal | None
    unrealised_pnl_quote: Decimal | None
    unrealised_pnl_pct: Decimal | None
    stop_price: Decimal | None
    stop_reason: str | None
    exchange_stop_resting: bool | None  # None: no exchange-side stops (paper)
    exchange_stop_price: Decimal | None
    unprotected_reason: str | None
    opened_ms: int | None
    trade_age_ms: int | None
    price_precision: int | None
    amount_precision: int | None
    entries_blocked: str | None
    last_signal: str | None
    candles_evaluated: int


@dataclass(frozen=True, slots=True)
class Status:
    now_ms: int
    mode: str
    label: str
    running: bool
    broker_ready: bool
    broker_error: str | None
    trading_state: str
    trading_reason: str
    started_ms: int | None
    quote: str
    loops: list[LoopBeat]
    symbols: list[SymbolStatus]


@dataclass(frozen=True, slots=True)
class Trade:
    id: str
    symbol: str
    entry_ms: int
    exit_ms: int
    entry_price: Decimal
    exit_price: Decimal
    amount: Decimal
    cost_quote: Decimal
    fees_quote: Decimal
    pnl_quote: Decimal
    pnl_pct: Decimal
    exit_reason: str  # signal, hard_stop, trailing_stop, exchange_stop, force_exit, ...
    exit_detail: str  # the exit order's own words
    duration_ms: int


@dataclass(frozen=True, slots=True)
class TradesPage:
    total: int
    items: list[Trade]


@dataclass(frozen=True, slots=True)
class OrderHistoryEntry:
    ts_ms: int
    event: str
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: str
    intent: str
    type: str
    status: str
    amount: Decimal | None
    cost: Decimal | None
    price: Decimal | None
    filled: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str
    reason: str
    error: str
    created_ms: int
    updated_ms: int
    events: list[OrderHistoryEntry]


@dataclass(frozen=True, slots=True)
class OrdersPage:
    items: list[OrderView]


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    currency: str
    free: Decimal
    used: Decimal
    total: Decimal
    value_quote: Decimal | None  # None: no price for it in the quote


@dataclass(frozen=True, slots=True)
class BalanceView:
    quote: str
    equity_quote: Decimal
    currencies: list[CurrencyBalance]
    as_of_ms: int
    source: str  # "broker", or "snapshot" (the last one stored) while the broker fails


@dataclass(frozen=True, slots=True)
class SymbolProfit:
    symbol: str
    trades: int
    wins: int
    realised_quote: Decimal


@dataclass(frozen=True, slots=True)
class Profit:
    quote: str
    realised_quote: Decimal
    unrealised_quote: Decimal
    total_quote: Decimal
    fees_quote: Decimal
    trades: int
    wins: int
    losses: int
    win_rate_pct: Decimal | None
    best: Trade | None
    worst: Trade | None
    by_symbol: list[SymbolProfit]


@dataclass(frozen=True, slots=True)
class PeriodPnl:
    start_ms: int
    label: str
    pnl_quote: Decimal
    trades: int


@dataclass(frozen=True, slots=True)
class Performance:
    period: str
    quote: str
    items: list[PeriodPnl]


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts_ms: int
    equity_quote: Decimal


@dataclass(frozen=True, slots=True)
class EquitySeries:
    quote: str
    points: list[EquityPoint]


@dataclass(frozen=True, slots=True)
class CandleView:
    ts_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class IndicatorPoint:
    ts_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class Marker:
    ts_ms: int  # the candle it belongs to
    side: str
    price: Decimal
    kind: str  # entry, or the exit's reason (signal, hard_stop, ...)
    time_ms: int  # when the fill happened


@dataclass(frozen=True, slots=True)
class Chart:
    symbol: str
    timeframe: str
    candles: list[CandleView]
    indicators: dict[str, list[IndicatorPoint]]
    markers: list[Marker]
    stop_price: Decimal | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts_ms: int
    topic: str
    symbol: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventsPage:
    items: list[AuditEntry]


@dataclass(frozen=True, slots=True)
class ConfigView:
    settings: dict[str, Any]


class NotFound(LookupError):
    """An unknown symbol (or timeframe): the message names what is known."""


# the reader ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CockpitConfig:
    mode: str  # paper | live
    quote: str  # what equity and PnL are counted in
    timeframe: str  # the feed's
    balance_cache_ms: int = 2_000  # a live balance is a private call: not on every refresh


@dataclass(frozen=True, slots=True)
class CockpitParts:
    clock: Clock
    repos: Repositories
    broker: Broker
    board: PriceBoard
    states: TradingStates
    heartbeats: Heartbeats
    pipelines: Mapping[str, SymbolPipeline]
    running: Callable[[], bool]
    started_ms: Callable[[], int]
    broker_ready: Callable[[], tuple[bool, str]]  # (ready, why not)
    strategy: Callable[[], Strategy]  # a fresh instance of the configured strategy
    settings: Callable[[], Mapping[str, Any]]  # the effective settings, secrets masked
    stop_keeper: Any = None  # ExchangeStopKeeper when the broker has exchange-side stops


def _market(broker: Broker, symbol: str) -> MarketInfo | None:
    try:
        return broker.market(symbol)
    except (BrokerError, KeyError):
        return None


def _places(step: Decimal) -> int:
    exp = int(step.normalize().as_tuple().exponent)
    return max(-exp, 0)


class CockpitReader:
    def __init__(self, parts: CockpitParts, config: CockpitConfig) -> None:
        self._p = parts
        self.config = config
        self._balance: BalanceView | None = None

    # status -----------------------------------------------------------------------------

    def symbols(self) -> list[str]:
        return list(self._p.pipelines)

    def _pipeline(self, symbol: str) -> SymbolPipeline:
        p = self._p.pipelines.get(symbol.upper())
        if p is None:
            raise NotFound(f"unknown symbol {symbol!r}; one of {', '.join(self._p.pipelines)}")
        return p

    def price(self, symbol: str) -> Decimal | None:
        """The price a position would be sold at now (bid, else last), None if unknown."""
        t = self._p.board.get(symbol)
        if t is None:
            return None
        price = t.bid if t.bid > 0 else t.last
        return price if price > 0 else None

    def status(self) -> Status:
        p = self._p
        now = p.clock.now_ms()
        ready, why = p.broker_ready()
        beats = p.heartbeats.snapshot()
        unprotected: Mapping[str, str] = p.stop_keeper.unprotected() if p.stop_keeper else {}
        symbols = [self._symbol_status(s, pl, now, unprotected)
                   for s, pl in p.pipelines.items()]
        return Status(
            now_ms=now, mode=self.config.mode, label=f"[{self.config.mode.upper()}]",
            running=p.running(), broker_ready=ready, broker_error=why or None,
            trading_state=p.states.current.value, trading_reason=p.states.reason,
            started_ms=p.started_ms() or None, quote=self.config.quote,
            loops=[LoopBeat(n, ts, now - ts) for n, ts in sorted(beats.items())],
            symbols=symbols,
        )

    def _symbol_status(self, symbol: str, pl: SymbolPipeline, now: int,
                       unprotected: Mapping[str, str]) -> SymbolStatus:
        p = self._p
        pos = p.repos.positions.get(symbol)
        market = _market(p.broker, symbol)
        held = pl.in_position(pos)
        price = self.price(symbol)
        level = pl.stop_level() if held else None
        upnl = pct = None
        if held and price is not None:
            upnl = price * pos.base_amount - pos.cost_basis
            pct = (upnl / pos.cost_basis * _HUNDRED).quantize(_PCT) if pos.cost_basis else None
        resting: bool | None = None
        stop_at: Decimal | None = None
        if p.stop_keeper is not None:
            resting = bool(held and pos.stop_order_id)
            stop_at = pos.stop_price if resting and pos.stop_price > 0 else None
        signal = pl.stats.last_signal
        return SymbolStatus(
            symbol=symbol, price=price, in_position=held, amount=pos.base_amount,
            entry_price=(pos.entry_price or pos.entry_avg) if held else None,
            cost_quote=pos.cost_basis if held else None,
            unrealised_pnl_quote=upnl, unrealised_pnl_pct=pct,
            stop_price=level.price if level else None,
            stop_reason=level.reason.value if level else None,
            exchange_stop_resting=resting if held or resting is None else False,
            exchange_stop_price=stop_at,
            unprotected_reason=unprotected.get(symbol),
            opened_ms=pos.opened_ms if held else None,
            trade_age_ms=now - pos.opened_ms if held and pos.opened_ms else None,
            price_precision=_places(market.price_step) if market else None,
            amount_precision=_places(market.amount_step) if market else None,
            entries_blocked=pl.entries_blocked_reason or None,
            last_signal=None if signal is None else f"{signal.action.value}: {signal.reason}",
            candles_evaluated=pl.stats.candles,
        )

    # trades ---------------------------------------------------------------------------

    def _dust(self, symbol: str) -> Decimal | None:
        m = _market(self._p.broker, symbol)
        return m.min_amount if m is not None else None

    def round_trips(self, symbol: str | None = None) -> list[Trade]:
        """Every closed round trip, oldest exit first."""
        now = self._p.clock.now_ms()
        fills = self._p.repos.trades.between(0, now + 1, symbol.upper() if symbol else None)
        done, _ = round_trips(fills, self._dust)
        orders = self._p.repos.orders
        out = []
        for t in done:
            rec = orders.get(t.exit_order_id)
            detail = rec.reason if rec is not None else ""
            out.append(_trade(t, exit_kind(detail), detail))
        return out

    def trades(self, limit: int = 50, offset: int = 0, symbol: str | None = None) -> TradesPage:
        if symbol:
            self._pipeline(symbol)
        trips = self.round_trips(symbol)
        trips.reverse()  # newest first
        return TradesPage(len(trips), trips[offset:offset + limit])

    # orders ---------------------------------------------------------------------------

    def orders(self, limit: int = 50, symbol: str | None = None) -> OrdersPage:
        if symbol:
            self._pipeline(symbol)
        repo = self._p.repos.orders
        items = []
        for r in repo.recent(limit, symbol.upper() if symbol else None):
            events = [OrderHistoryEntry(e.ts_ms, e.event.value, e.status.value, e.detail)
                      for e in repo.events(r.client_order_id)]
            items.append(OrderView(
                r.client_order_id, r.exchange_order_id or None, r.symbol, r.side.value,
                r.intent.value, r.type.value, r.status.value, r.amount, r.cost, r.price,
                r.filled, r.avg_price, r.fee, r.fee_currency, r.reason, r.error,
                r.created_ms, r.updated_ms, events))
        return OrdersPage(items)

    # balance, profit, performance, equity ----------------------------------------------

    async def balance(self) -> BalanceView:
        now = self._p.clock.now_ms()
        cached = self._balance
        if cached is not None and 0 <= now - cached.as_of_ms < self.config.balance_cache_ms:
            return cached
        try:
            balances = await self._p.broker.fetch_balance()
            source = "broker"
        except BotError as exc:
            log.warning("cockpit_balance_failed", error=str(exc))
            balances, source = self._p.repos.state.balances(), "snapshot"
        view = self._balance_view(balances, now, source)
        if source == "broker":
            self._balance = view
        return view

    def _balance_view(self, balances: Mapping[str, Balance], now: int,
                      source: str) -> BalanceView:
        quote = self.config.quote
        rows: list[CurrencyBalance] = []
        equity = ZERO
        for cur, b in sorted(balances.items()):
            total = b.total
            if total == 0 and cur != quote:
                continue
            if cur == quote:
                value: Decimal | None = total
            else:
                price = self.price(f"{cur}/{quote}")
                value = total * price if price is not None else None
            if value is not None:
                equity += value
            rows.append(CurrencyBalance(cur, b.free, b.used, total, value))
        return BalanceView(quote, equity, rows, now, source)

    def unrealised(self) -> dict[str, Decimal]:
        """Unrealised PnL per open position at the price now (bid), in quote."""
        out: dict[str, Decimal] = {}
        for symbol, pl in self._p.pipelines.items():
            pos = self._p.repos.positions.get(symbol)
            price = self.price(symbol)
            if pl.in_position(pos) and price is not None:
                out[symbol] = price * pos.base_amount - pos.cost_basis
        return out

    def profit(self) -> Profit:
        now = self._p.clock.now_ms()
        fills = self._p.repos.trades.between(0, now + 1)
        realised = sum((f.realized_pnl for f in fills), ZERO)
        fees = sum((fee_quote(f) for f in fills), ZERO)
        unrealised = sum(self.unrealised().values(), ZERO)
        trips = self.round_trips()
        wins = sum(1 for t in trips if t.pnl_quote > 0)
        by: dict[str, list[Trade]] = {}
        for t in trips:
            by.setdefault(t.symbol, []).append(t)
        by_symbol = [SymbolProfit(s, len(ts), sum(1 for t in ts if t.pnl_quote > 0),
                                  sum((t.pnl_quote for t in ts), ZERO))
                     for s, ts in sorted(by.items())]
        return Profit(
            quote=self.config.quote, realised_quote=realised, unrealised_quote=unrealised,
            total_quote=realised + unrealised, fees_quote=fees, trades=len(trips), wins=wins,
            losses=len(trips) - wins,
            win_rate_pct=(Decimal(wins) / len(trips) * _HUNDRED).quantize(_PCT) if trips
            else None,
            best=max(trips, key=lambda t: t.pnl_quote) if trips else None,
            worst=min(trips, key=lambda t: t.pnl_quote) if trips else None,
            by_symbol=by_symbol,
        )

    def performance(self, period: str = "day", n: int = 30) -> Performance:
        """Realised PnL of the round trips closed in each of the last n periods (UTC; a week
        starts on Monday), the current one included, oldest first."""
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)} (got {period!r})")
        starts = _period_starts(period, self._p.clock.now_ms(), n)
        pnl = dict.fromkeys(starts, ZERO)
        count = dict.fromkeys(starts, 0)
        for t in self.round_trips():
            if t.exit_ms < starts[0]:
                continue
            key = _period_start(period, t.exit_ms)
            if key in pnl:
                pnl[key] += t.pnl_quote
                count[key] += 1
        items = [PeriodPnl(s, _label(period, s), pnl[s], count[s]) for s in starts]
        return Performance(period, self.config.quote, items)

    async def equity(self, limit: int = 500) -> EquitySeries:
        """The equity after each closed round trip and now: anchored at the equity now (the
        balance valued at the board's prices), earlier points take off the PnL realised
        since. Deposits and withdrawals are not known, so they are not told apart."""
        now_view = await self.balance()
        now = self._p.clock.now_ms()
        unrealised = sum(self.unrealised().values(), ZERO)
        realised_now = now_view.equity_quote - unrealised
        trips = self.round_trips()
        points: list[EquityPoint] = []
        level = realised_now
        for t in reversed(trips):
            points.append(EquityPoint(t.exit_ms, level))
            level -= t.pnl_quote
        if trips:
            points.append(EquityPoint(trips[0].entry_ms, level))
        points.reverse()
        points.append(EquityPoint(now, now_view.equity_quote))
        return EquitySeries(self.config.quote, points[-limit:] if limit > 0 else [])

    # candles ----------------------------------------------------------------------------

    def candles(self, symbol: str, timeframe: str | None = None, limit: int = 300) -> Chart:
        """The candles the bot evaluated (stored, and the pipeline's latest in memory), the
        strategy's indicators replayed over them, the fills as markers, the stop now."""
        pl = self._pipeline(symbol)
        symbol = pl.symbol
        tf = timeframe or self.config.timeframe
        try:
            step = timeframe_ms(tf)
        except (KeyError, ValueError):
            raise NotFound(f"unknown timeframe {tf!r}") from None
        strategy = self._p.strategy()
        extra = max(3 * int(getattr(strategy, "warmup_candles", 0)), 100)
        candles = self._evaluated(pl, tf, step, limit + extra)
        shown = candles[-limit:] if limit > 0 else []
        indicators: dict[str, list[IndicatorPoint]] = {}
        if isinstance(strategy, ExposesIndicators) and tf == self.config.timeframe:
            first_shown = shown[0].ts_ms if shown else math.inf
            for c in candles:
                strategy.on_candle(c.bar())
                if c.ts_ms < first_shown:
                    continue
                for name, value in strategy.indicators().items():
                    if math.isfinite(value):
                        indicators.setdefault(name, []).append(IndicatorPoint(c.ts_ms, value))
        level = pl.stop_level()
        return Chart(
            symbol, tf,
            [CandleView(c.ts_ms, c.open, c.high, c.low, c.close, c.volume) for c in shown],
            indicators, self._markers(pl, shown, step), level.price if level else None,
        )

    def _evaluated(self, pl: SymbolPipeline, tf: str, step: int, count: int) -> list[Candle]:
        repo = self._p.repos.market_data
        last = repo.last_ts(pl.symbol, tf)
        stored = repo.candles(pl.symbol, tf, start_ms=last - count * step) \
            if last is not None else []
        by_ts = {c.ts_ms: c for c in stored}
        if tf == self.config.timeframe:
            for _, c in getattr(pl, "recent_candles", ()):
                by_ts[c.ts_ms] = c
        return [by_ts[t] for t in sorted(by_ts)][-count:]

    def _markers(self, pl: SymbolPipeline, shown: Sequence[Candle], step: int) -> list[Marker]:
        """Each fill on the candle the bot had last evaluated when it happened (an
        accelerated paper feed's candles run ahead of the clock), else on the candle whose
        span holds its time."""
        if not shown:
            return []
        seen = list(getattr(pl, "recent_candles", ()))
        first, last = shown[0].ts_ms, shown[-1].ts_ms
        now = self._p.clock.now_ms()
        orders = self._p.repos.orders
        kinds: dict[str, str] = {}
        out: list[Marker] = []
        for f in self._p.repos.trades.between(0, now + 1, pl.symbol):
            ts: int | None = None
            if seen and seen[0][0] <= f.ts_ms:
                ts = next((c.ts_ms for at, c in reversed(seen) if at <= f.ts_ms), None)
            elif first <= f.ts_ms < last + step:
                ts = f.ts_ms - (f.ts_ms - first) % step
            if ts is None or not first <= ts <= last:
                continue
            kind = kinds.get(f.client_order_id)
            if kind is None:
                rec = orders.get(f.client_order_id)
                if rec is None or rec.intent is Intent.ENTRY:
                    kind = "entry" if f.side is Side.BUY else "exit"
                else:
                    kind = exit_kind(rec.reason)
                kinds[f.client_order_id] = kind
            out.append(Marker(ts, f.side.value, f.price, kind, f.ts_ms))
        return out

    # events and settings ------------------------------------------------------------------

    def events(self, limit: int = 100, topic: str | None = None, symbol: str | None = None,
               before_id: int | None = None) -> EventsPage:
        rows = self._p.repos.audit.query(limit, topic=topic or None,
                                         symbol=symbol.upper() if symbol else None,
                                         before_id=before_id)
        return EventsPage([AuditEntry(r.id, r.ts_ms, r.topic, r.symbol, r.payload)
                           for r in rows])

    def settings(self) -> ConfigView:
        return ConfigView(dict(self._p.settings()))


def _trade(t: RoundTrip, kind: str, detail: str) -> Trade:
    return Trade(t.id, t.symbol, t.entry_ms, t.exit_ms, t.entry_price, t.exit_price, t.amount,
                 t.cost_quote, t.fees_quote, t.pnl_quote, t.pnl_pct, kind, detail,
                 t.duration_ms)


def _period_start(period: str, ts_ms: int) -> int:
    day = day_start_ms(ts_ms)
    if period == "day":
        return day
    d = datetime.fromtimestamp(day / 1000, tz=UTC)
    if period == "week":
        d -= timedelta(days=d.weekday())
    else:
        d = d.replace(day=1)
    return int(d.timestamp() * 1000)


def _period_starts(period: str, now_ms: int, n: int) -> list[int]:
    starts = [_period_start(period, now_ms)]
    while len(starts) < max(n, 1):
        starts.append(_period_start(period, starts[-1] - 1))
    starts.reverse()
    return starts


def _label(period: str, start_ms: int) -> str:
    d = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    if period == "month":
        return d.strftime("%Y-%m")
    if period == "week":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    return d.strftime("%Y-%m-%d")


# the control --------------------------------------------------------------------------

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
# protective stops and the stake. Everything else is built into objects at start.
RELOADABLE = frozenset({
    "risk_cooldown_sec", "risk_max_spread_pct", "risk_max_position_base",
    "risk_max_orders_per_hour", "risk_daily_loss_limit_quote", "exits_hard_stop_pct",
    "exits_trailing_pct", "fixed_amount",
})


@dataclass(frozen=True, slots=True)
class Reread:
    """The settings read again (the bootstrap's): what changed, by name (old, new as shown
    by /config), and the configs they make; commit() makes them the effective settings."""

    changed: Mapping[str, tuple[Any, Any]]
    risk: RiskConfig
    exits: ExitsConfig
    execution: ExecutionConfig
    commit: Callable[[], None]


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
        pl = self._pipeline(symbol)
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

    async def force_enter(self, symbol: str) -> ControlResult:
        """Buy FIXED_AMOUNT at market, through risk as a strategy's entry."""
        pl = self._pipeline(symbol)
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

    def reload(self) -> ControlResult:
        """Read the settings again and apply what may change while the bot runs (RELOADABLE).
        All or nothing: when a changed setting needs a restart, nothing is applied and the
        answer names every such setting."""
        if self._p.reread is None:
            return ControlResult(False, "reload is not available in this process")
        try:
            new = self._p.reread()
        except ConfigError as exc:
            return ControlResult(False, f"settings not reloaded: {exc}")
        refused = sorted(n.upper() for n in new.changed if n not in RELOADABLE)
        if refused:
            return ControlResult(
                False, f"nothing reloaded: {', '.join(refused)} cannot change while the bot "
                       f"runs: restart it for these", refused=refused)
        if not new.changed:
            return ControlResult(True, "no setting changed")
        self._p.risk.reconfigure(new.risk)
        self._p.exits.reconfigure(new.exits)
        self._p.executor.config = new.execution
        new.commit()
        changed = {n.upper(): str(v[1]) for n, v in sorted(new.changed.items())}
        log.info("settings_reloaded", changed=changed)
        return ControlResult(True, "reloaded: " + ", ".join(
            f"{n}={v}" for n, v in changed.items()), changed=changed)
