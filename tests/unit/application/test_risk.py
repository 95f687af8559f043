from decimal import Decimal as D

from crypto_ai_bot.application.risk import RiskConfig, RiskManager
from crypto_ai_bot.domain.model import FillReport, Side, Ticker, TradingState

T = Ticker("BTC/USDT", 0, D("100"), D("99.9"), D("100.1"))


def test_all_clear_returns_the_seed_format(paper, clock) -> None:
    c = paper()
    r = RiskManager(RiskConfig(), c.repos).check("BTC/USDT", T, D("1"), clock.now_ms())
    d = r.as_dict()
    assert d["ok"] is True and d["reasons"] == [] and "max_spread_pct" in d["limits"]


def test_each_rule_denies_with_a_reason(paper, clock) -> None:
    c = paper()
    repos = c.repos
    now = clock.now_ms()
    repos.positions.save(repos.positions.get("BTC/USDT"))
    cfg = RiskConfig(cooldown_sec=60, max_spread_pct=D("0.1"), max_position_base=D("0.5"),
                     max_orders_per_hour=1, daily_loss_limit_quote=D("10"))
    from crypto_ai_bot.domain.model import Intent, OrderType
    from crypto_ai_bot.domain.orders import OrderEvent
    repos.idempotency.claim("k", "cid", now, 1000)
    repos.orders.insert(OrderEvent.RECORDED, client_order_id="cid", symbol="BTC/USDT",
                        side=Side.BUY, type=OrderType.MARKET, intent=Intent.ENTRY, amount=None,
                        cost=D("1"), price=None, idempotency_key="k", reason="",
                        now_ms=now - 1000)
    repos.trades.add("paper", FillReport("t1", "BTC/USDT", Side.SELL, D("1"), D("1"), D("0"),
                                         "USDT", now), D("-12"))
    repos.state.set_trading_state(TradingState.REDUCING, "test", now)
    wide = Ticker("BTC/USDT", 0, D("100"), D("99"), D("101"))
    r = RiskManager(cfg, repos).check("BTC/USDT", wide, D("1"), now, D("5"), D("50"))
    assert not r.ok
    assert set(r.rules) == {"trading_state", "cooldown", "spread", "max_position",
                            "orders_per_hour", "daily_loss", "balance"}
    assert len(r.reasons) == 7
    # for people: percentages to two places, money to the cent
    assert "spread 2.00% above 0.1%" in r.reasons
    assert "daily loss 12.00 reached limit 10" in r.reasons
    assert "free quote 5.00 cannot pay 50.00" in r.reasons


def test_loss_from_yesterday_does_not_count(paper, clock) -> None:
    c = paper()
    now = clock.now_ms()
    c.repos.trades.add("paper", FillReport("t1", "BTC/USDT", Side.SELL, D("1"), D("1"), D("0"),
                                           "USDT", now - 3_600_000), D("-50"))
    r = RiskManager(RiskConfig(daily_loss_limit_quote=D("10")), c.repos).check(
        "BTC/USDT", T, D("1"), now)
    assert r.ok
