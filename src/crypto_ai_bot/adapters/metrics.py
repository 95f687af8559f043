"""Prometheus metrics, one registry per container (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

DecisionSource = Callable[[], Iterable[tuple[str, str, int]]]
M = TypeVar("M", Counter, Gauge)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


class Metrics:
    """Every metric the bot exports. ops/prometheus/alerts.yml uses these names."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.up = Gauge("cab_up", "1 while the bot process serves", registry=r)
        self.orchestrator_running = Gauge(
            "cab_orchestrator_running", "1 while the trading loops run", registry=r
        )
        self.loop_last_beat = Gauge(
            "cab_loop_last_beat_timestamp_seconds", "Last heartbeat of each loop (epoch s)",
            ["loop"], registry=r,
        )
        self.dms_tripped = Gauge(
            "cab_dms_tripped", "1 after the dead man's switch tripped", registry=r
        )
        self.dms_trips = Counter("cab_dms_trips", "Dead man's switch trips", registry=r)
        self.trading_state = Gauge(
            "cab_trading_state", "1 for the current trading state", ["state"], registry=r
        )
        self.reconcile_mismatch = Gauge(
            "cab_reconcile_mismatch", "1 while a symbol's position differs from the exchange",
            ["symbol"], registry=r,
        )
        self.reconcile_mismatches = Counter(
            "cab_reconcile_mismatches", "Reconcile mismatches found", ["symbol", "kind"],
            registry=r,
        )
        self.daily_pnl = Gauge(
            "cab_daily_realized_pnl_quote", "Realised PnL of the current UTC day (quote)",
            registry=r,
        )
        self.daily_loss_limit_reached = Gauge(
            "cab_daily_loss_limit_reached", "1 while the daily loss limit blocks entries",
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
        self.position_base = Gauge(
            "cab_position_base", "Open position (base amount)", ["symbol"], registry=r
        )
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

    def add_decision_source(self, source: DecisionSource) -> None:
        """A callable giving (symbol, action, count) rows, read at scrape time.

        Decisions happen on every candle; plain integers counted by the pipeline keep a
        backtest's hot loop free of metric locks, and scrapes still see a counter.
        """
        self._decision_sources.append(source)

    def set_trading_state(self, state: str) -> None:
        for s in ("ACTIVE", "REDUCING", "HALTED"):
            self.trading_state.labels(state=s).set(1 if s == state else 0)

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
