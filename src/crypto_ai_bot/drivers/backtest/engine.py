"""The backtest engine: the live pipeline objects, candle by candle, on a simulated clock.

The bootstrap builds its parts (bootstrap.backtest_engine) as it does for paper mode:
SymbolPipeline, OrderExecutor, RiskManager, ProtectiveExits over a simulated broker, with the
orders, fills, idempotency keys and positions in memory (adapters/storage/memory.py) or in a
SQLite file (`record`: the same trades, several times slower). The engine drives them with the
fill conventions of DESIGN §12 (those of freqtrade-style backtesters):

1. at the open of candle t the decision taken at the close of t-1 is acted on: the board holds
   open[t] and the clock ts[t], so an entry or a signal exit fills at the open;
2. the stops are checked against low[t]; a breached stop fills at its level, or at open[t]
   when the candle opened below it; the peak for the trailing stop rises to high[t] only after
   that check (so a candle never stops out against a peak it made itself); a take-profit by
   trade age (a strategy's minimal_roi) that high[t] reaches, with the stop untouched, fills at
   its level, or at open[t] above it;
3. at the close of t the strategy sees candle t; a BUY or SELL is kept for the next open.
   A strategy sees nothing but candles, so it reads ahead (SymbolPipeline.scan) to its next
   buy or sell, which becomes a Decision when the clock reaches that close: the candles in
   between cost the strategy's work, the stop and peak checks, and the equity mark.

Several symbols share one PaperBroker and one quote balance, processed in time order (at equal
timestamps in the order given). All symbols must share the quote currency. Positions still open
after the last candle are sold at its close (exit reason `end_of_data`), as freqtrade's
force-exit does, so that every entry appears as a finished trade.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.execution import ExecutionConfig, OrderExecutor, PlaceResult
from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.application.pipeline import SymbolPipeline
from crypto_ai_bot.application.risk import RiskConfig, RiskManager
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.candles import CLOSE, HIGH, LOW, OPEN, CandleSeries
from crypto_ai_bot.domain.model import (
    ZERO,
    Bar,
    Candle,
    Decision,
    ExitReason,
    MarketInfo,
    Position,
    Side,
    Signal,
    StopLevel,
    Ticker,
    split_symbol,
)
from crypto_ai_bot.domain.venue import VenueConfig
from crypto_ai_bot.ports.broker import SimulatedBroker
from crypto_ai_bot.ports.clock import ManualClock
from crypto_ai_bot.ports.feed import FeedUpdate
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.ports.strategy import Strategy

Progress = Callable[[int, int], None]  # (candles done, candles in all)

END_OF_DATA = ExitReason.END_OF_DATA
SIGNAL = ExitReason.SIGNAL
_PROGRESS_EVERY = 5_000


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """What to simulate, in the bot's own config objects: with the settings' objects a
    backtest simulates the configured bot (Settings.*_config; cab-backtest's flags override
    them). Percentages are percent (2 = 2 %); money is quote currency."""

    execution: ExecutionConfig  # FIXED_AMOUNT per entry (the bucket: one candle, see engine)
    exits: ExitsConfig
    risk: RiskConfig
    venue: VenueConfig  # fee and start balance of the simulated venue
    strategy: str = "ema_cross"
    params: Mapping[str, Any] = field(default_factory=dict)
    timeframe_ms: int = 300_000
    close_at_end: bool = True

    @property
    def stake(self) -> Decimal:
        return self.execution.fixed_amount_quote

    @property
    def start_quote(self) -> Decimal:
        return self.venue.start_quote


@dataclass(slots=True)
class BacktestParts:
    """The live objects a run drives, as the bootstrap built them."""

    clock: ManualClock
    board: PriceBoard
    broker: SimulatedBroker
    repos: Repositories
    bus: MessageBus
    executor: OrderExecutor
    risk: RiskManager
    exits: ProtectiveExits
    make_strategy: Callable[[str], Strategy]  # a fresh strategy for a symbol


def prepare(
    candles_by_symbol: Mapping[str, CandleSeries | Sequence[Candle]],
) -> tuple[dict[str, CandleSeries], str]:
    """The series to run and their shared quote currency; ValueError when unusable."""
    if not candles_by_symbol:
        raise ValueError("no symbols to backtest")
    quotes = {split_symbol(s)[1] for s in candles_by_symbol}
    if len(quotes) != 1:
        raise ValueError(f"all symbols must share one quote currency, got {sorted(quotes)}")
    series = {
        s: cs if isinstance(cs, CandleSeries) else CandleSeries.of(cs)
        for s, cs in candles_by_symbol.items()
    }
    for s, cs in series.items():
        if not len(cs):
            raise ValueError(f"{s}: no candles")
    return series, quotes.pop()


class BacktestTrade(NamedTuple):
    """One round trip: entry fill to exit fill. amount is the base bought (before its fee)."""

    symbol: str
    entry_time_ms: int
    exit_time_ms: int
    entry_price: Decimal
    exit_price: Decimal
    amount: Decimal
    pnl_quote: Decimal  # realised by the position accounting: both fees included
    exit_reason: ExitReason
    fees_quote: Decimal  # both fills' fees in quote (the buy's base fee at its price)


@dataclass(slots=True)
class SymbolRun:
    """What one symbol did during the run, for the per-symbol summary."""

    symbol: str
    candles: int
    first_ts_ms: int
    last_ts_ms: int
    first_open: Decimal
    last_close: Decimal
    candles_in_position: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class EngineResult:
    """Raw output of a run; runner.BacktestResult adds the summary."""

    trades: list[BacktestTrade]
    equity_ts_ms: list[int]  # close time of each step of the merged timeline
    equity: list[float]  # quote + open positions at the close: statistics only, not money
    symbols: dict[str, SymbolRun]
    start_quote: Decimal
    final_quote: Decimal
    quote: str
    candles_in_any_position: int
    config: BacktestConfig


class BacktestFeed:
    """PriceFeed over the price board. The engine hands the candles to the pipeline itself
    (SymbolPipeline.scan), so a poll brings none: only the board's price."""

    def __init__(self, board: PriceBoard) -> None:
        self._board = board

    async def poll(self, symbol: str) -> FeedUpdate:
        return FeedUpdate([], await self.ticker(symbol))

    async def ticker(self, symbol: str) -> Ticker:
        t = self._board.get(symbol)
        if t is None:
            raise LookupError(f"no price on the board for {symbol}")
        return t

    async def close(self) -> None:
        return None


@dataclass(slots=True)
class _Lane:
    """Per-symbol state of the loop; the position itself lives in the repositories.

    The floats (stop_f, peak_f) only rule out: a Decimal at or below the stop has a float at
    or below the stop's float (rounding to float never reverses an order), so a candle whose
    low is above stop_f cannot touch the stop, and one whose high is below peak_f cannot
    raise the peak. What passes is decided in Decimal.
    """

    symbol: str
    series: CandleSeries
    pipeline: SymbolPipeline
    market: MarketInfo
    run: SymbolRun
    n: int = 0  # candles in the series
    at: int = 0  # the next candle to handle
    signal_at: int = 0  # the next candle whose close brings a buy or sell (see scan)
    signal: Signal | None = None  # ... and that signal
    pending: Decision | None = None
    position: Position | None = None  # the open position, as the pipeline last saved it
    stop: StopLevel | None = None  # its stop level, recomputed when the peak moves
    stop_f: float = -math.inf
    peak_f: float = 0.0
    peak: Decimal = ZERO  # the position's peak, kept here while the stop ignores it (_peak)
    peak_at: int = 0  # ... the candle whose high it is
    peak_moved: bool = False  # ... and higher than the position's
    float_prices: bool = False  # CandleSeries.prices_are_floats: floats order its Decimals
    base_f: float = 0.0
    close_f: float = 0.0
    held: int = 0  # candles closed in position (SymbolRun.candles_in_position, at the end)
    entry_ts: int = 0
    entry_price: Decimal = ZERO
    entry_amount: Decimal = ZERO
    entry_fee_quote: Decimal = ZERO
    pnl_before: Decimal = ZERO
    every_candle: bool = False  # a take-profit by age: every candle held goes to _stop
    guard_f: float = -math.inf  # ... where the stop's own float rules out (stop_f is inf)
    roi_f: float = math.inf  # the take-profit due, as a float, until the age roi_until_ms
    roi_until_ms: int = 0

    def follow(self, position: Position | None, stop: StopLevel | None) -> None:
        """Track the open position (None once closed) and its stop level."""
        self.position, self.stop = position, stop
        self.stop_f = float(stop.price) if stop is not None else -math.inf
        if self.every_candle and position is not None:
            self.guard_f, self.stop_f, self.roi_until_ms = self.stop_f, math.inf, 0
        self.peak_f = float(position.peak) if position is not None else 0.0
        self.peak = position.peak if position is not None else ZERO
        self.peak_moved = False
        self.base_f = float(position.base_amount) if position is not None else 0.0


class BacktestEngine:
    """Builds the live objects for the given symbols and runs them over their candles."""

    def __init__(
        self,
        series: dict[str, CandleSeries],
        quote: str,
        config: BacktestConfig,
        parts: BacktestParts,
        *,
        progress: Progress | None = None,
    ) -> None:
        """series and quote as prepare() gives them; parts as bootstrap.backtest_engine
        builds them."""
        self.config = config
        self.quote = quote
        self._progress = progress
        self._make_strategy = parts.make_strategy
        self.clock = parts.clock
        self.repos = parts.repos
        self.bus = parts.bus
        self.board = parts.board
        self.feed = BacktestFeed(self.board)
        self.broker = parts.broker
        self.executor = parts.executor
        self.risk = parts.risk
        self.exits = parts.exits
        self.series = series
        self._lanes: list[_Lane] = []
        self._trades: list[BacktestTrade] = []
        self._cash_f = float(config.start_quote)
        self._holding: dict[str, _Lane] = {}  # the lanes with an open position

    async def run(self) -> EngineResult:
        await self.broker.load_markets(list(self.series))
        for symbol, series in self.series.items():
            strategy = self._make_strategy(symbol)
            whole = getattr(strategy, "precompute", None)  # a vectorised one: the whole series
            if whole is not None:
                whole(series.bars)
            pipeline = SymbolPipeline(
                symbol, strategy=strategy,
                feed=self.feed, broker=self.broker, risk=self.risk, exits=self.exits,
                    executor=self.executor, repos=self.repos, bus=self.bus, clock=self.clock,
            )
            run = SymbolRun(symbol, len(series), series.bars[0].ts_ms, series.bars[-1].ts_ms,
                            series.price(0, OPEN), series.price(-1, CLOSE))
            lane = _Lane(symbol, series, pipeline, self.broker.market(symbol), run, len(series),
                         float_prices=series.prices_are_floats)
            lane.every_candle = self.exits.takes_profit
            lane.signal_at, lane.signal = pipeline.scan(series.bars, 0)
            self._lanes.append(lane)
        equity_ts, equity, in_any = await self._loop()
        for lane in self._lanes:  # held to the end: the position has its peak
            self._flush_peak(lane)
        if self.config.close_at_end:
            await self._close_all()
            if equity:
                equity[-1] = self._cash_f
        for lane in self._lanes:
            lane.run.decisions = dict(lane.pipeline.stats.decisions)
            lane.run.candles_in_position += lane.held
        return EngineResult(
            trades=self._trades, equity_ts_ms=equity_ts, equity=equity,
            symbols={lane.symbol: lane.run for lane in self._lanes},
            start_quote=self.config.start_quote, final_quote=self.broker.balance(self.quote),
            quote=self.quote, candles_in_any_position=in_any, config=self.config,
        )

    # the loop -------------------------------------------------------------------------

    async def _loop(self) -> tuple[list[int], list[float], int]:
        """Time step by time step; at each, the symbols' candles in the order given. A
        candle at or before the step is never skipped, even in a series out of order.

        A lane with neither a decision waiting nor a position has nothing to do until the
        close of its next buy or sell (its signal_at): it sleeps until the step that reaches
        that candle and then skips to it. Only the lanes awake are visited.
        """
        import numpy as np

        step = self.config.timeframe_ms
        lanes = self._lanes
        stamps = [lane.series.stamps() for lane in lanes]
        # reach[i]: the step at which candle i is handled (the latest time up to it)
        reach = [np.maximum.accumulate(ts) for ts in stamps]
        # every distinct time, in order (np.unique hashes integers, slowly for these: numpy
        # 2.4 takes 2 s over ten pairs where sorting takes 50 ms)
        every = np.sort(np.concatenate(stamps))
        new = np.empty(len(every), dtype=bool)
        new[:1] = True
        np.not_equal(every[1:], every[:-1], out=new[1:])
        times: list[int] = every[new].tolist()
        equity_ts: list[int] = (every[new] + step).tolist()  # each step is marked at its close
        total = sum(len(lane.series) for lane in lanes)
        sleeping: list[tuple[int, int]] = []  # (wake step, lane index), a heap
        awake: list[int] = []  # lane indexes, in the order given
        for k, lane in enumerate(lanes):
            self._sleep_or_wake(k, lane, reach[k], sleeping, awake)
        active = [lanes[k] for k in awake]
        progress = self._progress
        holding = self._holding
        equity: list[float] = []
        in_any = 0
        for t, ts in enumerate(times, start=1):
            if sleeping and sleeping[0][0] <= ts:
                while sleeping and sleeping[0][0] <= ts:
                    k = heapq.heappop(sleeping)[1]
                    lanes[k].at = lanes[k].signal_at  # the candles before need nothing
                    bisect.insort(awake, k)
                active = [lanes[k] for k in awake]
            changed = False
            for lane in active:
                bars, i, n = lane.series.bars, lane.at, lane.n
                # a Bar read by index (time 0, high 2, low 3, close 4): a NamedTuple's
                # attributes cost more, and this runs for every candle of a lane awake
                while i < n and (bar := bars[i])[0] <= ts:
                    if lane.pending is not None:
                        await self._act(lane, i, bar)
                    if lane.position is not None:
                        # most candles come near neither the stop nor the peak
                        if bar[3] <= lane.stop_f:
                            await self._stop(lane, i, bar)
                        elif bar[2] >= lane.peak_f:
                            self._peak(lane, i)
                    if i == lane.signal_at:
                        self._decide(lane, i, bar, step)
                    if lane.position is not None:  # the close marks what is held
                        lane.close_f = bar[4]
                        lane.held += 1
                    i += 1
                lane.at = i
                if lane.pending is None and lane.position is None:
                    changed = True
            if changed:
                for k in [k for k in awake if lanes[k].pending is None
                          and lanes[k].position is None]:
                    awake.remove(k)
                    self._sleep_or_wake(k, lanes[k], reach[k], sleeping, awake)
                active = [lanes[k] for k in awake]
            if holding:  # the close marks what is held; the rest is cash
                value = self._cash_f
                for held in holding.values():
                    value += held.base_f * held.close_f
                equity.append(value)
                in_any += 1
            else:
                equity.append(self._cash_f)
            if progress is not None and t % _PROGRESS_EVERY == 0:
                progress(sum(int(np.searchsorted(r, ts, "right")) for r in reach), total)
        if progress is not None:
            progress(total, total)
        return equity_ts, equity, in_any

    @staticmethod
    def _sleep_or_wake(k: int, lane: _Lane, reach: Any, sleeping: list[tuple[int, int]],
                       awake: list[int]) -> None:
        """Put a lane with nothing to do to sleep until the step that reaches its next
        signal (for ever when none comes); a lane with something to do stays awake."""
        if lane.pending is not None or lane.position is not None:
            bisect.insort(awake, k)
        elif lane.signal_at < lane.n:
            heapq.heappush(sleeping, (int(reach[lane.signal_at]), k))

    async def _act(self, lane: _Lane, i: int, bar: Bar) -> None:
        """Step 1 of the module's conventions: the decision waiting is acted on at the open."""
        decision = lane.pending
        assert decision is not None
        lane.pending = None
        self._flush_peak(lane)
        self.clock.set(bar.ts_ms)
        self.board.set_price(lane.symbol, lane.series.price(i, OPEN), bar.ts_ms)
        ticker = self.board.get(lane.symbol)
        assert ticker is not None
        result = await lane.pipeline.act(decision, ticker)
        if result is not None:
            self._after_order(lane, result, bar.ts_ms, SIGNAL)

    async def _stop(self, lane: _Lane, i: int, bar: Bar) -> None:
        """Step 2, for a candle whose low may reach the stop: a breached stop sells at its
        level, or at the open below it; otherwise the peak may still rise."""
        position, stop, series = lane.position, lane.stop, lane.series
        assert position is not None
        if lane.every_candle and bar.low > lane.guard_f:  # the stop is out of reach
            due = bar.high >= lane.roi_f or bar.ts_ms >= lane.roi_until_ms  # else: out of reach
            if not (due and await self._take_profit(lane, i, bar)) and bar.high >= lane.peak_f:
                self._peak(lane, i)
            return
        if stop is None or (low := series.price(i, LOW)) > stop.price:
            if not lane.every_candle or not await self._take_profit(lane, i, bar):
                self._peak(lane, i)
            return
        self._flush_peak(lane)
        self.clock.set(bar.ts_ms)
        open_ = series.price(i, OPEN)
        self.board.set_price(lane.symbol, open_ if open_ < stop.price else stop.price, bar.ts_ms)
        result = await lane.pipeline.check_stops(
            position, trigger_price=low, peak_price=series.price(i, HIGH)
        )
        if result is not None:
            self._after_order(lane, result, bar.ts_ms, ExitReason(stop.reason))

    async def _take_profit(self, lane: _Lane, i: int, bar: Bar) -> bool:
        """A take-profit by age (minimal_roi) that the high reaches sells at its level, or at
        the open above it; True when it sold."""
        position = lane.position
        assert position is not None
        due, lane.roi_until_ms = self.exits.take_profit_until(position, bar.ts_ms)
        lane.roi_f = math.inf if due is None else float(due.price)
        high = lane.series.price(i, HIGH)
        if due is None or high < due.price:
            return False
        self._flush_peak(lane)
        self.clock.set(bar.ts_ms)
        open_ = lane.series.price(i, OPEN)
        self.board.set_price(lane.symbol, open_ if open_ > due.price else due.price, bar.ts_ms)
        result = await lane.pipeline.check_stops(
            position, trigger_price=lane.series.price(i, LOW), peak_price=high)
        if result is not None:
            self._after_order(lane, result, bar.ts_ms, ExitReason(due.reason))
        return result is not None

    def _peak(self, lane: _Lane, i: int) -> None:
        """Step 2 when the low is above the stop: the peak rises to the high.

        When the stop hangs on the entry alone (no trailing stop), a new peak moves nothing:
        the lane keeps it, and it reaches the position (SymbolPipeline.raise_peak, which saves
        it) before the pipeline next reads the position: an order, a stop check, the end
        (_flush_peak). A save at every new high, which only the next read could see, was a
        tenth of a backtest's orders' worth of work."""
        position = lane.position
        assert position is not None
        if not self.exits.follows_peak:
            if lane.float_prices:  # the floats decide; the Decimal is made once, when saved
                high_f = lane.series.bars[i][HIGH]
                if high_f > lane.peak_f:
                    lane.peak_f, lane.peak_at, lane.peak_moved = high_f, i, True
                return
            high = lane.series.price(i, HIGH)
            if high > lane.peak:
                lane.peak, lane.peak_f, lane.peak_at = high, float(high), i
                lane.peak_moved = True
            return
        high = lane.series.price(i, HIGH)
        if high > position.peak:
            lane.pipeline.raise_peak(position, high)
            lane.follow(position, self.exits.stop_level(position))

    @staticmethod
    def _flush_peak(lane: _Lane) -> None:
        """The peak the lane kept (see _peak) onto the position, before the pipeline reads it."""
        if lane.peak_moved and lane.position is not None:
            lane.pipeline.raise_peak(lane.position, lane.series.price(lane.peak_at, HIGH))
        lane.peak_moved = False

    def _decide(self, lane: _Lane, i: int, bar: Bar, step: int) -> None:
        """Step 3 at a close that brings a buy or sell: the decision is made at the close and
        waits for the next open; the strategy reads on to its next one."""
        assert lane.signal is not None
        self.clock.set(bar.ts_ms + step)
        pipeline = lane.pipeline
        lane.pending = pipeline.decision(lane.signal, bar.ts_ms, lane.series.price(i, CLOSE))
        lane.signal_at, lane.signal = pipeline.scan(lane.series.bars, i + 1)

    def _follow(self, lane: _Lane, position: Position | None) -> None:
        lane.follow(position, self.exits.stop_level(position) if position else None)
        if position is None:
            self._holding.pop(lane.symbol, None)
        else:
            self._holding[lane.symbol] = lane

    def _after_order(self, lane: _Lane, result: PlaceResult, ts_ms: int,
                     reason: ExitReason) -> None:
        """Follow a fill into the lane: open a trade on a buy, finish it on a sell."""
        order = result.order
        if result.outcome != "sent" or order is None or order.filled <= 0:
            return
        price = order.avg_price or ZERO
        fee_quote = order.fee if order.fee_currency == lane.market.quote else order.fee * price
        self._cash_f = float(self.broker.balance(self.quote))
        position = self.repos.positions.get(lane.symbol)
        is_open = position.is_open(lane.market.min_amount)
        if order.side is Side.BUY:
            if lane.position is None:
                lane.entry_ts, lane.entry_price = ts_ms, price
                lane.entry_amount, lane.entry_fee_quote = order.filled, fee_quote
                lane.pnl_before = position.realized_pnl
            self._follow(lane, position)
            return
        if is_open:  # a partial exit: keep following what is left
            self._follow(lane, position)
            lane.entry_fee_quote += fee_quote
            return
        self._trades.append(BacktestTrade(  # positional: keywords cost a NamedTuple more
            lane.symbol, lane.entry_ts, ts_ms, lane.entry_price, price, lane.entry_amount,
            position.realized_pnl - lane.pnl_before, reason, lane.entry_fee_quote + fee_quote,
        ))
        self._follow(lane, None)

    async def _close_all(self) -> None:
        """Sell what is still held at the last close, through the executor's exit."""
        step = self.config.timeframe_ms
        for lane in self._lanes:
            if lane.position is None:
                continue
            self._flush_peak(lane)
            ts = lane.series.bars[-1].ts_ms + step
            self.clock.set(ts)
            self.board.set_price(lane.symbol, lane.series.price(-1, CLOSE), ts)
            result = await self.executor.exit(lane.symbol, END_OF_DATA)
            self._after_order(lane, result, ts, END_OF_DATA)
