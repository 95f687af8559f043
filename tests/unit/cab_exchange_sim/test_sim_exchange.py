"""Trigger orders, countdown cancel-all, prices and reset on a fake clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cab_exchange_sim.catalog import make_pair
from cab_exchange_sim.exchange import Exchange
from cab_exchange_sim.models import GateError

D = Decimal


class FakeClock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


def exchange(**balances: str) -> tuple[Exchange, FakeClock]:
    clock = FakeClock()
    pairs = {p.id: p for p in (make_pair("BTC/USDT"), make_pair("ETH/USDT"))}
    ex = Exchange(pairs, {k: D(v) for k, v in (balances or {"USDT": "10000"}).items()},
                  seed=1, clock=clock)
    return ex, clock


def stop_body(amount: str = "0.01", trigger: str = "59000", price: str = "58800",
              rule: str = "<=", side: str = "sell", **extra: Any) -> dict[str, Any]:
    return {"market": "BTC_USDT",
            "trigger": {"price": trigger, "rule": rule, "expiration": extra.get("exp", 86400)},
            "put": {"type": "limit", "side": side, "price": price, "amount": amount,
                    "account": "normal", "time_in_force": "gtc"}}


def test_initial_prices_are_realistic() -> None:
    ex, _ = exchange()
    assert ex.price("BTC_USDT") == D("60000") and ex.price("ETH_USDT") == D("3000")


def test_stop_fires_once_and_sells_at_market() -> None:
    ex, clock = exchange(USDT="0", BTC="0.01")
    trig = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), ex.price("BTC_USDT"), clock())
    ex.set_price("BTC_USDT", D("59500"))
    assert trig.status == "open"
    clock.ms += 1000
    ex.set_price("BTC_USDT", D("58900"))
    assert (trig.status, trig.reason) == ("finish", "success")
    sell = ex.engine.orders[trig.fired_order_id]
    assert sell.status == "closed" and sell.avg_deal_price == D("58900")
    assert ex.engine.account("USDT").available == D("589") * D("0.998")
    ex.set_price("BTC_USDT", D("58000"))
    assert len(ex.engine.orders) == 1


def test_stop_limit_below_a_gap_rests() -> None:
    ex, clock = exchange(BTC="0.01")
    trig = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), ex.price("BTC_USDT"), clock())
    ex.set_price("BTC_USDT", D("60000"))
    ex.set_price("BTC_USDT", D("58500"))  # gapped below the put's limit: the sell rests
    order = ex.engine.orders[trig.fired_order_id]
    assert trig.status == "finish" and order.status == "open"
    assert ex.engine.account("BTC").locked == D("0.01")
    ex.set_price("BTC_USDT", D("58800"))
    assert order.status == "closed" and order.avg_deal_price == D("58800")


def test_trigger_fails_without_balance_and_expires() -> None:
    ex, clock = exchange()
    lonely = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), D("60000"), clock())
    timed = ex.triggers.create(ex.pair("BTC_USDT"),
                               stop_body(trigger="61000", price="61000", rule=">=", side="buy",
                                         exp=60), D("60000"), clock())
    ex.set_price("BTC_USDT", D("58000"))
    assert lonely.status == "failed" and lonely.reason == "Not enough balance"
    clock.ms += 59_000
    ex.tick(0)
    assert timed.status == "open"
    clock.ms += 1_000
    ex.tick(0)
    assert timed.status == "expired"


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (stop_body(trigger="60500"), "AUTO_TRIGGER_PRICE_LESS_LAST"),
        (stop_body(trigger="59500", rule=">="), "AUTO_TRIGGER_PRICE_GREATE_LAST"),
        (stop_body(rule="<"), "INVALID_PARAM_VALUE"),
        (stop_body(exp=0), "INVALID_PARAM_VALUE"),  # Gate: trigger.expiration invalid range
        (stop_body(exp=-60), "INVALID_PARAM_VALUE"),
        (stop_body(exp=None), "MISSING_REQUIRED_PARAM"),
        (stop_body(price="58800.05"), "INVALID_PRECISION"),
        ({"market": "BTC_USDT"}, "MISSING_REQUIRED_PARAM"),
    ],
)
def test_trigger_validation(body: dict[str, Any], label: str) -> None:
    ex, clock = exchange()
    with pytest.raises(GateError) as info:
        ex.triggers.create(ex.pair("BTC_USDT"), body, D("60000"), clock())
    assert info.value.label == label


def test_trigger_listing_and_cancel_all() -> None:
    ex, clock = exchange()
    a = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), D("60000"), clock())
    b = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), D("60000"), clock())
    assert b.id == a.id + 1
    ex.triggers.cancel(str(a.id), clock())
    assert ex.triggers.list("open", "BTC_USDT", 100, 0) == [b]
    assert ex.triggers.list("finished", None, 100, 0) == [a]
    assert ex.triggers.cancel_all("BTC_USDT", clock()) == [b]
    with pytest.raises(GateError, match="ORDER_CANCELLED"):  # as Gate can answer
        ex.triggers.cancel(str(a.id), clock())
    with pytest.raises(GateError, match="ORDER_NOT_FOUND"):
        ex.triggers.cancel("79999999", clock())


def test_cancelling_a_fired_trigger_answers_order_closed() -> None:
    ex, clock = exchange(USDT="10000", BTC="0.01")
    fired = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), D("60000"), clock())
    ex.set_price("BTC_USDT", D("58900"))
    assert fired.status == "finish"
    with pytest.raises(GateError, match="ORDER_CLOSED"):
        ex.triggers.cancel(str(fired.id), clock())


def test_a_put_under_the_minimum_is_taken_and_fails_when_it_fires() -> None:
    ex, clock = exchange(USDT="10000", BTC="0.01")
    small = ex.triggers.create(ex.pair("BTC_USDT"), stop_body(amount="0.00001"), D("60000"),
                               clock())
    assert small.status == "open"
    ex.set_price("BTC_USDT", D("58900"))
    assert small.status == "failed" and small.fired_order_id == 0
    assert "too small" in small.reason


def test_a_quick_second_price_order_can_be_refused_repeat_request() -> None:
    ex, clock = exchange()
    ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), D("60000"), clock(), repeat_ms=1000)
    with pytest.raises(GateError, match="REPEAT_REQUEST"):
        ex.triggers.create(ex.pair("BTC_USDT"), stop_body(trigger="59100"), D("60000"),
                           clock(), repeat_ms=1000)
    ex.triggers.create(ex.pair("BTC_USDT"), stop_body(rule=">=", trigger="61000", side="buy",
                                                      price="61000"), D("60000"), clock(),
                       repeat_ms=1000)  # another rule is another request
    clock.ms += 1000
    ex.triggers.create(ex.pair("BTC_USDT"), stop_body(trigger="59100"), D("60000"), clock(),
                       repeat_ms=1000)


def test_countdown_cancels_the_pair_or_everything() -> None:
    ex, clock = exchange()
    btc = ex.place_order("BTC_USDT", "buy", "limit", D("0.001"), D("50000"), None, None)
    eth = ex.place_order("ETH_USDT", "buy", "limit", D("0.01"), D("2000"), None, None)
    assert ex.arm_countdown(10, "BTC_USDT") == clock() + 10_000
    clock.ms += 5_000
    assert ex.arm_countdown(10, "BTC_USDT") == clock() + 10_000  # re-armed: timer restarts
    clock.ms += 9_999
    ex.tick(0)
    assert btc.status == "open"
    clock.ms += 1
    ex.tick(0)
    assert btc.status == "cancelled" and eth.status == "open" and ex.countdowns == {}
    ex.arm_countdown(5, None)
    assert ex.arm_countdown(0, None) == 0 and ex.countdowns == {}
    ex.arm_countdown(5, None)
    clock.ms += 5_000
    ex.tick(0)
    assert eth.status == "cancelled"
    with pytest.raises(GateError, match="INVALID_PARAM_VALUE"):
        ex.arm_countdown(4, None)


def test_advance_walks_reproducibly_and_reset_restores() -> None:
    ex1, _ = exchange()
    ex2, _ = exchange()
    path1 = [ex1.advance(1)["BTC_USDT"] for _ in range(50)]
    path2 = [ex2.advance(1)["BTC_USDT"] for _ in range(50)]
    assert path1 == path2 and len(set(path1)) > 10
    assert all(D("50000") < p < D("70000") for p in path1)
    ex1.place_order("BTC_USDT", "buy", "limit", D("0.001"), D("50000"), None, None)
    ex1.settings.update({"fee_rate": "0.001"})
    ex1.reset(prices={"BTC_USDT": D("65000.04")})
    assert ex1.engine.orders == {} and ex1.price("BTC_USDT") == D("65000")
    assert ex1.engine.account("USDT").available == D("10000")
    assert ex1.settings.fee_rate == D("0.002")
    order = ex1.place_order("BTC_USDT", "buy", "limit", D("0.001"), D("50000"), None, None)
    assert order.id > 300_000_000_001  # ids keep increasing across resets


def test_dump_and_restore_round_trip(tmp_path: Any) -> None:
    from cab_exchange_sim.persistence import dump, load, save

    ex, clock = exchange(USDT="1000", BTC="0.05")
    ex.place_order("BTC_USDT", "buy", "limit", D("0.001"), D("50000"), None, "t-x")
    ex.place_order("BTC_USDT", "sell", "market", D("0.01"), None, None, None)
    ex.triggers.create(ex.pair("BTC_USDT"), stop_body(), D("60000"), clock())
    ex.arm_countdown(30, None)
    ex.set_price("ETH_USDT", D("3100.5"))
    path = str(tmp_path / "state.json")
    save(ex, path)
    copy, _ = exchange()
    assert load(copy, path)
    assert dump(copy) == dump(ex)
    assert copy.engine.find("BTC_USDT", "t-x").locked == D("50")
    nxt = copy.place_order("BTC_USDT", "buy", "limit", D("0.001"), D("50000"), None, None)
    assert nxt.id == max(ex.engine.orders) + 1
