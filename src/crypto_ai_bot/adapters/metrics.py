"""Prometheus metrics, one registry per container (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from crypto_ai_bot.domain.events import (
    DeadMansSwitchTripped,
    Event,
    ExitTriggered,
    FillRecorded,
    OrderClosed,
    OrderOutcomeUnknown,
    OrderRejected,
    OrderSent,
    PositionChecked,
    RiskDenied,
    StopUnprotected,
    UnknownStopFound,
)

DecisionSource = Callable[[], Iterable[tuple[str, str, int]]]
M = TypeVar("M", Counter, Gauge, Histogram)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_IN_PROCESS_BUCKETS = (50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3,
                       0.1, 0.25, 1.0)
_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_STATES = ("ACTIVE", "REDUCING", "HALTED")


class _DecisionsCollector(Collector):
    def __init__(self, sources: list[DecisionSource]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "cab_decisions", "Decisions made, by action", labels=["symbol", "action"]
        )
        for source in self._sources:
            for symbol, action, count in source():
                family.add_metric([symbol, action], count)
        yield family


class _Readings(Collector):
    """Gauges read from the bot's own state when Prometheus scrapes: nothing in a trading
    loop sets them, and they are never stale."""

    def __init__(self, sources: Sources) -> None:
        self._s = sources

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self._s
        running = GaugeMetricFamily("cab_orchestrator_running",
                                    "1 while the trading loops run")
        running.add_metric([], 1 if s.running() else 0)
        yield running
        beats = GaugeMetricFamily("cab_loop_last_beat_timestamp_seconds",
                                  "Last heartbeat of each loop (epoch s)", labels=["loop"])
        for loop, ts in sorted(s.beats().items()):
            beats.add_metric([loop], ts / 1000)
        yield beats
        tripped = GaugeMetricFamily("cab_dms_tripped", "1 after the dead man's switch tripped")
        tripped.add_metric([], 1 if s.dms_tripped() else 0)
        yield tripped
        state = GaugeMetricFamily("cab_trading_state", "1 for the current trading state",
                                  labels=["state"])
        now = s.trading_state()
        for name in _STATES:
            state.add_metric([name], 1 if name == now else 0)
        yield state
        pnl = s.daily_pnl()
        daily = GaugeMetricFamily("cab_daily_realized_pnl_quote",
                                  "Realised PnL of the current UTC day (quote)")
        daily.add_metric([], float(pnl))
        yield daily
        limit = s.daily_loss_limit_quote
        if callable(limit):  # the risk gate's own, which a reload may change
            limit = limit()
        reached = GaugeMetricFamily("cab_daily_loss_limit_reached",
                                    "1 while the daily loss limit blocks entries")
        reached.add_metric([], 1 if limit and -pnl >= limit else 0)
        yield reached
        positions = GaugeMetricFamily("cab_position_base", "Open position (base amount)",
                                      labels=["symbol"])
        for symbol, base in sorted(s.positions().items()):
            positions.add_metric([symbol], float(base))
        yield positions
        bare = GaugeMetricFamily("cab_position_unprotected",
                                 "1 while an open position has no resting exchange-side stop",
                                 labels=["symbol"])
        unprotected = s.unprotected()
        for symbol in sorted(s.positions()):
            bare.add_metric([symbol], 1 if symbol in unprotected else 0)
        yield bare


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the read-at-scrape gauges come from (the bootstrap wires them)."""

    running: Callable[[], bool]
    beats: Callable[[], dict[str, int]]
    dms_tripped: Callable[[], bool]
    trading_state: Callable[[], str]
    daily_pnl: Callable[[], Decimal]
    positions: Callable[[], dict[str, Decimal]]
    daily_loss_limit_quote: Decimal | Callable[[], Decimal] = Decimal(0)  # 0 = no limit
    unprotected: Callable[[], dict[str, str]] = dict  # symbol -> why it has no resting stop


class Metrics:
    """Every metric the bot exports (ops/prometheus/alerts.yml uses these names).

    Counters follow the message bus (`handlers`); gauges are read from the bot's state when
    scraped (`watch`). Nothing in the application layer knows Prometheus.
    """

    def __init__(self, *, timeframe_ms: int = 0) -> None:
        self.timeframe_ms = timeframe_ms  # a candle closes this long after it opens
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.up = Gauge("cab_up", "1 while the bot process serves", registry=r)
        self.dms_trips = Counter("cab_dms_trips", "Dead man's switch trips", registry=r)
        self.reconcile_mismatch = Gauge(
            "cab_reconcile_mismatch", "1 while a symbol's position differs from the exchange",
            ["symbol"], registry=r,
        )
        self.reconcile_mismatches = Counter(
            "cab_reconcile_mismatches", "Reconcile mismatches found", ["symbol", "kind"],
            registry=r,
        )
        self._decision_sources: list[DecisionSource] = []
        r.register(_DecisionsCollector(self._decision_sources))
        self.orders = Counter(
            "cab_orders", "Orders by final answer", ["symbol", "side", "status"], registry=r
        )
        self.order_errors = Counter(
            "cab_order_errors", "Order requests that failed", ["symbol", "kind"], registry=r
        )
        self.fills = Counter("cab_fills", "Fills recorded", ["symbol", "side"], registry=r)
        self.risk_denials = Counter(
            "cab_risk_denials", "Entries denied by risk", ["symbol", "rule"], registry=r
        )
        self.exits = Counter(
            "cab_exit_triggers", "Protective exits triggered", ["symbol", "reason"], registry=r
        )
        self.unknown_stops = Counter(
            "cab_exchange_stops_unknown", "Price orders found that the bot cannot account for",
            ["symbol"], registry=r,
        )
        self.stop_failures = Counter(
            "cab_exchange_stop_failures", "Exchange-side stops that could not be placed",
            ["symbol"], registry=r,
        )
        # latency (docs/performance.md): from a candle's close, and in the process itself
        self.close_to_decision = Histogram(
            "cab_candle_close_to_decision_seconds",
            "From a candle's close to the decision on it (signals acted on)",
            registry=r, buckets=_LATENCY_BUCKETS)
        self.close_to_order = Histogram(
            "cab_candle_close_to_order_seconds",
            "From a candle's close to the order request it caused leaving",
            registry=r, buckets=_LATENCY_BUCKETS)
        self.in_process = Histogram(
            "cab_order_in_process_seconds",
            "From a signal, or a price crossing a stop, seen to the order request handed to "
            "the exchange client", ["cause"], registry=r, buckets=_IN_PROCESS_BUCKETS)
        self.loop_lag = Histogram(
            "cab_event_loop_lag_seconds", "How late the event loop runs a 100 ms timer",
            registry=r, buckets=_LAG_BUCKETS)
        self.up.set(1)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def labelled(self, metric: M, *values: str) -> M:
        """metric.labels(*values) (in the order of its label names), remembered: the client
        checks its arguments on every call, and every order passes through here."""
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def handlers(self) -> list[tuple[type[Event], Callable[[Any], None]]]:
        """What to count, by event: the bootstrap subscribes each on the message bus."""
        lab = self.labelled
        return [
            (OrderClosed, lambda e: lab(self.orders, e.symbol, e.side, e.status).inc()),
            (OrderRejected, lambda e: lab(self.order_errors, e.symbol, e.error_type).inc()),
            (OrderOutcomeUnknown,
             lambda e: lab(self.order_errors, e.symbol, e.error_kind).inc()),
            (FillRecorded, lambda e: lab(self.fills, e.symbol, e.side).inc()),
            (RiskDenied, self._risk_denied),
            (ExitTriggered, lambda e: lab(self.exits, e.symbol, e.reason).inc()),
            (PositionChecked, self._position_checked),
            (DeadMansSwitchTripped, lambda e: self.dms_trips.inc()),
            (UnknownStopFound, lambda e: lab(self.unknown_stops, e.symbol).inc()),
            (StopUnprotected, lambda e: lab(self.stop_failures, e.symbol).inc()),
            (OrderSent, self._order_sent),
        ]

    def _order_sent(self, e: OrderSent) -> None:
        self.labelled(self.in_process, e.cause).observe(e.in_process_us / 1e6)
        if e.candle_ts_ms and self.timeframe_ms:
            closed = e.candle_ts_ms + self.timeframe_ms
            self.close_to_decision.observe(max(0, e.decided_ms - closed) / 1000)
            self.close_to_order.observe(max(0, e.ts_ms - closed) / 1000)

    def _risk_denied(self, e: RiskDenied) -> None:
        for rule in e.rules:
            self.labelled(self.risk_denials, e.symbol, rule).inc()

    def _position_checked(self, e: PositionChecked) -> None:
        self.labelled(self.reconcile_mismatch, e.symbol).set(0 if e.ok else 1)
        if not e.ok:
            self.labelled(self.reconcile_mismatches, e.symbol, "position").inc()

    def watch(self, sources: Sources) -> None:
        """Read the state gauges from these sources at every scrape."""
        self.registry.register(_Readings(sources))

    def add_decision_source(self, source: DecisionSource) -> None:
        """A callable giving (symbol, action, count) rows, read at scrape time.

        Decisions happen on every candle; plain integers counted by the pipeline keep a
        backtest's hot loop free of metric locks, and scrapes still see a counter.
        """
        self._decision_sources.append(source)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def as_json(self) -> dict[str, Any]:
        """The same samples as the text format, keyed by metric family."""
        out: dict[str, Any] = {}
        for family in self.registry.collect():
            out[family.name] = {
                "type": family.type,
                "help": family.documentation,
                "samples": [
                    {"name": s.name, "labels": dict(s.labels), "value": s.value}
                    for s in family.samples
                ],
            }
        return out
