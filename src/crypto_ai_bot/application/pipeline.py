"""One symbol's pipeline: evaluate → risk → place_order → protective_exits.

The orchestrator drives it on wall-clock intervals; the backtest drives the same object candle
by candle on a simulated clock. Reconcile and the watchdog live beside it (reconciliation/,
safety/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.execution import OrderExecutor, Outcome, PlaceResult
from crypto_ai_bot.application.exits import ProtectiveExits
from crypto_ai_bot.application.latency import Origin
from crypto_ai_bot.application.risk import RiskManager
from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.errors import BrokerError, StorageError
from crypto_ai_bot.domain.events import (
    DecisionMade,
    EvaluationStarted,
    ExitTriggered,
    PositionChanged,
    RiskDenied,
    StopsChecked,
)
from crypto_ai_bot.domain.model import (
    Action,
    Bar,
    Candle,
    Decision,
    Intent,
    Position,
    Signal,
    StopLevel,
    Ticker,
)
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock
from crypto_ai_bot.ports.feed import PacedFeed, PriceFeed
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.ports.strategy import Strategy
from crypto_ai_bot.utils.logging import get_logger, info_enabled

log = get_logger("pipeline")
_HOLD = Action.HOLD  # a module constant: an Enum class attribute costs a lookup per candle


@dataclass(slots=True)
class PipelineStats:
    """What the pipeline saw and did. `decisions` counts the holds and the buys and sells acted
    on; a sell while flat (or a buy while holding) is the strategy's signal, not a decision."""

    candles: int = 0
    decisions: dict[str, int] = field(default_factory=lambda: {a.value: 0 for a in Action})
    last_signal: Signal | None = None  # the strategy's latest word, hold included
    last_signal_candle_ts_ms: int = 0
    last_decision: Decision | None = None  # the latest buy or sell
    last_result: str = ""


class SymbolPipeline:
    def __init__(
        self,
        symbol: str,
        *,
        strategy: Strategy,
        feed: PriceFeed,
        broker: Broker,
        risk: RiskManager,
        exits: ProtectiveExits,
        executor: OrderExecutor,
        repos: Repositories,
        bus: MessageBus,
        clock: Clock,
        timeframe: str = "",
    ) -> None:
        """timeframe: the feed's; with it, evaluate() stores the candles it evaluated (the
        market_data repository), for cab-backtest --compare. Backtests pass none."""
        self.symbol = symbol
        self._timeframe = timeframe
        self._evaluated = False
        self.strategy = strategy
        self._feed = feed
        self._broker = broker
        self._risk = risk
        self._exits = exits
        self._executor = executor
        self._repos = repos
        self._bus = bus
        self._clock = clock
        self.stats = PipelineStats()
        self.entries_blocked_reason = ""  # set while reconcile cannot vouch for this symbol
        self._paced = feed if isinstance(feed, PacedFeed) else None

    @property
    def executor(self) -> OrderExecutor:
        return self._executor

    # evaluate -------------------------------------------------------------------------

    async def evaluate(self) -> Decision | None:
        """Poll the feed, run the strategy on new closed candles, act on the latest signal."""
        update = await self._feed.poll(self.symbol)
        if self._timeframe and update.candles:
            self._store(update.candles)
        decision = self.decide([c.bar() for c in update.candles], update.ticker.last)
        if decision is not None:
            await self.act(decision, update.ticker)
        return decision

    def _store(self, candles: Sequence[Candle]) -> None:
        """Keep the closed candles the strategy is about to see (one transaction a poll; a
        candle stored before is replaced by the same one). A record for comparison, not for
        safety: a database that refuses it is logged and trading goes on."""
        try:
            with self._repos.transaction():
                self._repos.market_data.upsert(self.symbol, self._timeframe, candles)
        except StorageError as exc:
            log.warning("candles_not_stored", symbol=self.symbol, error=str(exc))
        if not self._evaluated:
            self._evaluated = True
            if self._bus.wants(EvaluationStarted):
                self._bus.publish(EvaluationStarted(
                    self._clock.now_ms(), self.symbol, self._timeframe, candles[0].ts_ms,
                    candles[-1].ts_ms, len(candles)))

    def evaluate_due_in_s(self) -> float | None:
        """Seconds until the next candle can be read, when the feed knows (None: it does not,
        and the evaluate loop keeps its interval)."""
        return None if self._paced is None else self._paced.due_in_s(self.symbol)

    def decide(self, bars: Sequence[Bar], price: Decimal) -> Decision | None:
        """Feed closed candles to the strategy; only the newest candle's signal counts.

        A buy or sell comes back as a Decision to act on, at `price` (the market price now;
        act() counts it, when the position lets it act); a hold is counted and remembered,
        and None comes back.
        """
        if not bars:
            return None
        signal = None
        several = getattr(self.strategy, "on_candles", None) if len(bars) > 1 else None
        if several is not None:  # a vectorised strategy: computed once for all of them
            signal = several(bars)
        else:
            for bar in bars:
                signal = self.strategy.on_candle(bar)
        assert signal is not None
        stats = self.stats
        stats.candles += len(bars)
        stats.last_signal, stats.last_signal_candle_ts_ms = signal, bars[-1].ts_ms
        if signal.action is _HOLD:
            stats.decisions[_HOLD] += 1  # a StrEnum member is its own value as a key
            return None
        return self.decision(signal, bars[-1].ts_ms, price)

    def scan(self, bars: Sequence[Bar], start: int) -> tuple[int, Signal | None]:
        """Backtests: feed bars[start:] one by one, counted as decide() counts candles that
        come one at a time, up to the first buy or sell; (its index, its signal), or
        (len(bars), None) when none comes.

        A strategy sees nothing but candles, so it can read ahead of the orders: the engine
        asks for the Decision (decision()) when its clock reaches that candle's close, and
        the candles between cost the strategy's own work and nothing more.
        """
        on_candle = self.strategy.on_candle
        stats = self.stats
        signal = None
        for i in range(start, len(bars)):
            signal = on_candle(bars[i])
            if signal.action is not _HOLD:
                stats.candles += i - start + 1
                stats.decisions[_HOLD] += i - start  # the buy or sell: counted by act()
                stats.last_signal, stats.last_signal_candle_ts_ms = signal, bars[i].ts_ms
                return i, signal
        if signal is not None:  # holds to the end
            stats.candles += len(bars) - start
            stats.decisions[_HOLD] += len(bars) - start
            stats.last_signal, stats.last_signal_candle_ts_ms = signal, bars[-1].ts_ms
        return len(bars), None

    def decision(self, signal: Signal, candle_ts_ms: int, price: Decimal) -> Decision:
        """The Decision to act on a buy or sell of the candle at candle_ts_ms: made now, at
        `price` (the market price now)."""
        return Decision(
            self.symbol, signal.action, signal.reason, self._clock.now_ms(), price, candle_ts_ms
        )

    async def act(self, decision: Decision, ticker: Ticker) -> PlaceResult | None:
        """Turn a decision into an order, through risk for entries. A sell while flat or a
        buy while holding is a signal the position makes moot: not logged, counted or
        announced as a decision, and nothing is done."""
        action = decision.action
        if action is _HOLD:
            return None
        market = self._broker.market(self.symbol)
        position = self._repos.positions.get(self.symbol)
        in_position = position.is_open(market.min_amount)
        if (action is Action.SELL) is not in_position:
            return None
        origin = Origin.now("signal", decision.candle_ts_ms, decision.ts_ms)
        stats = self.stats
        stats.decisions[action] += 1
        stats.last_decision = decision
        if info_enabled(log):
            log.info("decision", symbol=self.symbol, action=action, reason=decision.reason,
                     price=display.price(decision.price, market))
        if self._bus.wants(DecisionMade):
            self._bus.publish(DecisionMade(decision.ts_ms, self.symbol, action,
                                           decision.reason, decision.price,
                                           decision.candle_ts_ms))
        result: PlaceResult | None = None
        if decision.action is Action.BUY and not in_position:
            result = await self._enter(decision, ticker, origin)
        elif decision.action is Action.SELL and in_position:
            result = await self._executor.exit(self.symbol, f"signal: {decision.reason}", origin)
            if result.outcome is Outcome.SENT:
                await self._announce(PositionChanged)  # closed: the exchange-side stop goes too
        if result is not None:
            self.stats.last_result = f"{decision.action}: {result.outcome}"
        return result

    async def _enter(self, decision: Decision, ticker: Ticker,
                     origin: Origin | None = None) -> PlaceResult | None:
        if self.entries_blocked_reason:
            log.warning("entry_blocked", symbol=self.symbol, reason=self.entries_blocked_reason)
            return None
        pending = self._executor.in_flight(self.symbol, Intent.ENTRY)
        if pending is not None:  # its outcome may still be a position: never a second one
            return PlaceResult(Outcome.SKIPPED, pending.client_order_id, pending,
                               "entry in flight")
        cost = self._executor.config.fixed_amount_quote
        price = ticker.ask if ticker.ask > 0 else ticker.last
        quote_free = await self._quote_free()
        verdict = self._risk.check(
            self.symbol, ticker, cost / price, self._clock.now_ms(), quote_free, cost
        )
        if not verdict.ok:
            log.info("risk_denied", symbol=self.symbol, reasons=verdict.reasons)
            if self._bus.wants(RiskDenied):
                self._bus.publish(RiskDenied(self._clock.now_ms(), self.symbol, verdict.ok,
                                             list(verdict.reasons), dict(verdict.limits),
                                             tuple(verdict.rules)))
            return PlaceResult(Outcome.SKIPPED, detail="; ".join(verdict.reasons))
        result = await self._executor.enter(self.symbol, decision.reason, origin)
        if result.outcome is Outcome.SENT:
            await self._announce(PositionChanged)
        return result

    async def _quote_free(self) -> Decimal | None:
        quote = self._broker.market(self.symbol).quote
        balances = await self._executor.balances()
        b = balances.get(quote)
        return b.free if b is not None else Decimal(0)

    # the operator's orders (the cockpit) ----------------------------------------------

    async def force_enter(self, reason: str) -> PlaceResult | None:
        """An entry the operator asks for: through risk as a strategy's, at the price now;
        None while reconcile blocks this symbol's entries."""
        ticker = await self._feed.ticker(self.symbol)
        decision = Decision(self.symbol, Action.BUY, reason, self._clock.now_ms(), ticker.last,
                            self.stats.last_signal_candle_ts_ms)
        return await self._enter(decision, ticker)

    async def force_exit(self, reason: str) -> PlaceResult:
        """Sell the position now through the executor (one exit in flight at most); its
        exchange-side stop follows, as after any exit."""
        result = await self._executor.exit(self.symbol, reason)
        if result.outcome is Outcome.SENT:
            await self._announce(PositionChanged)
        return result

    # protective exits -----------------------------------------------------------------

    async def protect(self) -> PlaceResult | None:
        """Check the stops against the current price; sell when one is breached."""
        position = self._repos.positions.get(self.symbol)
        if not position.is_open(self._broker.market(self.symbol).min_amount):
            return None
        ticker = await self._feed.ticker(self.symbol)
        price = ticker.bid if ticker.bid > 0 else ticker.last
        result = await self.check_stops(position, trigger_price=price, peak_price=ticker.last)
        # every cycle, not only when the peak moves: the keeper's throttle may have put off a
        # move, and an entry that reconcile settled later still needs its first stop
        if result is None:
            await self._announce(StopsChecked)
        return result

    async def check_stops(
        self, position: Position, *, trigger_price: Decimal, peak_price: Decimal
    ) -> PlaceResult | None:
        """Trigger on trigger_price (checked against the stop before the peak moves), or take
        the profit due at the position's age when peak_price reaches it, then let the peak
        rise to peak_price. Backtests pass a candle's low and high; the exchange-side
        stop follows in protect()."""
        level = self._exits.triggered(position, trigger_price)
        if level is None and self._exits.takes_profit:  # minimal_roi: the best price reached
            due = self._exits.take_profit(position, self._clock.now_ms())
            level = due if due is not None and peak_price >= due.price else None
        if level is not None:
            origin = Origin.now("stop")
            if self._executor.exit_in_flight(self.symbol) is None:
                if info_enabled(log):
                    market = self._broker.market(self.symbol)
                    log.info("exit_triggered", symbol=self.symbol, reason=level.reason,
                             stop=display.price(level.price, market),
                             price=display.price(trigger_price, market))
                if self._bus.wants(ExitTriggered):
                    self._bus.publish(ExitTriggered(
                        self._clock.now_ms(), self.symbol, level.reason, level.price,
                        trigger_price, self.stats.last_signal_candle_ts_ms))
            result = await self._executor.exit(self.symbol, level.reason, origin)
            if result.outcome is Outcome.SENT:
                await self._announce(PositionChanged)
            return result
        self.raise_peak(position, peak_price)
        return None

    def raise_peak(self, position: Position, price: Decimal) -> None:
        """Let the peak rise to price, and save it when it does (check_stops' second half,
        for a caller that knows the stop is out of reach)."""
        if self._exits.raise_peak(position, price):
            self._repos.positions.save(position)

    def stop_level(self) -> StopLevel | None:
        """The stop of the position, None when there is none to protect (flat, or dust
        below the market's minimum amount)."""
        position = self._repos.positions.get(self.symbol)
        if not self.in_position(position):
            return None
        return self._exits.stop_level(position)

    def in_position(self, position: Position | None = None) -> bool:
        """Whether the position holds more than the market's minimum amount (what is
        below it cannot be sold: dust, not a position)."""
        if position is None:
            position = self._repos.positions.get(self.symbol)
        try:
            dust = self._broker.market(self.symbol).min_amount
        except BrokerError:  # the markets are not loaded yet: what is held counts
            dust = Decimal(0)
        return position.is_open(dust)

    async def _announce(self, kind: type[PositionChanged] | type[StopsChecked]) -> None:
        """Announce the position and its stop level: after an entry or exit was sent
        (PositionChanged), or after the stops were checked (StopsChecked). Its handlers, such
        as the exchange-side stop, are awaited; with none, nothing is read or built."""
        if self._bus.wants(kind):
            position = self._repos.positions.get(self.symbol)
            await self._bus.dispatch(kind(
                self._clock.now_ms(), self.symbol, position, self._exits.stop_level(position)))
