from decimal import Decimal as D

from crypto_ai_bot.domain.accounting import apply_fill
from crypto_ai_bot.domain.model import FillReport, MarketInfo, Position, Side

M = MarketInfo("BTC/USDT", "BTC", "USDT", D("0.000001"), D("0.1"), D("0.00001"), D("3"))


def fill(
    side: Side, price: str, amount: str, fee: str, ccy: str, tid: str, ts: int = 1
) -> FillReport:
    return FillReport(tid, "BTC/USDT", side, D(price), D(amount), D(fee), ccy, ts)


def test_buy_fee_in_base_reduces_position_and_sell_realises_pnl() -> None:
    p = Position("BTC/USDT")
    assert apply_fill(p, fill(Side.BUY, "100", "1", "0.001", "BTC", "1", ts=5), M) == 0
    assert p.base_amount == D("0.999")
    assert p.cost_basis == D("100")
    assert p.opened_ms == 5 and p.peak == D("100")
    pnl = apply_fill(p, fill(Side.SELL, "110", "0.999", "0.10989", "USDT", "2"), M)
    assert pnl == D("110") * D("0.999") - D("0.10989") - D("100")
    assert p.base_amount == 0 and p.cost_basis == 0 and p.peak == 0
    assert p.realized_pnl == pnl


def test_partial_sell_releases_proportional_cost() -> None:
    p = Position("BTC/USDT")
    apply_fill(p, fill(Side.BUY, "100", "2", "0", "BTC", "1"), M)
    pnl = apply_fill(p, fill(Side.SELL, "120", "1", "0", "USDT", "2"), M)
    assert pnl == D("20")
    assert p.base_amount == D("1") and p.cost_basis == D("100")
    assert p.entry_avg == D("100")


def test_second_buy_averages_entry() -> None:
    p = Position("BTC/USDT")
    apply_fill(p, fill(Side.BUY, "100", "1", "0", "BTC", "1"), M)
    apply_fill(p, fill(Side.BUY, "200", "1", "0", "BTC", "2"), M)
    assert p.entry_avg == D("150")
    assert p.peak == D("200")
