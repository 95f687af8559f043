"""The storage port's two implementations answer exactly alike.

Random sequences of the operations the pipeline performs run against both, over a real SQLite
file and over memory, and every query is compared after every step.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto_ai_bot.adapters.storage import memory
from crypto_ai_bot.adapters.storage.sqlite import (
    audit,
    idempotency,
    market_data,
    orders,
    positions,
    state,
    stops,
    trades,
)
from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.domain.errors import IllegalTransition
from crypto_ai_bot.domain.model import (
    Balance,
    Candle,
    FillReport,
    Intent,
    OrderType,
    Position,
    Side,
    TradingState,
)
from crypto_ai_bot.domain.orders import OrderEvent, next_status
from crypto_ai_bot.ports import storage
from crypto_ai_bot.ports.storage import Repositories

SYMBOLS = ("BTC/USDT", "ETH/USDT")
KEYS = ("k1", "k2", "k3")


@pytest.mark.parametrize(("port", "sql", "mem"), [
    (storage.OrdersRepository, orders.SqliteOrders, memory.MemoryOrders),
    (storage.TradesRepository, trades.SqliteTrades, memory.MemoryTrades),
    (storage.IdempotencyRepository, idempotency.SqliteIdempotency, memory.MemoryIdempotency),
    (storage.PositionsRepository, positions.SqlitePositions, memory.MemoryPositions),
    (storage.StateRepository, state.SqliteState, memory.MemoryState),
    (storage.AuditRepository, audit.SqliteAudit, memory.MemoryAudit),
    (storage.MarketDataRepository, market_data.SqliteMarketData, memory.MemoryMarketData),
    (storage.StopsRepository, stops.SqliteStops, memory.MemoryStops),
])
def test_both_implement_every_method_of_the_port(port: type, sql: type, mem: type) -> None:
    """A method added to the port and not to one implementation, or with other parameters,
    is found here rather than by a backtest that reads nothing. Neither inherits from the
    other: each defines every method itself."""
    wanted = {n: inspect.signature(fn) for n, fn in inspect.getmembers(port, inspect.isfunction)
              if not n.startswith("_")}
    assert wanted, port
    for impl in (sql, mem):
        assert impl.__bases__ == (object,), impl
        for name, sig in wanted.items():
            assert name in vars(impl), f"{impl.__name__} lacks {name}"
            got = inspect.signature(getattr(impl, name))
            assert list(got.parameters) == list(sig.parameters), (impl.__name__, name)


ops = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(SYMBOLS), st.sampled_from(list(Intent)),
              st.sampled_from(KEYS), st.integers(0, 50)),
    st.tuples(st.just("update"), st.integers(0, 30), st.sampled_from(list(OrderEvent)),
              st.integers(0, 50), st.sampled_from(["", "boom"])),
    st.tuples(st.just("claim"), st.sampled_from(KEYS), st.integers(0, 50), st.integers(1, 20)),
    st.tuples(st.just("release"), st.sampled_from(KEYS)),
    st.tuples(st.just("purge"), st.integers(0, 60)),
    st.tuples(st.just("fill"), st.integers(0, 30), st.integers(0, 8), st.integers(0, 50),
              st.integers(-500, 500)),
    st.tuples(st.just("position"), st.sampled_from(SYMBOLS), st.integers(0, 9),
              st.integers(0, 50)),
    st.tuples(st.just("state"), st.sampled_from(list(TradingState)), st.text(max_size=5)),
    st.tuples(st.just("balances"), st.sampled_from(["BTC", "USDT"]), st.integers(0, 99)),
    st.tuples(st.just("audit"), st.sampled_from(["a.b", "c.d"]), st.integers(0, 9)),
    st.tuples(st.just("candles"), st.sampled_from(SYMBOLS), st.sampled_from(["5m", "1h"]),
              st.lists(st.integers(0, 20), max_size=5)),
)


def _apply(repos: Repositories, op: tuple[Any, ...], cids: list[str]) -> Any:
    kind = op[0]
    o, t, idem, pos = repos.orders, repos.trades, repos.idempotency, repos.positions
    if kind == "insert":
        _, symbol, intent, key, now = op
        cid = f"c{len(cids)}"
        cids.append(cid)
        return o.insert(OrderEvent.RECORDED, client_order_id=cid, symbol=symbol, side=Side.BUY,
                        type=OrderType.MARKET, intent=intent, amount=Decimal("0.5"),
                        cost=None, price=None, idempotency_key=key, reason="r", now_ms=now)
    if kind == "update":
        _, i, event, now, error = op
        if not cids:
            return None
        cid = cids[i % len(cids)]
        current = o.get(cid)
        assert current is not None
        if event in (OrderEvent.RECORDED, OrderEvent.DISCOVERED):
            with pytest.raises(IllegalTransition):
                next_status(current.status, event)
            return "illegal"
        try:
            next_status(current.status, event)
        except IllegalTransition:
            with pytest.raises(IllegalTransition):  # both refuse, and change nothing
                o.apply(cid, event, now)
            return "illegal"
        return o.apply(cid, event, now, exchange_order_id="x" + cid, filled=Decimal(i),
                        avg_price=Decimal("100.5"), fee=Decimal("0.01"), fee_currency="USDT",
                        error=error or None)
    if kind == "claim":
        _, key, now, ttl = op
        return idem.claim(key, f"cid-{now}", now, ttl)
    if kind == "release":
        return idem.release(op[1])
    if kind == "purge":
        return idem.purge_expired(op[1])
    if kind == "fill":
        _, i, trade, ts, pnl = op
        if not cids:
            return None
        rec = o.get(cids[i % len(cids)])
        assert rec is not None
        fill = FillReport(f"t{trade}", rec.symbol, Side.BUY, Decimal("100.5"), Decimal("0.25"),
                          Decimal("0.001"), "BTC", ts, "x", rec.client_order_id)
        return t.add("paper", fill, Decimal(pnl) / 7)
    if kind == "state":
        return repos.state.set_trading_state(op[1], op[2], 1)
    if kind == "balances":
        _, ccy, free = op
        return repos.state.save_balances({ccy: Balance(ccy, Decimal(free), Decimal(1))}, 1)
    if kind == "audit":
        _, topic, n = op
        return repos.audit.record(n, topic, {"n": Decimal(n) / 3, "list": [1, "x"]}, "BTC/USDT")
    if kind == "candles":
        _, symbol, tf, stamps = op
        d = Decimal
        return repos.market_data.upsert(
            symbol, tf, [Candle(ts * 300_000, d(ts), d(ts + 1), d(ts - 1), d(ts), d(1))
                         for ts in stamps])
    if kind == "position":
        _, symbol, amount, now = op
        p = pos.get(symbol)
        p.base_amount, p.updated_ms, p.peak = Decimal(amount) / 3, now, Decimal(now)
        p.stop_order_id = f"s{now}" if now % 2 else ""  # a resting stop, or none
        return pos.save(p)
    raise AssertionError(kind)


def _snapshot(repos: Repositories, cids: list[str]) -> dict[str, Any]:
    o, t, idem = repos.orders, repos.trades, repos.idempotency
    snap: dict[str, Any] = {
        "orders": [o.get(c) for c in cids],
        "events": [o.events(c) for c in cids],
        "audit": [(r.ts_ms, r.topic, r.symbol, r.payload) for r in repos.audit.recent(50)],
        "audit a.b": [r.ts_ms for r in repos.audit.recent(3, "a.b")],
        "audit pages": [(r.id, r.ts_ms) for r in repos.audit.query(3, topic="c.d",
                                                                    symbol="BTC/USDT")]
        + [(r.id, r.topic) for r in repos.audit.query(2, before_id=4)]
        + [(r.id, r.topic) for r in repos.audit.query(5, symbol="ETH/USDT")],
        "audit counts": (repos.audit.count(), repos.audit.count("c.d")),
        "series": repos.market_data.series(),
        "count": o.count(),
        "trades": t.count(),
        "positions": repos.positions.all(),
        "without stop": repos.positions.without_stop(),
        "unknown": o.get("nope"),
        "state": (repos.state.trading_state(), repos.state.trading_state_reason()),
        "balances": repos.state.balances(),
    }
    for s in (None, *SYMBOLS):
        snap[f"not_final {s}"] = [r.client_order_id for r in o.not_final(s)]
        snap[f"recent {s}"] = [r.client_order_id for r in o.recent(5, s)]
        snap[f"count_since {s}"] = [o.count_since(x, s) for x in (0, 25, 51)]
    for s in SYMBOLS:
        for intent in (None, *Intent):
            for rej in (False, True):
                snap[f"last {s} {intent} {rej}"] = o.last_created_ms(s, intent,
                                                                     include_rejected=rej)
        snap[f"errors {s}"] = [r.client_order_id for r in o.closed_with_error(s, "boom", 10)]
        snap[f"position {s}"] = repos.positions.get(s)
    for key in KEYS:
        snap[f"key {key}"] = (o.count_with_key(key), idem.client_order_id(key), idem.exists(key))
    for c in cids[:5]:
        snap[f"fills {c}"] = t.for_order(c)
    for a, b in ((0, 51), (10, 30), (25, 25)):
        snap[f"between {a} {b}"] = t.between(a, b)
        snap[f"between {a} {b} BTC"] = t.between(a, b, "BTC/USDT")
        snap[f"pnl {a} {b}"] = t.realized_pnl_between(a, b)
    snap["trade exists"] = [t.exists("paper", f"t{i}") for i in range(9)]
    for s in SYMBOLS:
        for tf in ("5m", "1h"):
            md = repos.market_data
            snap[f"candles {s} {tf}"] = (md.candles(s, tf), md.candles(s, tf, 600_000, 3_000_000),
                                         md.last_ts(s, tf), md.timestamps(s, tf))
    return snap


@pytest.fixture
def sql_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(str(tmp_path / "sql.sqlite3"))
    db.migrate()
    yield db
    db.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(ops, min_size=1, max_size=40))
def test_memory_answers_as_sql(sql_db: Database, steps: list[tuple[Any, ...]]) -> None:
    # a fresh start for each example: the fixture outlives them
    for table in ("order_events", "orders", "trades", "idempotency", "positions", "kv",
                  "balances", "audit", "market_data"):
        sql_db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    sql, mem = SqliteRepositories(sql_db), memory.MemoryRepositories()
    sql_cids: list[str] = []
    mem_cids: list[str] = []
    for step in steps:
        with sql.transaction():
            a = _apply(sql, step, sql_cids)
        with mem.transaction():
            b = _apply(mem, step, mem_cids)
        assert a == b, step
        assert _snapshot(sql, sql_cids) == _snapshot(mem, mem_cids), step


def test_positions_are_copies_until_saved() -> None:
    repos = memory.MemoryRepositories()
    p = repos.positions.get("BTC/USDT")
    p.base_amount = Decimal(1)
    assert repos.positions.get("BTC/USDT") == Position("BTC/USDT")
    repos.positions.save(p)
    p.base_amount = Decimal(2)
    assert repos.positions.get("BTC/USDT").base_amount == Decimal(1)
