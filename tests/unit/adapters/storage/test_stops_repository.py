"""The exchange-stop records, write-ahead: both implementations answer alike, and a SQLite
record is on disk before anything else happens (it survives a new connection)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from crypto_ai_bot.adapters.storage.memory import MemoryRepositories
from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.adapters.storage.sqlite.repositories import SqliteRepositories
from crypto_ai_bot.ports.storage import Repositories


@pytest.fixture(params=["sqlite", "memory"])
def repos(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repositories]:
    if request.param == "memory":
        yield MemoryRepositories()
        return
    db = Database(str(tmp_path / "bot.sqlite3"))
    db.migrate()
    yield SqliteRepositories(db)
    db.close()


def _record(repos: Repositories, symbol: str = "BTC/USDT", now: int = 1_000) -> int:
    return repos.stops.record(symbol=symbol, rule="<=", trigger_price=Decimal("59103.0"),
                              limit_price=Decimal("58512"), amount=Decimal("0.001662"),
                              expiration_sec=86_400, now_ms=now).id


def test_a_stop_goes_from_recorded_to_placed_to_final(repos: Repositories) -> None:
    first = _record(repos)
    second = _record(repos, "ETH/USDT", 2_000)
    [rec] = repos.stops.active("BTC/USDT")
    assert (rec.id, rec.status, rec.exchange_id, rec.trigger_price, rec.amount) == (
        first, "recorded", "", Decimal("59103.0"), Decimal("0.001662"))
    assert (rec.rule, rec.limit_price, rec.expiration_sec, rec.created_ms) == (
        "<=", Decimal("58512"), 86_400, 1_000)
    repos.stops.placed(first, "70000001", 1_500)
    placed = repos.stops.by_exchange_id("70000001")
    assert placed is not None and (placed.id, placed.status, placed.updated_ms) == (
        first, "placed", 1_500)
    assert [r.id for r in repos.stops.active()] == [first, second]
    repos.stops.finish(first, "fired", 3_000)
    got = repos.stops.get(first)
    assert got is not None and (got.status, got.active) == ("fired", False)
    assert repos.stops.active("BTC/USDT") == []
    assert repos.stops.exchange_ids("BTC/USDT") == {"70000001"}  # final ones stay ours
    assert repos.stops.exchange_ids("ETH/USDT") == set()
    assert repos.stops.by_exchange_id("") is None and repos.stops.get(999) is None


def test_a_sqlite_record_is_committed_when_record_returns(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.sqlite3")
    db = Database(path)
    db.migrate()
    rec_id = _record(SqliteRepositories(db))
    other = Database(path)  # another connection sees it: nothing waits for a later commit
    try:
        [rec] = SqliteRepositories(other).stops.active("BTC/USDT")
        assert rec.id == rec_id and rec.status == "recorded"
    finally:
        other.close()
        db.close()
