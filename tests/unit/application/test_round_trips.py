"""Round trips from fills: a trip opens on a flat symbol's buy and closes on the sell that
leaves dust at most; PnL is what the fills realised, fees are counted in quote."""

from __future__ import annotations

from decimal import Decimal as D

from crypto_ai_bot.application.round_trips import exit_kind, round_trips
from crypto_ai_bot.domain.model import Side
from crypto_ai_bot.ports.storage import TradeRecord


def _fill(n: int, side: Side, price: str, amount: str, fee: str, fee_cur: str, pnl: str,
          cid: str, symbol: str = "BTC/USDT") -> TradeRecord:
    return TradeRecord("paper", f"t{n}", cid, f"x{n}", symbol, side, D(price), D(amount),
                       D(fee), fee_cur, D(pnl), n * 1000)


def test_trips_from_fills() -> None:
    fills = [
        _fill(1, Side.SELL, "10", "1", "0", "USDT", "0", "orphan"),  # held before: skipped
        _fill(2, Side.BUY, "100", "1", "0.001", "BTC", "0", "e1"),
        _fill(3, Side.BUY, "110", "1", "0.001", "BTC", "0", "e1"),
        _fill(4, Side.SELL, "120", "1.998", "0.2", "USDT", "28.5", "x1"),
        _fill(5, Side.BUY, "50", "1", "0", "USDT", "0", "e2", "ETH/USDT"),
        _fill(6, Side.BUY, "100", "1", "0.001", "BTC", "0", "e3"),
    ]
    done, still_open = round_trips(fills, lambda s: D("0.00001") if s == "BTC/USDT" else None)
    (trip,) = done
    assert (trip.id, trip.entry_ms, trip.exit_ms, trip.exit_order_id) == ("e1", 2000, 4000, "x1")
    assert trip.entry_price == D("105") and trip.exit_price == D("120")  # fees excluded
    assert trip.amount == D("2") and trip.cost_quote == D("210")
    assert trip.fees_quote == D("0.1") + D("0.11") + D("0.2")
    assert trip.pnl_quote == D("28.5") and trip.pnl_pct == D("13.5714")
    assert trip.duration_ms == 2000 and trip.fills == 3
    assert still_open == {"ETH/USDT": "e2", "BTC/USDT": "e3"}


def test_exit_kinds() -> None:
    assert exit_kind("signal: ema12 crossed below ema26") == "signal"
    assert exit_kind("trailing_stop") == "trailing_stop"
    assert exit_kind("force_exit: operator") == "force_exit"
    assert exit_kind("exchange stop fired") == "exchange_stop"
    assert exit_kind("dead man's switch: close") == "dead_mans_switch"
    assert exit_kind("") == "other"
