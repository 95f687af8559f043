"""The exits a freqtrade strategy declares: trailing_stop_positive past its offset, the
trailing stop that waits for the offset, and minimal_roi as a take-profit by trade age."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.domain.model import Position, StopReason

D = Decimal


def _pos(peak: str, opened_ms: int = 0) -> Position:
    return Position("BTC/USDT", base_amount=D(1), cost_basis=D(100), entry_price=D(100),
                    peak=D(peak), opened_ms=opened_ms)


def test_trailing_positive_tightens_only_past_the_offset() -> None:
    x = ProtectiveExits(ExitsConfig(hard_stop_pct=D(10), trailing_pct=D(10),
                                    trailing_positive_pct=D(1), trailing_offset_pct=D(2)))
    assert x.stop_level(_pos("100")) == (D(90), StopReason.HARD_STOP)
    assert x.stop_level(_pos("101")) == (D("90.9"), StopReason.TRAILING_STOP)  # 10 % trail
    assert x.stop_level(_pos("103")) == (D("101.97"), StopReason.TRAILING_STOP)  # 1 % past 2 %


def test_only_offset_is_reached_keeps_the_hard_stop_until_then() -> None:
    x = ProtectiveExits(ExitsConfig(hard_stop_pct=D(10), trailing_pct=D(10),
                                    trailing_positive_pct=D(1), trailing_offset_pct=D(2),
                                    trailing_only_offset=True))
    assert x.stop_level(_pos("101.9")) == (D(90), StopReason.HARD_STOP)
    assert x.stop_level(_pos("102.5")).price == D("101.475")  # type: ignore[union-attr]


def test_minimal_roi_by_age() -> None:
    x = ProtectiveExits(ExitsConfig(hard_stop_pct=D(2), roi=((0, D(5)), (1_800_000, D(2)),
                                                             (7_200_000, D(0)))))
    assert x.takes_profit and not ProtectiveExits(ExitsConfig()).takes_profit
    p = _pos("100", opened_ms=1_000)
    assert x.take_profit(p, 1_000) == (D(105), StopReason.ROI)
    assert x.take_profit(p, 1_000 + 1_799_999).price == D(105)  # type: ignore[union-attr]
    assert x.take_profit(p, 1_000 + 1_800_000).price == D(102)  # type: ignore[union-attr]
    assert x.take_profit(p, 1_000 + 7_200_000).price == D(100)  # type: ignore[union-attr]
    later = ProtectiveExits(ExitsConfig(roi=((600_000, D(1)),)))
    assert later.take_profit(p, 1_000) is None  # nothing due before its first age
