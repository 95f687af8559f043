"""Protective exits: a hard stop below the entry price and a trailing stop below the peak.

The hard stop is measured from the entry's fill price (fees excluded), as freqtrade and other
backtesters do, so that results compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crypto_ai_bot.domain.model import ZERO, Position, StopLevel, StopReason

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class ExitsConfig:
    enabled: bool = True
    hard_stop_pct: Decimal = Decimal(2)  # 0 = off
    trailing_pct: Decimal = Decimal(0)  # 0 = off


class ProtectiveExits:
    def __init__(self, config: ExitsConfig) -> None:
        self.reconfigure(config)

    def reconfigure(self, config: ExitsConfig) -> None:
        """New stop distances from the next check on (the cockpit's reload)."""
        self.config = config
        self._hard = 1 - config.hard_stop_pct / _HUNDRED
        self._trail = 1 - config.trailing_pct / _HUNDRED

    @property
    def follows_peak(self) -> bool:
        """Whether a rising peak can move the stop (a trailing stop): the hard stop hangs on
        the entry price alone."""
        return self.config.enabled and self.config.trailing_pct > 0

    def stop_level(self, position: Position) -> StopLevel | None:
        """The highest active stop for an open position, or None."""
        if not self.config.enabled or position.base_amount <= 0:
            return None
        best: StopLevel | None = None
        if self.config.hard_stop_pct > 0:
            entry = position.entry_price if position.entry_price > 0 else position.entry_avg
            best = StopLevel(entry * self._hard, StopReason.HARD_STOP)
        if self.config.trailing_pct > 0 and position.peak > 0:
            trail = StopLevel(position.peak * self._trail, StopReason.TRAILING_STOP)
            if best is None or trail.price > best.price:
                best = trail
        return best

    @staticmethod
    def raise_peak(position: Position, price: Decimal) -> bool:
        """Move the peak up to price; True when it moved."""
        if price > position.peak:
            position.peak = price
            return True
        return False

    def triggered(self, position: Position, price: Decimal) -> StopLevel | None:
        """The stop that `price` breaches, if any."""
        level = self.stop_level(position)
        if level is not None and price > ZERO and price <= level.price:
            return level
        return None
