"""The numbers of /orchestrator/status as people read them, beside the exact ones.

Each position of the status keeps its exact decimal strings; `display` adds the same values
rounded (domain/display.py): prices at the market's precision, money to the quote's cents,
the amount at the market's amount step, percentages to two places.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.errors import BrokerError
from crypto_ai_bot.domain.model import Decision, MarketInfo, Position, StopLevel
from crypto_ai_bot.ports.broker import Broker


def market_or_none(broker: Broker, symbol: str) -> MarketInfo | None:
    """The market's rules, None while the markets are not loaded (the broker not ready)."""
    try:
        return broker.market(symbol)
    except BrokerError:
        return None


def position_display(position: Position, level: StopLevel | None, last: Decision | None,
                     market: MarketInfo | None) -> dict[str, Any]:
    """The rounded twins of a status position's numbers."""
    stop_distance = None
    if level is not None and position.peak > 0:
        stop_distance = display.pct((position.peak - level.price) / position.peak * 100)
    return {
        "base_amount": display.amount(position.base_amount, market),
        "entry_avg": display.price(position.entry_avg, market),
        "peak": display.price(position.peak, market),
        "stop": display.price(level.price, market) if level else None,
        "stop_below_peak_pct": stop_distance,
        "realized_pnl_quote": display.money(position.realized_pnl),
        "last_decision_price": (None if last is None
                                else display.price(last.price, market)),
    }


def min_amount(market: MarketInfo | None) -> Decimal:
    return market.min_amount if market is not None else Decimal(0)
