"""Position accounting from fills: base fees shrink the position, sells realise PnL."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.domain.model import ZERO, FillReport, MarketInfo, Position, Side


def apply_fill(position: Position, fill: FillReport, market: MarketInfo) -> Decimal:
    """Apply one fill to the position in place; returns the realised PnL in quote."""
    base, quote = market.base, market.quote
    if fill.side is Side.BUY:
        received = fill.amount - (fill.fee if fill.fee_currency == base else ZERO)
        paid = fill.price * fill.amount + (fill.fee if fill.fee_currency == quote else ZERO)
        if not position.is_open(market.min_amount):
            position.opened_ms = fill.ts_ms
            position.peak = fill.price
            position.exit_attempt = 0
            position.entry_price = fill.price
        else:  # weighted by what was received: the fee is the same share of every fill
            held = position.base_amount
            position.entry_price = (position.entry_price * held + fill.price * received) / (
                held + received
            )
        position.base_amount += received
        position.cost_basis += paid
        position.peak = max(position.peak, fill.price)
        position.updated_ms = fill.ts_ms
        return ZERO

    held = position.base_amount
    sold = fill.amount + (fill.fee if fill.fee_currency == base else ZERO)
    share = min(sold / held, Decimal(1)) if held > 0 else Decimal(1)
    released = position.cost_basis * share
    proceeds = fill.price * fill.amount - (fill.fee if fill.fee_currency == quote else ZERO)
    pnl = proceeds - released
    position.base_amount = max(held - sold, ZERO)
    position.cost_basis -= released
    position.realized_pnl += pnl
    position.updated_ms = fill.ts_ms
    if position.base_amount <= 0:
        position.cost_basis = ZERO
        position.peak = ZERO
        position.entry_price = ZERO
    return pnl
