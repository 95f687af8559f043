"""The paper venue's book: memory and SQLite answer alike, and SQLite survives a restart.

The same placed orders and balance saves run against MemoryVenueBook and against SqliteVenueBook
over a real SQLite file, and every answer is compared by repr (so a Decimal's exponent counts,
not only its value). A PaperBroker over SqliteVenueBook is closed and reopened on its file; and
a file written with the SQL PaperBroker ran before the book had its own port loads the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_ai_bot.adapters.paper.broker import PaperBroker
from crypto_ai_bot.adapters.paper.ledger import MemoryVenueBook, SqliteVenueBook
from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.errors import InsufficientFunds, InvalidOrder
from crypto_ai_bot.domain.model import (
    FillReport,
    OrderReport,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Ticker,
)
from crypto_ai_bot.ports.clock import ManualClock
from crypto_ai_bot.ports.venue import VenueBook

T0 = 1_767_225_600_000
BTC, ETH = "BTC/USDT", "ETH/USDT"
SYMBOLS = [BTC, ETH]
FEE_PCT = D("0.2")
START = {"USDT": D("10000")}

# The SQL of PaperBroker before the VenueBook port (git show fc5e812:…/paper/broker.py),
# copied verbatim: a database file it wrote must load as it did.
OLD_SAVE_BALANCE = (
    "INSERT INTO paper_balances (currency, free, used) VALUES (?,?,'0')"
    " ON CONFLICT(currency) DO UPDATE SET free=excluded.free"
)
OLD_INSERT_ORDER = (
    "INSERT INTO paper_orders (id, client_order_id, symbol, side, type, status,"
    " amount, filled, cost, price, fee, fee_currency, ts_ms)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _open(path: Path) -> Database:
    db = Database(str(path))
    db.migrate()
    return db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    d = _open(tmp_path / "paper.sqlite3")
    yield d
    d.close()


# the book alone ------------------------------------------------------------------------------

def _paper_report(n: int, side: Side, price: D, amount: D, fee: D, ts_ms: int) -> OrderReport:
    """An order shaped as PaperBroker reports it: filled at once, one fill, trade paper-N."""
    symbol = BTC if n % 2 else ETH
    fee_ccy = symbol.split("/")[0] if side is Side.BUY else "USDT"
    cost = amount * price
    oid, coid = str(n), f"coid-{n}"
    fill = FillReport(f"paper-{oid}", symbol, side, price, amount, fee, fee_ccy, ts_ms, oid, coid)
    return OrderReport(oid, coid, symbol, side, OrderType.MARKET, OrderStatus.FILLED, amount,
                       amount, cost, price, fee, fee_ccy, ts_ms, (fill,))


def _answers(book: VenueBook) -> tuple[str, str]:
    return repr(book.load_balances()), repr(book.load_orders())


def test_an_empty_book_has_no_balances_and_no_orders(db: Database) -> None:
    for book in (MemoryVenueBook(), SqliteVenueBook(db)):
        assert book.load_balances() is None
        assert book.load_orders() == []
        book.save_balances({})  # nothing saved is still nothing
        assert book.load_balances() is None


def test_memory_and_sqlite_books_answer_alike_step_by_step(db: Database) -> None:
    mem, sql = MemoryVenueBook(), SqliteVenueBook(db)
    steps: list[Callable[[VenueBook], None]] = [
        lambda b: b.save_balances({"USDT": D("10000"), "BTC": D("0")}),
        lambda b: b.append_order(
            _paper_report(1, Side.BUY, D("60010.50"), D("0.01666375"), D("0.0000333275"), T0),
            {"USDT": D("8999.9998125"), "BTC": D("0.0166304225")}),
        lambda b: b.append_order(  # a new currency appears with the order
            _paper_report(2, Side.BUY, D("3001"), D("0.16661112"), D("0.00033322224"), T0 + 1),
            {"USDT": D("8499.99"), "BTC": D("0.0166304225"), "ETH": D("0.16627789776")}),
        lambda b: b.save_balances({"ETH": D("0E-8")}),  # a currency left out keeps its value
        lambda b: b.append_order(
            _paper_report(3, Side.SELL, D("6.0000E+4"), D("0.01000000"), D("1.2000"), T0 + 2),
            {"USDT": D("9098.79"), "BTC": D("0.0066304225")}),
        lambda b: b.save_balances({"USDT": D("1E+4"), "BTC": D("-0")}),
    ]
    assert _answers(mem) == _answers(sql)
    for step in steps:
        step(mem)
        step(sql)
        assert _answers(mem) == _answers(sql)
    orders = sql.load_orders()
    assert [o.exchange_order_id for o in orders] == ["1", "2", "3"]
    assert [f.trade_id for o in orders for f in o.fills] == ["paper-1", "paper-2", "paper-3"]
    assert sql.load_balances() == {"USDT": D("10000"), "BTC": D("0"), "ETH": D("0")}


_money = st.decimals(min_value=D("0.00000001"), max_value=D("1E+9"), allow_nan=False,
                     allow_infinity=False, places=None)
_ops = st.lists(st.one_of(
    st.tuples(st.just("save"), st.dictionaries(st.sampled_from(["USDT", "BTC", "ETH"]), _money)),
    st.tuples(st.just("order"), st.tuples(st.sampled_from([Side.BUY, Side.SELL]), _money,
                                          _money, _money),
              st.dictionaries(st.sampled_from(["USDT", "BTC", "ETH"]), _money)),
), max_size=12)


@settings(max_examples=40, deadline=None)
@given(ops=_ops)
def test_memory_and_sqlite_books_answer_alike_on_any_sequence(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[Any, ...]]
) -> None:
    db = _open(tmp_path_factory.mktemp("book") / "paper.sqlite3")
    try:
        mem, sql = MemoryVenueBook(), SqliteVenueBook(db)
        n = 0
        for op in ops:
            for book in (mem, sql):
                if op[0] == "save":
                    book.save_balances(op[1])
                else:
                    side, price, amount, fee = op[1]
                    book.append_order(_paper_report(n + 1, side, price, amount, fee, T0 + n),
                                      op[2])
            n += op[0] == "order"
            assert _answers(mem) == _answers(sql)
    finally:
        db.close()


# a PaperBroker over the book -----------------------------------------------------------------

Step = tuple[str, D, D, Side, D]  # symbol, bid, ask, side, cost (buy) or amount (sell)

BEFORE: list[Step] = [
    (BTC, D("60000"), D("60010.5"), Side.BUY, D("1234.56")),
    (ETH, D("3000"), D("3001"), Side.BUY, D("500")),
    (BTC, D("60100"), D("60110"), Side.BUY, D("0.5")),  # below the minimum cost: refused
    (BTC, D("60200.25"), D("60210"), Side.SELL, D("0.0101234567")),  # floored to 8 places
    (ETH, D("2990"), D("2991"), Side.SELL, D("10")),  # more than held: refused
]
AFTER: list[Step] = [
    (BTC, D("59000"), D("59001"), Side.BUY, D("20000")),  # more than held: refused
    (ETH, D("3050"), D("3051.5"), Side.SELL, D("0.1")),
    (BTC, D("61000"), D("61000.01"), Side.BUY, D("777.77")),
    (BTC, D("61500"), D("61501"), Side.SELL, D("0.005")),
]


class Venue(NamedTuple):
    broker: PaperBroker
    board: PriceBoard
    clock: ManualClock


def _venue(book: VenueBook | None, start: dict[str, D] | None = None) -> Venue:
    board, clock = PriceBoard(), ManualClock(T0)
    broker = PaperBroker(board, clock, fee_pct=FEE_PCT,
                         start_balances=dict(START if start is None else start), book=book)
    return Venue(broker, board, clock)


async def _trade(venue: Venue, steps: list[Step],
                 after: Callable[[OrderReport, dict[str, D]], None] | None = None) -> list[str]:
    """Run the steps on the venue; what each answered: its order id or the refusal."""
    broker, board, clock = venue
    await broker.load_markets(SYMBOLS)
    outcomes: list[str] = []
    for symbol, bid, ask, side, size in steps:
        clock.advance(60_000)
        board.update(Ticker(symbol, clock.now_ms(), (bid + ask) / 2, bid, ask))
        n = len(broker.orders) + 1
        buy = side is Side.BUY
        request = OrderRequest(symbol, side, OrderType.MARKET, f"c-{clock.now_ms()}-{n}",
                               amount=None if buy else size, cost=size if buy else None)
        try:
            report = await broker.create_order(request)
        except (InsufficientFunds, InvalidOrder) as exc:
            outcomes.append(type(exc).__name__)
            continue
        outcomes.append(report.exchange_order_id)
        if after is not None:
            after(report, {c: b.free for c, b in (await broker.fetch_balance()).items()})
    return outcomes


async def _state(venue: Venue) -> tuple[str, ...]:
    broker = venue.broker
    balances = await broker.fetch_balance()
    trades = [await broker.fetch_my_trades(s, 0) for s in SYMBOLS]
    found = [await broker.fetch_order(o.symbol, client_order_id=o.client_order_id)
             for o in broker.orders]
    return (repr(sorted(balances.items())), repr(broker.orders), repr(trades), repr(found))


async def test_a_paper_broker_over_sqlite_is_the_same_exchange_after_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "paper.sqlite3"
    db = _open(path)
    kept = _venue(SqliteVenueBook(db))
    in_memory = _venue(None)  # the book never changes a fill
    assert await _trade(kept, BEFORE) == await _trade(in_memory, BEFORE)
    assert [o.exchange_order_id for o in kept.broker.orders] == ["1", "2", "3"]
    before = await _state(kept)
    assert before == await _state(in_memory)
    db.close()

    db = _open(path)  # the restart: the start balances no longer count, the book does
    try:
        reopened = _venue(SqliteVenueBook(db), start={"USDT": D("1")})
        reopened.clock.set(in_memory.clock.now_ms())
        assert await _state(reopened) == before
        assert reopened.broker.balance("USDT") == in_memory.broker.balance("USDT")

        # the next orders continue the numbering and the balances as if nothing happened
        outcomes = await _trade(reopened, AFTER)
        assert outcomes == await _trade(in_memory, AFTER)
        assert outcomes == ["InsufficientFunds", "4", "5", "6"]
        assert await _state(reopened) == await _state(in_memory)
        assert [f.trade_id for o in reopened.broker.orders for f in o.fills] == [
            f"paper-{i}" for i in range(1, 7)]
        assert db.one("SELECT COUNT(*) AS n FROM paper_orders")["n"] == 6  # type: ignore[index]
    finally:
        db.close()


async def test_a_database_written_by_the_old_paper_broker_loads_identically(
    tmp_path: Path,
) -> None:
    """Rows inserted with the old PaperBroker's SQL, the way it inserted them, load the same."""
    path = tmp_path / "old.sqlite3"
    db = _open(path)

    def old_save_balances(balances: dict[str, D]) -> None:
        with db.transaction():
            for cur, free in balances.items():
                db.execute(OLD_SAVE_BALANCE, (cur, str(free)))

    def old_record(report: OrderReport, balances: dict[str, D]) -> None:
        with db.transaction():
            db.execute(OLD_INSERT_ORDER, (
                int(report.exchange_order_id), report.client_order_id, report.symbol,
                report.side.value, report.type.value, report.status.value,
                str(report.amount), str(report.filled), str(report.cost),
                str(report.avg_price), str(report.fee), report.fee_currency, report.ts_ms,
            ))
            old_save_balances(balances)

    reference = _venue(None)  # the fills the old PaperBroker made: the arithmetic is unchanged
    old_save_balances(dict(START))  # the old _load on an empty file
    await _trade(reference, BEFORE + AFTER, after=old_record)
    db.close()

    db = _open(path)
    try:
        book = SqliteVenueBook(db)
        assert repr(book.load_orders()) == repr(reference.broker.orders)
        loaded = _venue(book, start={"USDT": D("1")})
        loaded.clock.set(reference.clock.now_ms())
        assert await _state(loaded) == await _state(reference)
        ids = [(o.exchange_order_id, o.fills[0].trade_id, o.fills[0].exchange_order_id)
               for o in loaded.broker.orders]
        assert ids == [(str(i), f"paper-{i}", str(i)) for i in range(1, 7)]
        more: list[Step] = [(ETH, D("3100"), D("3101"), Side.BUY, D("100"))]
        assert await _trade(loaded, more) == await _trade(reference, more) == ["7"]
        assert await _state(loaded) == await _state(reference)
    finally:
        db.close()
