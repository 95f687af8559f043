"""What a simulated venue charges and allows: the paper broker's terms, in paper and backtests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class MarketRules:
    """Precision steps and minimums of every simulated market."""

    amount_step: Decimal = Decimal("0.00000001")
    price_step: Decimal = Decimal("0.01")
    min_amount: Decimal = Decimal("0.00000001")
    min_cost: Decimal = Decimal("1")


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """PAPER_FEE_PCT (charged on every fill, percent) and PAPER_START_QUOTE (the starting
    balance of each quote currency)."""

    fee_pct: Decimal = Decimal("0.2")
    start_quote: Decimal = Decimal(10000)
    rules: MarketRules = field(default_factory=MarketRules)
