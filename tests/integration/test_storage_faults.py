"""When storage fails, the bot fails closed: real SQLite files refusing real writes.

The fault: another connection holds the database's write lock, so that every write of the bot
fails (`database is locked`, within a 50 ms busy timeout) while reads still work, as on a full
disk; releasing it is the space coming back. bench/storage_fault_drill.py fills a real disk
and fails the real file under a bot in a child process.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from crypto_ai_bot.adapters.storage.sqlite.database import Database, open_database
from crypto_ai_bot.application.execution import Outcome
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import DatabaseCorrupt, StorageError
from crypto_ai_bot.domain.model import TradingState

SYMBOL = "BTC/USDT"


@contextmanager
def writes_refused(path: Path) -> Iterator[None]:
    """Every write to the database fails while this holds its write lock."""
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")


def stored_state(path: Path) -> tuple[str, str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = dict(conn.execute("SELECT key, value FROM kv").fetchall())
    return rows.get("trading_state", "ACTIVE"), rows.get("trading_state_reason", "")


def venue_orders(path: Path) -> int:
    """Orders the paper venue took (its own book, beside the bot's tables)."""
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM paper_orders").fetchone()[0])


@pytest.fixture
def bot(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[tuple[Container, Path]]:
    path = tmp_path / "bot.sqlite3"
    db = Database(str(path), busy_timeout_ms=50, check_integrity=True)
    db.migrate()
    settings = make_settings(db_path=str(path), price_feed="fixed", fixed_price="100",
                             fixed_amount="50", risk_cooldown_sec=0, autostart=False)
    c = build_container(settings, db=db)
    yield c, path
    db.close()


async def _ready(c: Container) -> None:
    await c.broker.load_markets([SYMBOL])
    await c.feed.ticker(SYMBOL)


async def test_a_refused_halt_holds_in_memory_is_retried_and_waits_for_the_operator(
    bot: tuple[Container, Path],
) -> None:
    c, path = bot
    await _ready(c)
    with writes_refused(path):
        c.orchestrator.on_dms_trip(["evaluate:BTC/USDT"], "halt")  # its HALTED write fails
        assert c.states.current is TradingState.HALTED  # at once, in memory
        assert not c.states.storage_ok and "locked" in c.states.storage_error
        assert stored_state(path)[0] == "ACTIVE"  # the database could not take it
        # nothing new leaves: the risk gate reads the halt
        ticker = await c.feed.ticker(SYMBOL)
        verdict = c.pipelines[SYMBOL]._risk.check(SYMBOL, ticker, Decimal("0.5"), 0)
        assert not verdict.ok and "trading_state" in verdict.rules
        # the operator cannot resume what cannot be recorded
        with pytest.raises(StorageError):
            c.bus.handle(SetTradingState(TradingState.ACTIVE, "resume"))
        assert c.states.current is TradingState.HALTED
        assert c.states.retry() is False  # still refused
    # space comes back: the watchdog's next tick records the halt, and nothing resumes
    c.orchestrator._watchdog_tick()
    assert c.states.storage_ok
    state, reason = stored_state(path)
    assert state == "HALTED" and reason.startswith("storage: ") and "dead man" in reason
    assert c.states.current is TradingState.HALTED
    for _ in range(3):
        c.orchestrator._watchdog_tick()
    assert c.states.current is TradingState.HALTED  # no unattended resume
    c.bus.handle(SetTradingState(TradingState.ACTIVE, "disk replaced"))
    assert c.states.current is TradingState.ACTIVE
    assert stored_state(path) == ("ACTIVE", "operator: disk replaced")


async def test_an_order_the_database_cannot_record_is_never_sent_and_stops_trading(
    bot: tuple[Container, Path],
) -> None:
    c, path = bot
    await _ready(c)
    with writes_refused(path):
        result = await c.executor.enter(SYMBOL, "signal")
        assert result.outcome is Outcome.SKIPPED and "cannot record" in result.detail
        assert venue_orders(path) == 0  # never sent
        assert c.states.current is TradingState.HALTED and not c.states.storage_ok
        pipeline = c.pipelines[SYMBOL]
        ticker = await c.feed.ticker(SYMBOL)
        assert not pipeline._risk.check(SYMBOL, ticker, Decimal("0.5"), 0).ok
        with pytest.raises(StorageError):  # the risk gate said no; its audit could not record
            await pipeline._enter(pipeline.decision(_buy_signal(), 0, Decimal(100)), ticker)
        assert venue_orders(path) == 0
    assert c.states.retry()
    state, reason = stored_state(path)
    assert state == "HALTED" and "order write failed" in reason
    assert c.repos.orders.not_final(SYMBOL) == [] and venue_orders(path) == 0


def _buy_signal() -> Any:
    from crypto_ai_bot.domain.model import Action, Signal

    return Signal(Action.BUY, "test")


async def test_health_is_down_while_storage_cannot_record(bot: tuple[Container, Path]) -> None:
    from crypto_ai_bot.api.server import create_app

    c, path = bot
    app = create_app(container=c)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/health")).json()["status"] == "ok"
        with writes_refused(path):
            await c.executor.enter(SYMBOL, "signal")
            body = (await client.get("/health")).json()
            assert body["status"] == "down"
            assert body["db"]["ok"] is False and "cannot record" in body["db"]["detail"]
            assert body["trading_state"] == "HALTED"
            # the operator's resume cannot be recorded either: a clear 503, nothing changes
            resume = await client.post("/orchestrator/trading-state",
                                       json={"state": "ACTIVE", "reason": "too early"})
            assert resume.status_code == 503, resume.text
            assert "storage cannot record" in resume.json()["detail"]
            assert resume.json()["trading_state"] == "HALTED"
        c.states.retry()
        body = (await client.get("/health")).json()
        assert body["status"] == "degraded" and body["trading_state"] == "HALTED"


async def test_a_loop_whose_write_fails_halts_in_memory(bot: tuple[Container, Path]) -> None:
    c, path = bot
    await c.start()
    await c.orchestrator.start()
    try:
        with writes_refused(path):
            for _ in range(100):
                if not c.states.storage_ok:
                    break
                await asyncio.sleep(0.02)
            assert c.states.current is TradingState.HALTED  # reconcile's or a loop's write
    finally:
        await c.orchestrator.stop()


# integrity and durability ---------------------------------------------------------------

def _scramble(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    for i in range(page, len(data), 7):
        data[i] = (data[i] * 31 + 17) % 256
    path.write_bytes(bytes(data))


def test_the_bot_refuses_a_corrupt_database_at_start_and_writes_nothing(
    make_settings: Callable[..., Any], tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    open_database(str(path)).close()
    _scramble(path)
    before = path.read_bytes()
    with pytest.raises(DatabaseCorrupt) as err:
        build_container(make_settings(db_path=str(path), price_feed="fixed"))
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "backup" in text
    assert path.read_bytes() == before
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_every_commit_is_synced_to_disk(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "bot.sqlite3"))
    try:
        assert db.one("PRAGMA journal_mode")[0] == "wal"
        assert db.one("PRAGMA synchronous")[0] == 2  # FULL: a returned COMMIT survives power
    finally:
        db.close()


class _Resting:
    """The paper venue with an entry resting on its book: what the clean-up cancels is kept."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.cancelled: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> None:
        self.cancelled.append(exchange_order_id)

    async def fetch_order(self, symbol: str, *, exchange_order_id: str = "",
                          client_order_id: str = "") -> None:
        return None  # the exchange cannot say yet: reconcile will


async def test_the_switch_still_cleans_up_when_its_halt_cannot_be_written(
    bot: tuple[Container, Path],
) -> None:
    from crypto_ai_bot.domain.model import Intent, OrderType, Side
    from crypto_ai_bot.domain.orders import OrderEvent

    c, path = bot
    await _ready(c)
    resting = _Resting(c.broker)
    c.executor._broker = resting
    now = c.clock.now_ms()
    c.repos.orders.insert(OrderEvent.RECORDED, client_order_id="entry-1", symbol=SYMBOL,
                          side=Side.BUY, type=OrderType.LIMIT, intent=Intent.ENTRY,
                          amount=Decimal(1), cost=None, price=Decimal(99),
                          idempotency_key="entry-1", reason="", now_ms=now)
    c.repos.orders.apply("entry-1", OrderEvent.ACCEPTED, now, exchange_order_id="x-1")
    c.orchestrator.loop = asyncio.get_running_loop()
    with writes_refused(path):
        await asyncio.to_thread(c.orchestrator.on_dms_trip, ["reconcile"], "halt")
        for _ in range(100):
            if resting.cancelled:
                break
            await asyncio.sleep(0.01)
        assert resting.cancelled == ["x-1"]  # scheduled and sent although nothing was written
        assert c.states.current is TradingState.HALTED and not c.states.storage_ok
