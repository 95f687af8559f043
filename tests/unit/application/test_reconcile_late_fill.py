"""An order the exchange showed only late: its fills are found again when the position
disagrees, instead of a real holding going unrecorded and unprotected."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

from crypto_ai_bot.adapters.feeds import FixedFeed
from crypto_ai_bot.adapters.paper.broker import PaperBroker
from crypto_ai_bot.adapters.paper.ledger import SqliteVenueBook
from crypto_ai_bot.adapters.storage.sqlite.database import open_database
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.domain.board import PriceBoard
from crypto_ai_bot.domain.errors import OrderOutcomeUnknown
from crypto_ai_bot.domain.model import OrderReport, OrderRequest, OrderStatus


class _LateExchange(PaperBroker):
    """Executes orders but loses the answer, and cannot find them until told to."""

    hide = True

    async def create_order(self, request: OrderRequest) -> OrderReport:
        await super().create_order(request)
        raise OrderOutcomeUnknown("read timeout")

    async def fetch_order(self, symbol: str, **kw: Any) -> OrderReport | None:
        return None if self.hide else await super().fetch_order(symbol, **kw)


async def _paper_on(
    exchange: type[PaperBroker], make_settings: Any, clock: Any
) -> tuple[Any, Container]:
    """A paper container whose exchange is the given PaperBroker subclass, price 100."""
    settings = make_settings(price_feed="fixed", fixed_price=D("100"), fixed_amount=D("50"),
                             paper_fee_pct=D("0.1"), risk_cooldown_sec=0, autostart=False)
    db = open_database(settings.db_path)
    board = PriceBoard()
    broker = exchange(board, clock, fee_pct=D("0.1"), start_balances={"USDT": D("1000")},
                      book=SqliteVenueBook(db))
    c = build_container(settings, clock=clock, broker=broker, db=db,
                        feed=FixedFeed(D("100"), clock, board, 300_000))
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    return broker, c


async def test_late_fill_is_recorded_when_the_position_disagrees(make_settings, clock) -> None:
    broker, c = await _paper_on(_LateExchange, make_settings, clock)
    entry = await c.executor.enter("BTC/USDT", "cross")
    assert entry.outcome == "unknown"

    clock.advance(5_000)
    await c.orchestrator.reconcile_once(startup=True)  # a restart: the exchange shows nothing
    order = c.repos.orders.get(entry.client_order_id)
    assert order is not None and order.status is OrderStatus.CANCELED

    broker.hide = False  # the exchange now reports the order and its fill
    clock.advance(30_000)
    report = await c.orchestrator.reconcile_once()
    assert report.ok, report.as_dict()
    assert c.repos.positions.get("BTC/USDT").base_amount == broker.balance("BTC") > 0
    assert c.repos.trades.count() == 1
    level = c.pipelines["BTC/USDT"].stop_level()
    assert level is not None and level.price == D("99")  # protected again (1 % trailing)
    c.db.close()


class _SlowBalances(PaperBroker):
    """Reads balances, then lingers before answering, as a slow exchange does."""

    async def fetch_balance(self) -> Any:
        snapshot = await super().fetch_balance()
        await asyncio.sleep(0.05)
        return snapshot


async def test_an_order_filling_during_reconcile_is_no_mismatch(make_settings, clock) -> None:
    _, c = await _paper_on(_SlowBalances, make_settings, clock)
    report, entry = await asyncio.gather(
        c.orchestrator.reconcile_once(), c.executor.enter("BTC/USDT", "cross")
    )
    assert entry.outcome == "sent"
    assert report.ok, report.as_dict()  # the entry waited for the comparison to finish
    assert c.repos.state.trading_state().value == "ACTIVE"
    c.db.close()
