"""The cockpit's read model: the bot's state, trades, orders, money and chart, read from the
repositories, the broker, the price board and the pipelines."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from crypto_ai_bot.application.cockpit.recent import RecentCandles
from crypto_ai_bot.application.cockpit.views import (
    AuditEntry,
    BalanceView,
    CandleView,
    Chart,
    ConfigView,
    CurrencyBalance,
    EquityPoint,
    EquitySeries,
    EventsPage,
    IndicatorPoint,
    LoopBeat,
    Marker,
    NotFound,
    OrderHistoryEntry,
    OrdersPage,
    OrderView,
    Performance,
    PeriodPnl,
    Profit,
    Status,
    SymbolProfit,
    SymbolStatus,
    Trade,
    TradesPage,
)
from crypto_ai_bot.application.dead_mans_switch import Heartbeats
from crypto_ai_bot.application.exchange_stops import ExchangeStopKeeper
from crypto_ai_bot.application.pipeline import SymbolPipeline
from crypto_ai_bot.application.round_trips import RoundTrip, exit_kind, fee_quote, round_trips
from crypto_ai_bot.application.trading_state import TradingStates
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.errors import BotError, BrokerError
from crypto_ai_bot.domain.model import ZERO, Balance, Candle, Intent, MarketInfo, Side
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


@dataclass(frozen=True, slots=True)
class CockpitConfig:
    mode: str  # paper | live
    quote: str  # what equity and PnL are counted in
    timeframe: str  # the feed's
    stored_timeframe: str = ""  # the key its evaluated candles are stored under (default: it)
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
    stop_keeper: ExchangeStopKeeper | None = None  # when the broker has exchange-side stops
    recent: RecentCandles | None = None  # the latest candles polled, in memory


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
            exchange_stop_resting=resting,
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
        fired: set[str] | None = None
        out = []
        for t in done:
            rec = orders.get(t.exit_order_id)
            detail = rec.reason if rec is not None else ""
            if rec is None:  # a fired exchange stop's sell: its fills carry the exchange's id
                if fired is None:
                    fired = self._fired_stop_orders()
                if t.exit_exchange_order_id in fired:
                    detail = "exchange stop fired"
            out.append(_trade(t, exit_kind(detail), detail))
        return out

    def _fired_stop_orders(self) -> set[str]:
        """The exchange order ids of the sells fired exchange stops made (from the audit)."""
        rows = self._p.repos.audit.query(1_000_000, topic="exit.triggered")
        return {str(r.payload["exchange_order_id"]) for r in rows
                if r.payload.get("exchange_order_id")}

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
        strategy: Strategy | None
        try:
            strategy = self._p.strategy()
        except (BotError, ValueError, OSError, ImportError) as exc:  # a model file gone ...
            log.warning("cockpit_strategy_unavailable", error=str(exc))
            strategy = None
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
        key = tf
        if tf == self.config.timeframe and self.config.stored_timeframe:
            key = self.config.stored_timeframe
        last = repo.last_ts(pl.symbol, key)
        stored = repo.candles(pl.symbol, key, start_ms=last - count * step) \
            if last is not None else []
        by_ts = {c.ts_ms: c for c in stored}
        if tf == self.config.timeframe:
            for _, c in self._recent(pl.symbol):
                by_ts[c.ts_ms] = c
        return [by_ts[t] for t in sorted(by_ts)][-count:]

    def _recent(self, symbol: str) -> list[tuple[int, Candle]]:
        recent = self._p.recent
        return recent.of(symbol) if recent is not None else []

    def _markers(self, pl: SymbolPipeline, shown: Sequence[Candle], step: int) -> list[Marker]:
        """Each fill on the candle the bot had last evaluated when it happened (an
        accelerated paper feed's candles run ahead of the clock), else on the candle whose
        span holds its time."""
        if not shown:
            return []
        seen = self._recent(pl.symbol)
        first, last = shown[0].ts_ms, shown[-1].ts_ms
        now = self._p.clock.now_ms()
        orders = self._p.repos.orders
        kinds: dict[str, str] = {}
        fired: set[str] | None = None
        out: list[Marker] = []
        for f in self._p.repos.trades.between(0, now + 1, pl.symbol):
            ts: int | None = None
            if seen and seen[0][0] <= f.ts_ms:
                ts = next((c.ts_ms for at, c in reversed(seen) if at <= f.ts_ms), None)
            elif first <= f.ts_ms < last + step:
                ts = f.ts_ms - (f.ts_ms - first) % step
            if ts is None or not first <= ts <= last:
                continue
            key = f.client_order_id or f.exchange_order_id
            kind = kinds.get(key)
            if kind is None:
                rec = orders.get(f.client_order_id)
                if f.side is Side.BUY:
                    kind = "entry"
                elif rec is not None and rec.intent is Intent.EXIT:
                    kind = exit_kind(rec.reason)
                else:  # a fired exchange stop's sell carries the exchange's order id
                    if fired is None:
                        fired = self._fired_stop_orders()
                    kind = "exchange_stop" if f.exchange_order_id in fired else "exit"
                kinds[key] = kind
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
