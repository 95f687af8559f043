"""place_order: write-ahead, idempotency, rejection and unknown outcomes, fills once."""

from __future__ import annotations

from decimal import Decimal
from decimal import Decimal as D

from crypto_ai_bot.domain.errors import InsufficientFunds, OrderOutcomeUnknown
from crypto_ai_bot.domain.model import OrderReport, OrderRequest, OrderStatus, Side


async def test_entry_fills_and_position_matches_paper_balance(paper, clock) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    res = await c.executor.enter("BTC/USDT", "test")
    assert res.outcome == "sent" and res.order is not None
    assert res.order.status is OrderStatus.FILLED
    pos = c.repos.positions.get("BTC/USDT")
    assert pos.base_amount == D("0.5") * (1 - D("0.001"))  # 50 quote at 100, fee in base
    assert pos.base_amount == c.broker.balance("BTC")
    assert c.repos.trades.count() == 1


async def test_same_bucket_sends_nothing_twice(paper, clock) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    first = await c.executor.enter("BTC/USDT", "one")
    clock.advance(1_000)
    second = await c.executor.enter("BTC/USDT", "two")
    assert first.outcome == "sent" and second.outcome == "duplicate"
    assert second.client_order_id == first.client_order_id
    assert len(c.broker.orders) == 1
    clock.advance(c.settings.idempotency_bucket_ms)
    third = await c.executor.enter("BTC/USDT", "next bucket")
    assert third.outcome == "sent" and len(c.broker.orders) == 2


class _Failing:
    """Wraps the paper broker and fails create_order with a chosen error."""

    def __init__(self, inner, error: Exception) -> None:
        self._inner = inner
        self._error = error
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def create_order(self, request: OrderRequest) -> OrderReport:
        self.calls += 1
        raise self._error


async def test_rejection_releases_key_and_unknown_keeps_it(paper, clock) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    real = c.executor._broker
    c.executor._broker = _Failing(real, InsufficientFunds("no money"))
    rejected = await c.executor.enter("BTC/USDT", "x")
    assert rejected.outcome == "rejected"
    assert rejected.order is not None and rejected.order.status is OrderStatus.REJECTED
    assert not c.repos.idempotency.exists(rejected.order.idempotency_key)

    c.executor._broker = _Failing(real, OrderOutcomeUnknown("timeout"))
    unknown = await c.executor.enter("BTC/USDT", "y")
    assert unknown.outcome == "unknown"
    assert unknown.order is not None and unknown.order.status is OrderStatus.UNKNOWN
    again = await c.executor.enter("BTC/USDT", "z")
    assert again.outcome == "duplicate"  # an unknown outcome is never resent
    assert c.repos.audit.count("order.rejected") == 1
    assert c.repos.audit.count("order.unknown") == 1


async def test_exit_sells_whole_position_and_realises_pnl(paper, clock) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    await c.executor.enter("BTC/USDT", "in")
    res = await c.executor.exit("BTC/USDT", "out")
    assert res.outcome == "sent" and res.order is not None
    assert res.order.side is Side.SELL and res.order.status is OrderStatus.FILLED
    pos = c.repos.positions.get("BTC/USDT")
    assert pos.base_amount == 0
    # paid 50, got back 0.4995 * 100 less 0.1 % fee
    assert pos.realized_pnl == D("0.4995") * 100 * D("0.999") - 50
    assert c.broker.balance("USDT") == D("10000") + pos.realized_pnl
    assert (await c.executor.exit("BTC/USDT", "again")).outcome == "skipped"


async def test_report_applied_twice_counts_fills_once(paper, clock) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    res = await c.executor.enter("BTC/USDT", "in")
    report = c.broker.orders[0]
    c.executor.apply_report(report, res.client_order_id)
    assert c.repos.trades.count() == 1
    assert c.repos.positions.get("BTC/USDT").base_amount == c.broker.balance("BTC")


async def test_no_second_entry_while_the_first_is_unknown(paper, clock) -> None:
    from crypto_ai_bot.domain.model import Action, Decision

    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    t = await c.feed.ticker("BTC/USDT")
    p = c.pipelines["BTC/USDT"]
    real = c.executor._broker
    c.executor._broker = _Failing(real, OrderOutcomeUnknown("timeout"))
    first = await p.act(Decision("BTC/USDT", Action.BUY, "x", clock.now_ms(), t.last, 0), t)
    assert first is not None and first.outcome == "unknown"
    c.executor._broker = real
    clock.advance(c.settings.idempotency_bucket_ms * 3)  # a later bucket: the key is free
    second = await p.act(Decision("BTC/USDT", Action.BUY, "y", clock.now_ms(), t.last, 0), t)
    assert second is not None and second.outcome == "skipped"
    assert second.detail == "entry in flight" and len(c.broker.orders) == 0


async def test_rejected_exits_are_retried_at_a_measured_pace(paper, clock) -> None:
    c = paper(fixed_price=Decimal("100"))
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    await c.executor.enter("BTC/USDT", "in")
    c.broker._balances["BTC"] = D(0)  # sold elsewhere: every sell is refused
    outcomes = []
    for _ in range(10):
        clock.advance(1_000)
        outcomes.append((await c.executor.exit("BTC/USDT", "stop")).outcome)
    assert outcomes.count("rejected") == 2  # at 0 s and 5 s, not every second
    assert set(outcomes) == {"rejected", "skipped"}


async def test_reconcile_purges_expired_idempotency_keys(paper, clock) -> None:
    c = paper()
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    res = await c.executor.enter("BTC/USDT", "in")
    assert res.order is not None and c.repos.idempotency.exists(res.order.idempotency_key)
    await c.orchestrator.reconcile_once()
    assert c.repos.idempotency.exists(res.order.idempotency_key)  # still within its TTL
    clock.advance(c.settings.idempotency_ttl_sec * 1000)
    await c.orchestrator.reconcile_once()
    assert not c.repos.idempotency.exists(res.order.idempotency_key)


class _CountingBalances:
    """Wraps the paper broker and counts balance reads."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.reads = 0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def fetch_balance(self):
        self.reads += 1
        return await self._inner.fetch_balance()


async def test_entry_checks_reuse_a_recent_balance_less_what_was_sent(paper, clock) -> None:
    c = paper(balance_max_age_ms=2_000, idempotency_bucket_ms=1)
    await c.broker.load_markets(["BTC/USDT"])
    await c.feed.ticker("BTC/USDT")
    counting = c.executor._broker = _CountingBalances(c.executor._broker)
    start = (await c.executor.balances())["USDT"].free
    assert (await c.executor.balances())["USDT"].free == start and counting.reads == 1
    clock.advance(10)
    assert (await c.executor.enter("BTC/USDT", "one")).outcome == "sent"
    kept = await c.executor.balances()  # no read: what the buy may spend is taken off
    assert counting.reads == 1 and kept["USDT"].free == start - D(50)
    clock.advance(2_000)  # too old: read again, and the exchange's figure is the truth
    assert (await c.executor.balances())["USDT"].free == c.broker.balance("USDT")
    assert counting.reads == 2
