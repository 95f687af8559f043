"""build_container: the one place that wires objects together from settings.

Tests build their own containers by passing a broker, a feed or a clock; nothing else in the
code base constructs a broker, a feed or a database on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crypto_ai_bot.adapters.candle_files import CandleFileError
from crypto_ai_bot.adapters.feeds import FixedFeed, ReplayFeed, SyntheticFeed
from crypto_ai_bot.adapters.metrics import Metrics, Sources
from crypto_ai_bot.adapters.paper.broker import PaperBroker
from crypto_ai_bot.adapters.paper.ledger import SqliteVenueBook
from crypto_ai_bot.adapters.storage.sqlite.database import Database, open_database
from crypto_ai_bot.adapters.storage.sqlite.instance_lock import InstanceLock
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.application.bus import MessageBus
from crypto_ai_bot.application.dead_mans_switch import DeadMansSwitch, Heartbeats
from crypto_ai_bot.application.execution import ExecutionConfig, OrderExecutor
from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.application.pipeline import PipelineStats, SymbolPipeline
from crypto_ai_bot.application.reconcile.orders import OrdersReconciler
from crypto_ai_bot.application.reconcile.service import Reconciler
from crypto_ai_bot.application.risk import RiskConfig, RiskManager
from crypto_ai_bot.application.strategies import build_strategy
from crypto_ai_bot.application.trading_state import TradingStates
from crypto_ai_bot.config import Settings
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.events import Event, PositionChanged, StopsChecked, audited_events
from crypto_ai_bot.domain.model import split_symbol
from crypto_ai_bot.drivers.live import Orchestrator, OrchestratorConfig
from crypto_ai_bot.ports.broker import Broker
from crypto_ai_bot.ports.clock import Clock, SystemClock
from crypto_ai_bot.ports.feed import PriceFeed
from crypto_ai_bot.ports.storage import Repositories
from crypto_ai_bot.utils.logging import get_logger
from crypto_ai_bot.utils.time import day_start_ms, timeframe_ms

log = get_logger("compose")


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
    broker_ready: bool = False
    broker_error: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    async def start(self) -> None:
        """Lock the instance if configured, load markets; autostart the loops if configured."""
        if self.lock is not None and not self.lock.held:
            self.lock.acquire(self.clock.now_ms())
        try:
            await self.broker.load_markets(self.settings.symbol_list)
            self.broker_ready, self.broker_error = True, ""
        except Exception as exc:
            self.broker_ready, self.broker_error = False, f"{type(exc).__name__}: {exc}"
            log.error("broker_not_ready", error=self.broker_error)
            return
        if self.settings.autostart_effective:
            await self.orchestrator.start()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.orchestrator.stop()
        with contextlib.suppress(Exception):
            await self.feed.close()
        with contextlib.suppress(Exception):
            await self.broker.close()
        if self.lock is not None:
            self.lock.release()
        self.db.close()


def _feed(settings: Settings, clock: Clock, board: PriceBoard, broker: Broker | None) -> PriceFeed:
    step = timeframe_ms(settings.timeframe)
    if settings.price_feed == "fixed":
        return FixedFeed(settings.fixed_price, clock, board, step)
    if settings.price_feed == "synthetic":
        return SyntheticFeed(settings.synthetic_seed, settings.fixed_price, clock, board, step)
    if settings.price_feed == "replay":
        try:
            return ReplayFeed(settings.replay_file, clock, board)
        except (CandleFileError, ValueError) as exc:
            raise ConfigError(f"REPLAY_FILE: {exc}") from None
    from crypto_ai_bot.adapters.exchange.ccxt.feed import LiveFeed

    return LiveFeed.from_settings(settings, clock, board, broker)


def _broker(settings: Settings, clock: Clock, board: PriceBoard, db: Database) -> Broker:
    if settings.mode == "paper":
        quotes = {split_symbol(s)[1] for s in settings.symbol_list}
        start = {q: settings.paper_start_quote for q in sorted(quotes)}
        return PaperBroker(board, clock, fee_pct=settings.paper_fee_pct, start_balances=start,
                           book=SqliteVenueBook(db))
    from crypto_ai_bot.adapters.exchange.ccxt.broker import CcxtBroker

    return CcxtBroker.from_settings(settings, clock)


def _audit_handler(repos: Repositories) -> Any:
    def record(event: Event) -> None:
        repos.audit.record(event.ts_ms, event.topic, event.payload(), event.symbol)

    return record


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
) -> Container:
    """Build every object the bot needs. Raises ConfigError on unusable settings."""
    clock = clock or SystemClock()
    db = db or open_database(settings.db_path)
    repos = SqliteRepositories(db)
    bus = MessageBus()
    audit = _audit_handler(repos)
    for kind in audited_events():  # what happened is on record before anyone acts on it
        bus.subscribe(kind, audit, safety=True)
    metrics = Metrics()
    for kind, count in metrics.handlers():
        bus.subscribe(kind, count)
    states = TradingStates(repos, bus, clock)
    board = PriceBoard()
    broker = broker or _broker(settings, clock, board, db)
    feed = feed or _feed(settings, clock, board, broker)
    executor = OrderExecutor(
        broker, repos, bus, clock,
        ExecutionConfig(
            fixed_amount_quote=settings.fixed_amount,
            idempotency_bucket_ms=settings.idempotency_bucket_ms,
            idempotency_ttl_ms=settings.idempotency_ttl_sec * 1000,
        ),
    )
    extras: dict[str, Any] = {}
    settle_stops = None
    if broker.supports_exchange_stops:
        from crypto_ai_bot.application.exchange_stops import ExchangeStopKeeper

        keeper = ExchangeStopKeeper(
            broker, repos, bus, clock, executor=executor,
            backstop_offset_pct=settings.exchange_stop_offset_pct,
            limit_factor=1 - settings.exchange_stop_limit_pct / 100,
            min_move_pct=settings.exchange_stop_min_move_pct,
            min_interval_ms=settings.exchange_stop_min_interval_sec * 1000,
        )
        bus.subscribe_async(PositionChanged, keeper.follow, safety=True)
        bus.subscribe_async(StopsChecked, keeper.follow, safety=True)
        settle_stops = keeper.settle_fired
        extras["stop_keeper"] = keeper
    risk = RiskManager(
        RiskConfig(
            cooldown_sec=settings.risk_cooldown_sec,
            max_spread_pct=settings.risk_max_spread_pct,
            max_position_base=settings.risk_max_position_base,
            max_orders_per_hour=settings.risk_max_orders_per_hour,
            daily_loss_limit_quote=settings.risk_daily_loss_limit_quote,
        ),
        repos,
    )
    exits = ProtectiveExits(
        ExitsConfig(
            enabled=settings.exits_enabled,
            hard_stop_pct=settings.exits_hard_stop_pct,
            trailing_pct=settings.exits_trailing_pct,
        )
    )
    params: dict[str, Any] = (
        {"fast": settings.ema_fast, "slow": settings.ema_slow}
        if settings.strategy == "ema_cross"
        else {"model_path": settings.ai_model_path}
    )
    pipelines: dict[str, SymbolPipeline] = {}
    for symbol in settings.symbol_list:
        try:
            strategy = build_strategy(settings.strategy, params)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"STRATEGY: {exc}") from None
        pipelines[symbol] = SymbolPipeline(
            symbol, strategy=strategy, feed=feed, broker=broker, risk=risk, exits=exits,
            executor=executor, repos=repos, bus=bus, clock=clock,
        )
        metrics.add_decision_source(_decisions(symbol, pipelines[symbol].stats))
    grace_ms = max(3 * settings.http_timeout_ms, 30_000)
    reconciler = Reconciler(
        broker, repos,
        OrdersReconciler(broker, repos, executor, bus, clock, not_found_grace_ms=grace_ms),
        bus, states, clock,
        before_positions=settle_stops, sending=executor.sending,
    )
    heartbeats = Heartbeats()
    holder: dict[str, Orchestrator] = {}
    dms = DeadMansSwitch(
        heartbeats, clock, settings.dms_timeout_ms,
        on_trip=lambda stale: holder["o"].on_dms_trip(stale, settings.dms_action),
    )
    orchestrator = Orchestrator(
        pipelines, broker=broker, reconciler=reconciler, repos=repos, bus=bus, states=states,
        clock=clock,
        config=OrchestratorConfig(
            evaluate_s=settings.eval_interval_sec,
            exits_s=settings.exits_interval_sec,
            reconcile_s=settings.reconcile_interval_sec,
            watchdog_s=settings.watchdog_interval_sec,
            countdown_s=settings.exchange_countdown_sec if settings.mode == "live" else 0,
        ),
        heartbeats=heartbeats, dms=dms, exits_enabled=settings.exits_enabled,
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
        daily_loss_limit_quote=settings.risk_daily_loss_limit_quote,
    ))
    lock = InstanceLock(db, settings.db_path) if settings.instance_lock_enabled else None
    return Container(
        settings=settings, clock=clock, db=db, repos=repos, bus=bus, metrics=metrics, states=states,
        board=board, feed=feed, broker=broker, executor=executor, pipelines=pipelines,
        reconciler=reconciler, orchestrator=orchestrator, heartbeats=heartbeats, lock=lock,
        extras=extras,
    )

