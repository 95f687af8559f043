from decimal import Decimal as D

from crypto_ai_bot.application.exits import ExitsConfig, ProtectiveExits
from crypto_ai_bot.domain.model import Position


def pos() -> Position:
    return Position("BTC/USDT", base_amount=D("1"), cost_basis=D("100"), peak=D("100"))


def test_hard_stop_below_entry() -> None:
    ex = ProtectiveExits(ExitsConfig(hard_stop_pct=D("2"), trailing_pct=D("0")))
    p = pos()
    assert ex.stop_level(p).price == D("98")  # type: ignore[union-attr]
    assert ex.triggered(p, D("98.01")) is None
    hit = ex.triggered(p, D("98"))
    assert hit is not None and hit.reason == "hard_stop"


def test_trailing_stop_follows_the_peak() -> None:
    ex = ProtectiveExits(ExitsConfig(hard_stop_pct=D("2"), trailing_pct=D("1")))
    p = pos()
    assert ex.stop_level(p).reason == "trailing_stop"  # type: ignore[union-attr]
    assert ex.raise_peak(p, D("110")) and not ex.raise_peak(p, D("105"))
    level = ex.stop_level(p)
    assert level is not None and level.price == D("108.9")
    assert ex.triggered(p, D("108.9")).reason == "trailing_stop"  # type: ignore[union-attr]


def test_disabled_or_flat_never_triggers() -> None:
    assert ProtectiveExits(ExitsConfig(enabled=False)).triggered(pos(), D("1")) is None
    assert ProtectiveExits(ExitsConfig()).triggered(Position("BTC/USDT"), D("1")) is None


def test_only_a_trailing_stop_follows_the_peak() -> None:
    """follows_peak says whether a higher peak can move the stop (backtests skip the stop's
    recomputation when it cannot): the hard stop hangs on the entry alone."""
    hard = ProtectiveExits(ExitsConfig(hard_stop_pct=D("2")))
    trailing = ProtectiveExits(ExitsConfig(hard_stop_pct=D("2"), trailing_pct=D("1")))
    off = ProtectiveExits(ExitsConfig(enabled=False, trailing_pct=D("1")))
    assert (hard.follows_peak, trailing.follows_peak, off.follows_peak) == (False, True, False)
    p = pos()
    before = hard.stop_level(p)
    assert hard.raise_peak(p, D("150")) and hard.stop_level(p) == before
