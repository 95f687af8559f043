"""The one place that builds objects: every mode, the backtest and every command's parts.

- build_container(settings): the trading process, paper or live (what the HTTP server runs);
- backtest_engine / run_backtest: the same pipeline on a simulated clock and venue;
- open_storage, download_client: what the cab-* commands need.

Each part receives its own frozen config (Settings.*_config), never Settings. Tests build
their own containers by passing a broker, a feed or a clock; nothing else in the code base
constructs a broker, a feed or a database on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crypto_ai_bot.adapters.paper.broker import PaperBroker
from crypto_ai_bot.adapters.storage.memory import MemoryRepositories
from crypto_ai_bot.adapters.storage.sqlite.database import Database, open_database
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.execution import ExecutionConfig, OrderExecutor
from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.application.pipeline import PipelineStats, SymbolPipeline
from crypto_ai_bot.application.risk import RiskConfig, RiskManager
from crypto_ai_bot.application.strategies import StrategyContext, build_strategy
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.errors import BotError, ClockSkewed, ConfigError
from crypto_ai_bot.domain.model import Bar, Candle, split_symbol
from crypto_ai_bot.domain.venue import VenueConfig
from crypto_ai_bot.drivers.backtest.engine import (
    BacktestConfig,
    BacktestEngine,
    BacktestParts,
    Progress,
    prepare,
)
from crypto_ai_bot.drivers.backtest.runner import BacktestResult, infer_timeframe_ms, run
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock, ManualClock, SystemClock
from crypto_ai_bot.ports.feed import PriceFeed
from crypto_ai_bot.ports.storage import Repositories, StateRepository
from crypto_ai_bot.ports.strategy import Predictor, Strategy
from crypto_ai_bot.utils.logging import get_logger
from crypto_ai_bot.utils.time import day_start_ms, timeframe_ms

if TYPE_CHECKING:  # what a backtest never uses is imported where it is used (build_container):
    # a backtest is a whole process, and pydantic-settings alone costs it ~0.15 s
    from crypto_ai_bot.adapters.exchange.ccxt.config import ExchangeConfig
    from crypto_ai_bot.adapters.feeds import FeedConfig
    from crypto_ai_bot.adapters.metrics import Metrics
    from crypto_ai_bot.adapters.notify.service import Notifiers
    from crypto_ai_bot.adapters.storage.sqlite.instance_lock import InstanceLock
    from crypto_ai_bot.application.cockpit import CockpitControl, CockpitReader
    from crypto_ai_bot.application.cockpit.recent import RecentCandles
    from crypto_ai_bot.application.dead_mans_switch import Heartbeats
    from crypto_ai_bot.application.event_stream import EventStream
    from crypto_ai_bot.application.reconcile.service import Reconciler
    from crypto_ai_bot.application.strategies.check import Report
    from crypto_ai_bot.application.trading_state import TradingStates
    from crypto_ai_bot.config import Settings
    from crypto_ai_bot.domain.events import Event
    from crypto_ai_bot.drivers.live import Orchestrator

log = get_logger("bootstrap")
# Gate refuses a signed request whose Timestamp is more than 60 s off its clock: half of that
# leaves room for drift while the bot runs
MAX_CLOCK_SKEW_MS = 30_000


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: Database
    repos: Repositories
    bus: MessageBus
    metrics: Metrics
    states: TradingStates
    board: PriceBoard
    feed: PriceFeed
    broker: Broker
    executor: OrderExecutor
    pipelines: dict[str, SymbolPipeline]
    reconciler: Reconciler
    orchestrator: Orchestrator
    heartbeats: Heartbeats
    lock: InstanceLock | None = None
    notifiers: Notifiers | None = None
    broker_ready: bool = False
    broker_error: str = ""
    clock_skew_ms: int = 0  # the exchange's clock minus ours, measured at start
    extras: dict[str, Any] = field(default_factory=dict)
    # the cockpit (api/v1, the notifiers' commands): set by build_container (_add_cockpit)
    cockpit: CockpitReader = field(init=False)
    control: CockpitControl = field(init=False)
    stream: EventStream = field(init=False)

    async def start(self) -> None:
        """Lock the instance if configured, load markets; autostart the loops if configured."""
        if self.lock is not None and not self.lock.held:
            self.lock.acquire(self.clock.now_ms())
        if self.notifiers is not None:
            await self.notifiers.start()
        try:
            await self.broker.load_markets(self.settings.symbol_list)
            self.clock_skew_ms = await self.broker.clock_skew_ms()
            if abs(self.clock_skew_ms) > MAX_CLOCK_SKEW_MS:
                raise ClockSkewed(
                    f"the exchange's clock is {self.clock_skew_ms / 1000:+.1f} s from this "
                    f"machine's (Gate refuses signed requests beyond 60 s): set the system "
                    f"clock right (NTP) and start again")
            session = session_settings(self.settings)
            if self.settings.mode == "live":  # markets are public: a private call tests the keys
                quote = split_symbol(self.settings.symbol_list[0])[1]
                held = (await self.broker.fetch_balance()).get(quote)
                if held is not None:  # what a backtest of this session starts with
                    session["start_quote"] = str(held.free)
            self.broker_ready, self.broker_error = True, ""
        except Exception as exc:
            self.broker_ready, self.broker_error = False, f"{type(exc).__name__}: {exc}"
            log.error("broker_not_ready", error=self.broker_error)
            return
        from crypto_ai_bot.domain.events import SessionStarted

        self.bus.publish(SessionStarted(self.clock.now_ms(), "", self.settings.mode, session))
        if self.settings.autostart_effective:
            await self.orchestrator.start()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.orchestrator.stop()
        if self.notifiers is not None:  # after the stop, which they announce
            with contextlib.suppress(Exception):
                await self.notifiers.close()
        with contextlib.suppress(Exception):
            await self.feed.close()
        with contextlib.suppress(Exception):
            await self.broker.close()
        if self.lock is not None:
            self.lock.release()
        self.db.close()


def candle_key(settings: Settings) -> str:
    """The timeframe the bot's evaluated candles are stored under: the feed's for a real
    market; tagged with the feed for a made-up one (5m@synthetic, 5m@replay), so that its
    candles never mix with a real market's that cab-data imported."""
    kind = settings.feed_config.kind
    return settings.timeframe if kind == "live" else f"{settings.timeframe}@{kind}"


def session_settings(settings: Settings) -> dict[str, Any]:
    """What a session trades by, as its audit records it (session.started) and
    cab-backtest --compare reads it back: the backtest of the same strategy and settings.
    A live session's start_quote is then its quote balance free at start (Container.start)."""
    from crypto_ai_bot.application.strategies import parse_params

    r, x, v = settings.risk_config, settings.exits_config, settings.venue_config
    try:  # the parameters in use: typed, the defaults filled in
        params = parse_params(settings.strategy, settings.strategy_kwargs)
    except (ValueError, OSError, ImportError):
        params = dict(settings.strategy_kwargs)
    return {
        "symbols": settings.symbol_list, "timeframe": settings.timeframe,
        "strategy": settings.strategy, "params": params,
        "stake": str(settings.fixed_amount), "fee_pct": str(v.fee_pct),
        "start_quote": str(v.start_quote), "exits_enabled": x.enabled,
        "hard_stop_pct": str(x.hard_stop_pct), "trailing_pct": str(x.trailing_pct),
        "risk": {"cooldown_sec": r.cooldown_sec, "max_spread_pct": str(r.max_spread_pct),
                 "max_position_base": str(r.max_position_base),
                 "max_orders_per_hour": r.max_orders_per_hour,
                 "daily_loss_limit_quote": str(r.daily_loss_limit_quote)},
        "feed": settings.feed_config.kind,
    }


def _feed(config: FeedConfig, exchange: ExchangeConfig, clock: Clock, board: PriceBoard,
          broker: Broker | None, state: StateRepository, history: int = 0) -> PriceFeed:
    """The configured feed; the synthetic and replay ones note in `state` where they are, so
    that a restart resumes there. history: the candles a first poll must bring at least (a
    vectorised strategy's startup_candle_count + 1), beyond each feed's own warm-up."""
    from crypto_ai_bot.adapters.candle_files import CandleFileError
    from crypto_ai_bot.adapters.feeds import FixedFeed, ReplayFeed, SyntheticFeed

    step = timeframe_ms(config.timeframe)
    if config.kind == "fixed":
        return FixedFeed(config.fixed_price, clock, board, step)
    if config.kind == "synthetic":
        return SyntheticFeed(config.synthetic_seed, config.fixed_price, clock, board, step,
                             state=state, **({"warmup": max(60, history)} if history else {}))
    if config.kind == "replay":
        try:
            return ReplayFeed(config.replay_file, clock, board, state=state,
                              **({"warmup": max(60, history)} if history else {}))
        except (CandleFileError, ValueError) as exc:
            raise ConfigError(f"REPLAY_FILE: {exc}") from None
    from crypto_ai_bot.adapters.exchange.ccxt.feed import LiveFeed  # needs ccxt: lazy

    feed = LiveFeed.from_config(exchange, config.timeframe, clock, board, broker,
                                symbols=config.symbols,
                                tickers_max_age_ms=config.tickers_max_age_ms)
    if history:
        feed.warm_up(min(max(100, history), 1000))  # one request: Gate serves 1000 at most
    return feed


def _broker(settings: Settings, clock: Clock, board: PriceBoard, db: Database) -> Broker:
    if settings.mode == "paper":
        from crypto_ai_bot.adapters.paper.ledger import SqliteVenueBook

        venue = settings.venue_config
        quotes = {split_symbol(s)[1] for s in settings.symbol_list}
        start = {q: venue.start_quote for q in sorted(quotes)}
        return PaperBroker(board, clock, fee_pct=venue.fee_pct, start_balances=start,
                           book=SqliteVenueBook(db), rules=venue.rules)
    from crypto_ai_bot.adapters.exchange.ccxt.broker import CcxtBroker  # needs ccxt: lazy

    return CcxtBroker.from_config(settings.exchange_config, clock)


def strategy_context() -> StrategyContext:
    """What strategies may need from the adapters: the AI model loader (imported when used)."""
    def load_model(path: str) -> tuple[Predictor, Mapping[str, Any]]:
        from crypto_ai_bot.adapters.ml.model import load_model_dir

        return load_model_dir(path)

    return StrategyContext(load_model=load_model)


def _while_storage_records(
    states: TradingStates, follow: Callable[[Any], Awaitable[None]],
) -> Callable[[Any], Awaitable[None]]:
    """The exchange-side stop keeper places no stop while the database cannot record its id
    (the stop already on record keeps guarding; the keeper catches up once storage is back)."""
    async def guarded(event: Any) -> None:
        if states.storage_ok:
            await follow(event)

    return guarded


def _audit_handler(repos: Repositories) -> Callable[[Event], None]:
    def record(event: Event) -> None:
        repos.audit.record(event.ts_ms, event.topic, event.payload(), event.symbol)

    return record


def _notifiers(c: Container, risk: RiskManager) -> Notifiers | None:
    """Telegram and the webhook, when configured: non-safety handlers that only enqueue;
    Telegram's commands answered by the cockpit's services."""
    config = c.settings.notify_config
    if not (config.telegram or config.webhook):
        return None
    from crypto_ai_bot.adapters.notify.service import Notifiers
    from crypto_ai_bot.application.chat_commands import ChatCommands

    def market(symbol: str) -> Any:
        try:
            return c.broker.market(symbol)
        except Exception:  # markets not loaded yet: prices shown to the cent
            return None

    notifiers = Notifiers(config, trades=c.repos.trades, orders=c.repos.orders, market=market,
                          commands=ChatCommands(c.cockpit, c.control).answer,
                          loss_limit=lambda: risk.config.daily_loss_limit_quote)  # reloadable
    for kind, handle in notifiers.handlers():
        c.bus.subscribe(kind, handle)
    c.metrics.registry.register(notifiers.collector())
    return notifiers


def _decisions(symbol: str, stats: PipelineStats) -> Callable[[], Iterator[tuple[str, str, int]]]:
    return lambda: ((symbol, a, n) for a, n in stats.decisions.items())


def _daily_pnl(repos: Repositories, clock: Clock) -> Decimal:
    now = clock.now_ms()
    return repos.trades.realized_pnl_between(day_start_ms(now), now + 1)


def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    broker: Broker | None = None,
    feed: PriceFeed | None = None,
    db: Database | None = None,
    reload_settings: Callable[[], Settings] | None = None,
) -> Container:
    """Build every object the trading process needs. Raises ConfigError on unusable settings.

    reload_settings: where the cockpit's reload reads the settings again (default: the
    environment and `.env`, as at start)."""
    from crypto_ai_bot.adapters.metrics import Metrics, Sources
    from crypto_ai_bot.adapters.storage.sqlite.instance_lock import InstanceLock
    from crypto_ai_bot.adapters.storage.sqlite.schema_check import check_tables
    from crypto_ai_bot.application.dead_mans_switch import DeadMansSwitch, Heartbeats
    from crypto_ai_bot.application.reconcile.orders import OrdersReconciler
    from crypto_ai_bot.application.reconcile.service import Reconciler
    from crypto_ai_bot.application.trading_state import TradingStates
    from crypto_ai_bot.domain.commands import SetTradingState
    from crypto_ai_bot.domain.events import PositionChanged, StopsChecked, audited_events
    from crypto_ai_bot.drivers.live import Orchestrator

    clock = clock or SystemClock()
    db = db or open_database(settings.db_path)
    check_tables(db)  # a table missing at the latest version: refuse now, not mid-trade
    repos = SqliteRepositories(db)
    bus = MessageBus()
    audit = _audit_handler(repos)
    for kind in audited_events():  # what happened is on record before anyone acts on it
        bus.subscribe(kind, audit, safety=True)
    metrics = Metrics(timeframe_ms=timeframe_ms(settings.timeframe))
    for kind, count in metrics.handlers():
        bus.subscribe(kind, count)
    states = TradingStates(repos, bus, clock)
    board = PriceBoard()
    broker = broker or _broker(settings, clock, board, db)
    context = strategy_context()
    exits_config, history = _checked_strategy(settings, context)
    feed = feed or _feed(settings.feed_config, settings.exchange_config, clock, board, broker,
                         repos.state, history)
    feed = recent = _recent_candles(feed, clock)  # the cockpit's chart keeps what is polled
    executor = OrderExecutor(broker, repos, bus, clock, settings.execution_config,
                             on_storage_fault=states.storage_fault)
    extras: dict[str, Any] = {}
    settle_stops = None
    if broker.supports_exchange_stops:
        from crypto_ai_bot.application.exchange_stops import ExchangeStopKeeper

        keeper = ExchangeStopKeeper(broker, repos, bus, clock, executor=executor,
                                    config=settings.stop_keeper_config)
        follow = _while_storage_records(states, keeper.follow)
        bus.subscribe_async(PositionChanged, follow, safety=True)
        bus.subscribe_async(StopsChecked, follow, safety=True)
        settle_stops = keeper.settle_fired
        extras["stop_keeper"] = keeper
    risk = RiskManager(settings.risk_config, repos, trading_state=lambda: states.current)
    exits = ProtectiveExits(exits_config)
    def pipeline(symbol: str) -> SymbolPipeline:
        """The symbol's pipeline, its decisions counted on /metrics."""
        try:
            strategy = build_strategy(settings.strategy, settings.strategy_kwargs,
                                      replace(context, symbol=symbol))
        except (ValueError, OSError) as exc:
            raise ConfigError(f"STRATEGY: {exc}") from None
        except ImportError as exc:  # STRATEGY=ai without LightGBM
            raise ConfigError(
                f"STRATEGY={settings.strategy} needs {exc.name or 'a library not installed'}: "
                "pip install 'crypto-ai-bot[ai]'"
            ) from None
        made = SymbolPipeline(
            symbol, strategy=strategy, feed=feed, broker=broker, risk=risk, exits=exits,
            executor=executor, repos=repos, bus=bus, clock=clock,
            timeframe=candle_key(settings),  # it stores the candles it evaluates (--compare)
        )
        metrics.add_decision_source(_decisions(symbol, made.stats))
        return made

    pipelines = {symbol: pipeline(symbol) for symbol in settings.symbol_list}
    grace_ms = max(3 * settings.http_timeout_ms, 30_000)
    reconciler = Reconciler(
        broker, repos,
        OrdersReconciler(broker, repos, executor, bus, clock, not_found_grace_ms=grace_ms),
        bus, states, clock,
        before_positions=settle_stops, sending=executor.sending,
    )
    heartbeats = Heartbeats()
    loops = settings.loops_config
    holder: dict[str, Orchestrator] = {}
    dms = DeadMansSwitch(
        heartbeats, clock, loops.dms_timeout_ms,
        on_trip=lambda stale: holder["o"].on_dms_trip(stale, loops.dms_action),
    )
    orchestrator = Orchestrator(
        pipelines, broker=broker, reconciler=reconciler, repos=repos, bus=bus, states=states,
        clock=clock, config=loops, heartbeats=heartbeats, dms=dms,
        exits_enabled=settings.exits_enabled, on_loop_lag=metrics.loop_lag.observe,
    )
    holder["o"] = orchestrator
    bus.register(SetTradingState, orchestrator.set_trading_state)
    metrics.watch(Sources(
        running=lambda: orchestrator.running,
        beats=heartbeats.snapshot,
        dms_tripped=lambda: dms.tripped,
        trading_state=lambda: states.current.value,
        daily_pnl=lambda: _daily_pnl(repos, clock),
        positions=lambda: {p.symbol: p.base_amount for p in repos.positions.all()},
        daily_loss_limit_quote=lambda: risk.config.daily_loss_limit_quote,  # reloadable
        unprotected=extras["stop_keeper"].unprotected if "stop_keeper" in extras else dict,
    ))
    lock = InstanceLock(db, settings.db_path) if settings.instance_lock_enabled else None
    log.info("settings", **settings.public_view())
    container = Container(
        settings=settings, clock=clock, db=db, repos=repos, bus=bus, metrics=metrics,
        states=states, board=board, feed=feed, broker=broker, executor=executor,
        pipelines=pipelines, reconciler=reconciler, orchestrator=orchestrator,
        heartbeats=heartbeats, lock=lock, extras=extras,
    )
    resymbol = _symbol_changer(container, pipeline)
    _add_cockpit(container, risk, exits, context, reload_settings, recent, resymbol)
    container.notifiers = _notifiers(container, risk)
    return container


def _stored_as(s: Settings) -> str:
    """The key the pipeline stores its evaluated candles under (the reports branch's
    candle_key): the timeframe for a real market, tagged with a made-up feed's kind."""
    kind = s.feed_config.kind
    return s.timeframe if kind == "live" else f"{s.timeframe}@{kind}"


def _recent_candles(feed: PriceFeed, clock: Clock) -> RecentCandles:
    from crypto_ai_bot.application.cockpit.recent import keeping

    return keeping(feed, clock)


def _symbol_changer(
    c: Container, pipeline: Callable[[str], SymbolPipeline],
) -> Callable[[tuple[str, ...]], Awaitable[str]] | None:
    """The cockpit's reload of SYMBOL/SYMBOLS: the loops stop, the pipelines are added and
    removed, the loops start again (reconcile first, as at every start). Refused, with nothing
    changed, for a symbol dropped while it holds a position, an order not final or a resting
    stop, a symbol of another quote currency, one the exchange does not list, and a replayed
    file (one symbol's)."""
    if c.settings.feed_config.kind == "replay":
        return None
    quote = split_symbol(c.settings.symbol_list[0])[1]

    def busy(symbol: str) -> str:
        try:
            dust = c.broker.market(symbol).min_amount
        except BotError:
            dust = Decimal(0)
        if c.repos.positions.get(symbol).is_open(dust):
            return "holds a position"
        if c.repos.orders.not_final(symbol):
            return "has an order not final"
        if c.repos.stops.active(symbol):
            return "has a resting exchange-side stop"
        return ""

    one_at_a_time = asyncio.Lock()

    async def resymbol(symbols: tuple[str, ...]) -> str:
        async with one_at_a_time:
            return await change(symbols)

    async def change(symbols: tuple[str, ...]) -> str:
        now = c.pipelines
        added = [s for s in symbols if s not in now]
        dropped = [s for s in now if s not in symbols]
        if not symbols:
            raise ConfigError("SYMBOLS: no symbol left to trade")
        other = [s for s in added if split_symbol(s)[1] != quote]
        if other:
            raise ConfigError(f"SYMBOLS: {', '.join(other)}: not in {quote}, the quote "
                              f"currency this process trades in (a restart can change it)")
        held = [f"{s} {why}" for s in dropped if (why := busy(s))]
        if held:
            raise ConfigError(f"SYMBOLS: cannot drop {'; '.join(held)} (close it first)")
        if added:
            try:
                await c.broker.load_markets(list(symbols))
                for s in added:  # priced by the feed (paper lists any market; a feed does not)
                    await c.feed.ticker(s)
            except BotError as exc:
                raise ConfigError(f"SYMBOLS: {exc}") from None
        fresh = {s: pipeline(s) for s in added}  # a strategy that cannot be built: refused
        running = c.orchestrator.running
        if running:
            await c.orchestrator.stop()
        kept = {s: now.get(s) or fresh[s] for s in symbols}  # in the order the settings give
        now.clear()  # the one dict the orchestrator, reconcile and the cockpit read
        now.update(kept)
        said = [f"added {', '.join(added)}"] if added else []
        said += [f"dropped {', '.join(dropped)}"] if dropped else []
        if running:
            try:
                await c.orchestrator.start()
            except BotError as exc:  # the symbols changed: the loops are the operator's now
                log.error("loops_not_restarted", error=str(exc))
                said.append(f"the loops did not start again: {exc} (POST /api/v1/start)")
        return "; ".join(said) or "symbols reordered"

    return resymbol


def _add_cockpit(c: Container, risk: RiskManager, exits: ProtectiveExits,
                 context: StrategyContext, reload_settings: Callable[[], Settings] | None,
                 recent: RecentCandles,
                 resymbol: Callable[[tuple[str, ...]], Awaitable[str]] | None = None) -> None:
    """The cockpit's reader, control and live stream (issue 12), on the container."""
    from crypto_ai_bot.application.cockpit import (
        CockpitConfig,
        CockpitControl,
        CockpitParts,
        CockpitReader,
        ControlParts,
        Reread,
    )
    from crypto_ai_bot.application.event_stream import EventStream
    from crypto_ai_bot.config import SECRET_BEARING, load_settings
    from crypto_ai_bot.domain.events import audited_events

    def broker_ready() -> tuple[bool, str]:
        return c.broker_ready, "" if c.broker_ready else (c.broker_error or "not loaded")

    def strategy() -> Strategy:
        s = c.settings
        return build_strategy(s.strategy, s.strategy_kwargs, context)

    def settings_view() -> dict[str, Any]:
        return {name.upper(): ("***" if value else "") if name in SECRET_BEARING else value
                for name, value in c.settings.public_view().items()}

    def reread() -> Reread:
        new = (reload_settings or load_settings)()
        old_raw, new_raw = _comparable(c.settings), _comparable(new)
        shown = new.public_view()
        before = c.settings.public_view()
        changed = {k: (before.get(k), shown.get(k)) for k, v in new_raw.items()
                   if old_raw.get(k) != v}

        def commit() -> None:
            c.settings = new

        return Reread(changed, new.risk_config, new.exits_config, new.execution_config,
                      new.stop_keeper_config, commit, tuple(new.symbol_list))

    def _comparable(s: Settings) -> dict[str, Any]:
        return {k: v.get_secret_value() if hasattr(v, "get_secret_value") else v
                for k, v in s.model_dump().items()}

    s = c.settings
    o = c.orchestrator
    c.cockpit = CockpitReader(
        CockpitParts(
            clock=c.clock, repos=c.repos, broker=c.broker, board=c.board, states=c.states,
            heartbeats=c.heartbeats, pipelines=c.pipelines, running=lambda: o.running,
            started_ms=lambda: o.started_ms, broker_ready=broker_ready, strategy=strategy,
            settings=settings_view, stop_keeper=c.extras.get("stop_keeper"), recent=recent,
        ),
        CockpitConfig(mode=s.mode, quote=split_symbol(s.symbol_list[0])[1],
                      timeframe=s.timeframe, stored_timeframe=_stored_as(s),
                      balance_cache_ms=2_000 if s.mode == "live" else 0),  # paper's is local
    )
    c.control = CockpitControl(ControlParts(
        clock=c.clock, bus=c.bus, states=c.states, executor=c.executor, risk=risk, exits=exits,
        pipelines=c.pipelines, start=o.start, stop=o.stop, running=lambda: o.running,
        broker_ready=broker_ready, reread=reread, stop_keeper=c.extras.get("stop_keeper"),
        resymbol=resymbol,
    ))
    c.stream = EventStream()
    for kind in audited_events():  # after the audit: what a client sees is on record
        c.bus.subscribe(kind, c.stream.handle)


# the backtest ---------------------------------------------------------------------------

Number = Decimal | int | str | float


def _dec(x: Number) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))


def backtest_engine(
    candles: Mapping[str, CandleSeries | Sequence[Candle]],
    config: BacktestConfig,
    *,
    progress: Progress | None = None,
    strategy_factory: Callable[[str], Strategy] | None = None,
    record: str | None = None,
    engine: type[BacktestEngine] = BacktestEngine,
) -> BacktestEngine:
    """The live pipeline's objects over a simulated venue and clock, for `candles`.

    strategy_factory(symbol) replaces the registry's strategy (tests script signals with
    it). record: a SQLite file that keeps the run's orders and fills (created and migrated
    if needed; it should hold no other run's orders); else they stay in memory.
    """
    series, quote = prepare(candles)
    clock = ManualClock(min(cs.bars[0].ts_ms for cs in series.values()))
    repos: Repositories
    if record:
        db = Database(record, durable=False)  # a run made again at will: no fsync a commit
        db.migrate()
        repos = SqliteRepositories(db)
    else:
        repos = MemoryRepositories()
    bus = MessageBus()  # nothing listens: a backtest builds no event
    board = PriceBoard()
    venue = config.venue
    broker = PaperBroker(board, clock, fee_pct=venue.fee_pct,
                         start_balances={quote: venue.start_quote}, rules=venue.rules)
    # A bucket of one candle: two entries of a symbol can never share a candle anyway.
    execution = replace(config.execution, idempotency_bucket_ms=config.timeframe_ms)
    executor = OrderExecutor(broker, repos, bus, clock, execution)
    if strategy_factory is None:
        context = strategy_context()
        build_strategy(config.strategy, config.params, context)  # refuse bad ones up front
        check_timeframe(config.strategy, config.timeframe_ms)

        def strategy_factory(symbol: str) -> Strategy:
            return build_strategy(config.strategy, config.params, replace(context, symbol=symbol))

    parts = BacktestParts(clock, board, broker, repos, bus, executor,
                          RiskManager(config.risk, repos), ProtectiveExits(config.exits),
                          strategy_factory)
    return engine(series, quote, config, parts, progress=progress)


def run_backtest(
    candles: Mapping[str, CandleSeries | Sequence[Candle]] | CandleSeries | Sequence[Candle],
    *,
    strategy: str = "ema_cross",
    params: Mapping[str, Any] | None = None,
    symbol: str = "BTC/USDT",
    timeframe_ms: int | None = None,
    stop_pct: Number = 2,
    trailing_pct: Number = 0,
    fee_pct: Number = "0.1",
    stake: Number = 1000,
    start_quote: Number = 10000,
    risk: RiskConfig | None = None,
    close_at_end: bool = True,
    progress: Progress | None = None,
    record: str | None = None,
    strategy_factory: Callable[[str], Strategy] | None = None,
) -> BacktestResult:
    """Backtest one series (named `symbol`) or several (a mapping symbol -> candles), the
    reference conditions by default (a 2 % stop, 0.1 % fee, 1000 a trade, no risk limits):
    what cab-train and the tests compare against. cab-backtest simulates the configured bot.

    Candles must be sorted, one per timestamp (see domain.candles.check_series). Percentages
    and money accept Decimal, int or str; a float is taken by its shortest repr. Raises
    ValueError on unusable input (no candles, unknown strategy or parameter).
    """
    given = dict(candles) if isinstance(candles, Mapping) else {symbol: candles}
    by_symbol = {s: cs if isinstance(cs, CandleSeries) else CandleSeries.of(cs)
                 for s, cs in given.items()}
    if not by_symbol or not all(map(len, by_symbol.values())):
        raise ValueError("no candles to backtest")
    step = timeframe_ms or infer_timeframe_ms(next(iter(by_symbol.values())).bars)
    config = reference_config(
        step, strategy=strategy, params=params, stop_pct=stop_pct, trailing_pct=trailing_pct,
        fee_pct=fee_pct, stake=stake, start_quote=start_quote, risk=risk,
        close_at_end=close_at_end,
    )
    config = replace(config, exits=strategy_exits(strategy, config.exits))
    return run(backtest_engine(by_symbol, config, progress=progress, record=record,
                               strategy_factory=strategy_factory))


def reference_config(
    timeframe_ms: int, *, strategy: str = "ema_cross", params: Mapping[str, Any] | None = None,
    stop_pct: Number = 2, trailing_pct: Number = 0, fee_pct: Number = "0.1",
    stake: Number = 1000, start_quote: Number = 10000, risk: RiskConfig | None = None,
    close_at_end: bool = True,
) -> BacktestConfig:
    """A BacktestConfig in the reference conditions, each overridable by name."""
    return BacktestConfig(
        execution=ExecutionConfig(fixed_amount_quote=_dec(stake)),
        exits=ExitsConfig(enabled=True, hard_stop_pct=_dec(stop_pct),
                          trailing_pct=_dec(trailing_pct)),
        risk=risk or RiskConfig(),
        venue=VenueConfig(fee_pct=_dec(fee_pct), start_quote=_dec(start_quote)),
        strategy=strategy, params=dict(params or {}), timeframe_ms=timeframe_ms,
        close_at_end=close_at_end,
    )


# a strategy's own exits and timeframe, and the check before it trades ---------------------


def strategy_exits(strategy: str, exits: ExitsConfig,
                   keep: Mapping[str, Any] | None = None) -> ExitsConfig:
    """The exits `strategy` trades with: what it declares itself (a vectorised strategy's
    stoploss, trailing_stop*, minimal_roi) over `exits`, then `keep` (the fields the operator
    set explicitly, by flag or variable) over both."""
    from crypto_ai_bot.application.strategies import entry

    own = entry(strategy).exits
    out = own(exits) if own is not None else exits
    return replace(out, **keep) if keep else out


def check_timeframe(strategy: str, step_ms: int) -> None:
    """ValueError when the strategy is written for another timeframe than the candles'."""
    from crypto_ai_bot.application.strategies import entry

    written = entry(strategy).timeframe
    if written and timeframe_ms(written) != step_ms:
        raise ValueError(f"{strategy} is written for {written} candles (its timeframe), these"
                         f" are {step_ms // 60_000} min ones")


def fast_check(strategy: str, params: Mapping[str, Any] | None, bars: Sequence[Bar],
               data: Sequence[str] = (), context: StrategyContext | None = None) -> Report:
    """The fast part of `cab-strategy check` (lookahead on a few cuts, a file read of the
    candles, determinism, live against backtest), on the first 1000 of `bars` (three times
    the strategy's warm-up when that is more)."""
    from crypto_ai_bot.application.strategies.check import check

    return check(strategy, bars, params=params, data=data, cuts=6, fast=True,
                 context=context or strategy_context())


def _checked_strategy(settings: Settings, context: StrategyContext) -> tuple[ExitsConfig, int]:
    """The live start-up's strategy checks: its timeframe, the fast check on a synthetic
    series of the timeframe (unless STRATEGY_CHECK=false, which is logged loudly); the exits
    it trades with (what it declares over the EXITS_* settings), and the history
    a vectorised one needs from the feed's first poll (its startup + 1 candles; else 0)."""
    from crypto_ai_bot.application.strategies.check import synthetic_bars
    from crypto_ai_bot.application.strategies.vector import VectorStrategy

    name = settings.strategy
    try:
        check_timeframe(name, timeframe_ms(settings.timeframe))
        if settings.strategy_check:
            report = fast_check(name, settings.strategy_kwargs,
                                synthetic_bars(1000, timeframe_ms(settings.timeframe)),
                                context=context)
            if not report.ok:
                raise ConfigError(f"STRATEGY: the strategy check failed: {report.summary()};"
                                  " `cab-strategy check` shows it all (STRATEGY_CHECK=false"
                                  " overrides)")
        else:
            log.warning("strategy_check_skipped", strategy=name,
                        reason="STRATEGY_CHECK=false: lookahead is not ruled out")
        probe = build_strategy(name, settings.strategy_kwargs, context)
        history = probe.warmup_candles + 1 if isinstance(probe, VectorStrategy) else 0
        return strategy_exits(name, settings.exits_config), history
    except (ValueError, OSError) as exc:
        raise ConfigError(f"STRATEGY: {exc}") from None
    except ImportError:  # STRATEGY=ai without LightGBM: building it below says so
        return settings.exits_config, 0


def backtest_result(candles: Mapping[str, CandleSeries], config: BacktestConfig) -> BacktestResult:
    """One backtest to its result: what each optimiser trial runs (drivers/optimize receives
    this function, as it may not build the adapters; a module-level function, it pickles into
    the worker processes)."""
    return run(backtest_engine(candles, config))


# what the commands need ------------------------------------------------------------------

@contextlib.contextmanager
def open_storage(path: str) -> Iterator[SqliteRepositories]:
    """The bot's SQLite database at path (created and migrated if needed), closed after."""
    db = open_database(path)
    try:
        yield SqliteRepositories(db)
    finally:
        db.close()


def download_client(settings: Settings) -> Any:
    """A public ccxt client of the configured exchange, for cab-data download."""
    from crypto_ai_bot.adapters.exchange.ccxt.broker import api_url
    from crypto_ai_bot.adapters.exchange.ccxt.client import build_ccxt_exchange

    cfg = settings.exchange_config
    return build_ccxt_exchange(cfg.exchange, api_url=api_url(cfg.exchange, cfg.api_url),
                               sandbox=cfg.sandbox, timeout_ms=cfg.timeout_ms)
