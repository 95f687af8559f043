"""Protective exits: a hard stop below the entry price, a trailing stop below the peak, and a
take-profit by trade age (a strategy's minimal_roi).

The hard stop is measured from the entry's fill price (fees excluded), as freqtrade and other
backtesters do, so that results compare. The trailing stop may wait for a profit
(trailing_offset_pct, trailing_only_offset) and tighten past it (trailing_positive_pct), as
freqtrade's trailing_stop_positive* do; profits here are the peak's over the entry price, fees
excluded.
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
    # freqtrade's trailing_stop_positive (None: the trailing distance is trailing_pct) and
    # trailing_stop_positive_offset, trailing_only_offset_is_reached; in percent
    trailing_positive_pct: Decimal | None = None
    trailing_offset_pct: Decimal = Decimal(0)
    trailing_only_offset: bool = False
    # take-profit by trade age: (age in ms, profit %) from the youngest; the latest age reached
    # rules (freqtrade's minimal_roi); empty = off
    roi: tuple[tuple[int, Decimal], ...] = ()


class ProtectiveExits:
    def __init__(self, config: ExitsConfig) -> None:
        self.reconfigure(config)

    def reconfigure(self, config: ExitsConfig) -> None:
        """New stop distances from the next check on (the cockpit's reload)."""
        self.config = config
        self._hard = 1 - config.hard_stop_pct / _HUNDRED
        self._trail = 1 - config.trailing_pct / _HUNDRED
        positive = config.trailing_positive_pct
        self._positive = None if positive is None else 1 - positive / _HUNDRED
        self._offset = 1 + config.trailing_offset_pct / _HUNDRED
        self._plain = positive is None and not config.trailing_only_offset
        self._roi = tuple((age, 1 + pct / _HUNDRED) for age, pct in sorted(config.roi))

    @property
    def follows_peak(self) -> bool:
        """Whether a rising peak can move the stop (a trailing stop): the hard stop hangs on
        the entry price alone."""
        return self.config.enabled and self.config.trailing_pct > 0

    @property
    def takes_profit(self) -> bool:
        """Whether a take-profit by trade age is set (checked on every candle held)."""
        return self.config.enabled and bool(self._roi)

    def stop_level(self, position: Position) -> StopLevel | None:
        """The highest active stop for an open position, or None."""
        if not self.config.enabled or position.base_amount <= 0:
            return None
        best: StopLevel | None = None
        entry = position.entry_price if position.entry_price > 0 else position.entry_avg
        if self.config.hard_stop_pct > 0:
            best = StopLevel(entry * self._hard, StopReason.HARD_STOP)
        if self.config.trailing_pct > 0 and position.peak > 0:
            trail = self._trailing(position.peak, entry)
            if trail is not None and (best is None or trail.price > best.price):
                best = trail
        return best

    def _trailing(self, peak: Decimal, entry: Decimal) -> StopLevel | None:
        if self._plain:
            return StopLevel(peak * self._trail, StopReason.TRAILING_STOP)
        offset = entry * self._offset
        if self.config.trailing_only_offset and not (entry > 0 and peak >= offset):
            return None  # the stop waits for the offset's profit
        factor = self._positive if self._positive is not None and peak > offset else self._trail
        return StopLevel(peak * factor, StopReason.TRAILING_STOP)

    def take_profit(self, position: Position, now_ms: int) -> StopLevel | None:
        """The price that takes the profit due at the position's age, or None."""
        return self.take_profit_until(position, now_ms)[0]

    def take_profit_until(self, position: Position, now_ms: int) -> tuple[StopLevel | None, int]:
        """take_profit, and the time until which it stays due (the next age of the table)."""
        never = 2**62
        if not self._roi or not self.config.enabled or position.base_amount <= 0:
            return None, never
        age = now_ms - position.opened_ms
        factor, until = None, never
        for at, f in self._roi:
            if at > age:
                until = position.opened_ms + at
                break
            factor = f
        if factor is None:
            return None, until
        entry = position.entry_price if position.entry_price > 0 else position.entry_avg
        return StopLevel(entry * factor, StopReason.ROI), until

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
