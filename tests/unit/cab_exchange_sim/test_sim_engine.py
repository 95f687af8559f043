"""The matching engine in pure Python: locks, fills, fees, time in force, partial fills."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from cab_exchange_sim.catalog import make_pair
from cab_exchange_sim.engine import Engine
from cab_exchange_sim.faults import SimSettings
from cab_exchange_sim.models import GateError, Order, Pair

D = Decimal
BTC = make_pair("BTC/USDT")
NOW = 1_700_000_000_000


def engine(usdt: str = "10000", btc: str = "0", **settings: str) -> Engine:
    sim = SimSettings()
    sim.update(dict(settings))
    eng = Engine({BTC.id: BTC}, sim)
    eng.set_balances({"USDT": D(usdt), "BTC": D(btc)})
    return eng


def place(eng: Engine, side: str, otype: str, amount: str, price: str | None = None,
          tif: str | None = None, text: str | None = None, market: str = "60000",
          pair: Pair = BTC) -> Order:
    return eng.place(pair, side, otype, D(amount), None if price is None else D(price), tif,
                     text, D(market), NOW)


def bal(eng: Engine, code: str) -> tuple[Decimal, Decimal]:
    acct = eng.account(code)
    return acct.available, acct.locked


def test_btc_rules_match_gate() -> None:
    assert (BTC.precision, BTC.amount_precision) == (1, 6)
    assert (BTC.min_base, BTC.min_quote) == (D("0.00001"), D("3"))
    eth = make_pair("ETH/USDT")
    assert (eth.precision, eth.amount_precision) == (2, 4)
    assert make_pair("SOL/USDT").initial_price == D("150")


def test_market_buy_spends_quote_and_pays_fee_in_base() -> None:
    eng = engine()
    order = place(eng, "buy", "market", "120")
    assert (order.status, order.finish_as, order.time_in_force) == ("closed", "filled", "ioc")
    assert order.filled_amount == D("0.002") and order.filled_total == D("120")
    assert order.fee == D("0.000004") and order.fee_currency == "BTC"
    assert order.avg_deal_price == D("60000") and order.left == 0
    assert bal(eng, "BTC") == (D("0.001996"), D(0))
    assert bal(eng, "USDT") == (D("9880"), D(0))
    assert [t.role for t in eng.trades] == ["taker"]


def test_market_sell_pays_fee_in_quote() -> None:
    eng = engine(btc="1")
    order = place(eng, "sell", "market", "0.5")
    assert order.status == "closed" and order.fee_currency == "USDT"
    assert order.fee == D("60")
    assert bal(eng, "USDT") == (D("10000") + D("30000") - D("60"), D(0))
    assert bal(eng, "BTC") == (D("0.5"), D(0))


def test_limit_locks_rests_and_fills_as_maker() -> None:
    eng = engine()
    order = place(eng, "buy", "limit", "0.1", "59000")
    assert order.status == "open" and bal(eng, "USDT") == (D("4100"), D("5900"))
    assert eng.match(BTC, D("59500"), NOW + 1) == []
    assert eng.match(BTC, D("58000"), NOW + 2) == [order]
    assert order.status == "closed" and order.avg_deal_price == D("59000")
    assert eng.trades[-1].role == "maker"
    assert bal(eng, "USDT") == (D("4100"), D(0))
    assert bal(eng, "BTC") == (D("0.0998"), D(0))


def test_limit_sell_locks_base() -> None:
    eng = engine(btc="0.2")
    order = place(eng, "sell", "limit", "0.2", "61000")
    assert bal(eng, "BTC") == (D(0), D("0.2"))
    eng.match(BTC, D("61000"), NOW)
    assert order.status == "closed" and bal(eng, "BTC") == (D(0), D(0))
    assert bal(eng, "USDT")[0] == D("10000") + D("12200") * D("0.998")


def test_crossing_limit_buy_fills_at_market_and_releases_surplus() -> None:
    eng = engine()
    order = place(eng, "buy", "limit", "0.1", "61000")
    assert order.status == "closed" and order.avg_deal_price == D("60000")
    assert bal(eng, "USDT") == (D("4000"), D(0))


@pytest.mark.parametrize(("tif", "finish_as"), [("ioc", "ioc"), ("fok", "fok")])
def test_non_crossing_ioc_and_fok_are_cancelled(tif: str, finish_as: str) -> None:
    eng = engine()
    order = place(eng, "buy", "limit", "0.1", "59000", tif)
    assert (order.status, order.finish_as, order.filled_amount) == ("cancelled", finish_as, D(0))
    assert bal(eng, "USDT") == (D("10000"), D(0))


def test_post_only_that_would_take_is_cancelled() -> None:
    order = place(engine(), "buy", "limit", "0.1", "60100", "poc")
    assert (order.status, order.finish_as) == ("cancelled", "poc")


def test_partial_fill_ratio() -> None:
    eng = engine(partial_fill_ratio="0.5")
    market = place(eng, "buy", "market", "600")
    assert (market.status, market.finish_as) == ("cancelled", "ioc")
    assert market.filled_total == D("300") and bal(eng, "USDT") == (D("9700"), D(0))
    limit = place(eng, "buy", "limit", "0.01", "60000")
    assert limit.status == "open" and limit.filled_amount == D("0.005")
    eng.match(BTC, D("60000"), NOW)
    assert limit.filled_amount == D("0.0075") and limit.status == "open"
    fok = place(eng, "buy", "limit", "0.01", "60000", "fok")
    assert (fok.finish_as, fok.filled_amount) == ("fok", D(0))


def test_validation_labels() -> None:
    eng = engine()
    cases = [
        (("buy", "limit", "1", "59000"), "BALANCE_NOT_ENOUGH"),
        (("sell", "market", "0.01"), "BALANCE_NOT_ENOUGH"),
        (("buy", "limit", "0.0000001", "59000"), "INVALID_PRECISION"),
        (("buy", "limit", "0.001", "59000.01"), "INVALID_PRECISION"),
        (("buy", "market", "10.25"), "INVALID_PRECISION"),
        (("buy", "limit", "0.000009", "59000"), "AMOUNT_TOO_LITTLE"),
        (("buy", "limit", "0.00004", "59000"), "AMOUNT_TOO_LITTLE"),
        (("buy", "market", "2"), "AMOUNT_TOO_LITTLE"),
        (("buy", "market", "10", None, "gtc"), "INVALID_PARAM_VALUE"),
        (("buy", "limit", "0.001"), "MISSING_REQUIRED_PARAM"),
        (("hold", "limit", "0.001", "1"), "INVALID_PARAM_VALUE"),
        (("buy", "limit", "0.001", "59000", None, "no-prefix"), "INVALID_PARAM_VALUE"),
        (("buy", "limit", "0.001", "59000", None, "t-" + "x" * 29), "INVALID_PARAM_VALUE"),
    ]
    for args, label in cases:
        with pytest.raises(GateError) as info:
            place(eng, *args)  # type: ignore[arg-type]
        assert info.value.label == label, args
    assert eng.orders == {} and bal(eng, "USDT") == (D("10000"), D(0))
    with pytest.raises(GateError, match="INVALID_CURRENCY_PAIR"):
        eng.pair("DOGE_USDT")


def test_find_by_text_only_while_open_and_cancel() -> None:
    eng = engine()
    first = place(eng, "buy", "limit", "0.001", "50000", text="t-a")
    second = place(eng, "buy", "limit", "0.001", "50000", text="t-a")
    assert second.id == first.id + 1
    assert eng.find(BTC.id, "t-a") is second
    assert eng.find(None, str(first.id)) is first
    eng.cancel(BTC.id, "t-a", NOW)
    assert eng.find(BTC.id, "t-a") is first
    eng.cancel(BTC.id, str(first.id), NOW)
    for ref in ("t-a", "999", "junk"):
        with pytest.raises(GateError, match="ORDER_NOT_FOUND"):
            eng.find(BTC.id, ref)
    assert eng.find(BTC.id, str(first.id)).finish_as == "cancelled"
    with pytest.raises(GateError, match="ORDER_NOT_FOUND"):
        eng.cancel(BTC.id, str(first.id), NOW)
    assert bal(eng, "USDT") == (D("10000"), D(0))


def test_cancel_all_by_side_and_amend() -> None:
    eng = engine(btc="1")
    buy = place(eng, "buy", "limit", "0.01", "50000")
    sell = place(eng, "sell", "limit", "0.01", "70000")
    assert eng.cancel_all(BTC.id, "sell", NOW) == [sell]
    amended = eng.amend(BTC, str(buy.id), D("0.02"), D("55000"), D("60000"), NOW, "t-amend")
    assert (amended.amount, amended.price, amended.amend_text) == (D("0.02"), D("55000"),
                                                                   "t-amend")
    assert bal(eng, "USDT") == (D("8900"), D("1100"))
    eng.amend(BTC, str(buy.id), None, D("60500"), D("60000"), NOW)  # now crosses: fills
    assert buy.status == "closed" and bal(eng, "USDT") == (D("8800"), D(0))
    with pytest.raises(GateError, match="ORDER_NOT_FOUND"):
        eng.amend(BTC, str(buy.id), None, D("1"), D("60000"), NOW)


@pytest.mark.parametrize("seed", range(5))
def test_random_operations_keep_balances_consistent(seed: int) -> None:
    rng = random.Random(seed)
    eng = engine(usdt="5000", btc="0.1", partial_fill_ratio=rng.choice(["1", "0.5", "0.3"]))
    price = D("60000")
    for step in range(300):
        action = rng.random()
        try:
            if action < 0.35:
                side, otype = rng.choice(["buy", "sell"]), rng.choice(["limit", "market"])
                if otype == "market" and side == "buy":
                    amount = str(rng.randint(5, 500))
                else:
                    amount = str(D(rng.randint(10, 5000)) / 100_000)
                limit = str(price + rng.randint(-1500, 1500)) if otype == "limit" else None
                place(eng, side, otype, amount, limit, rng.choice([None, "gtc", "ioc"])
                      if otype == "limit" else None, market=str(price))
            elif action < 0.75:
                price = max(D("1000"), price + rng.randint(-800, 800))
                eng.match(BTC, price, NOW + step)
            elif action < 0.9 and eng.open_orders():
                eng.cancel(BTC.id, str(rng.choice(eng.open_orders()).id), NOW)
            elif eng.open_orders():
                order = rng.choice(eng.open_orders())
                eng.amend(BTC, str(order.id), None, order.price + rng.randint(-300, 300),
                          price, NOW)
        except GateError:
            pass
        for code in ("USDT", "BTC"):
            acct = eng.account(code)
            assert acct.available >= 0 and acct.locked >= 0, (step, code, acct)
            held = sum((o.locked for o in eng.open_orders()
                        if (o.side == "buy") == (code == "USDT")), D(0))
            assert held == acct.locked, (step, code)
    usdt, btc = D("5000"), D("0.1")
    for trade in eng.trades:
        total = trade.amount * trade.price
        if trade.side == "buy":
            usdt, btc = usdt - total, btc + trade.amount - trade.fee
        else:
            usdt, btc = usdt + total - trade.fee, btc - trade.amount
    assert sum(bal(eng, "USDT")) == usdt and sum(bal(eng, "BTC")) == btc
    assert len(eng.trades) > 10
