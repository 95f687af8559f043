"""Trading performance over a period: fills, volumes, realised PnL and fees, by symbol and by
UTC day. The JSON keeps exact decimals; `display` beside them has the money to the cent.

Fees are converted to quote: a quote fee counts as is, a base fee at its fill's price. A fee in
any other currency (a platform token) cannot be priced here and is listed apart, per currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crypto_ai_bot.domain import display
from crypto_ai_bot.domain.model import ZERO, Side, split_symbol
from crypto_ai_bot.ports.storage import TradeRecord, TradesRepository
from crypto_ai_bot.utils.time import MS_PER_DAY, day_start_ms, iso_utc


@dataclass(slots=True)
class SymbolPerformance:
    symbol: str
    fills: int = 0
    buys: int = 0
    sells: int = 0
    bought_base: Decimal = ZERO
    sold_base: Decimal = ZERO
    bought_quote: Decimal = ZERO
    sold_quote: Decimal = ZERO
    realized_pnl_quote: Decimal = ZERO
    fees_quote: Decimal = ZERO
    fees_other: dict[str, Decimal] = field(default_factory=dict)

    def add(self, t: TradeRecord) -> None:
        base, quote = split_symbol(t.symbol)
        notional = t.price * t.amount
        self.fills += 1
        if t.side is Side.BUY:
            self.buys += 1
            self.bought_base += t.amount
            self.bought_quote += notional
        else:
            self.sells += 1
            self.sold_base += t.amount
            self.sold_quote += notional
        self.realized_pnl_quote += t.realized_pnl
        if t.fee_currency == quote:
            self.fees_quote += t.fee
        elif t.fee_currency == base:
            self.fees_quote += t.fee * t.price
        elif t.fee:
            self.fees_other[t.fee_currency] = self.fees_other.get(t.fee_currency, ZERO) + t.fee

    def as_dict(self) -> dict[str, Any]:
        return {
            "fills": self.fills,
            "buys": self.buys,
            "sells": self.sells,
            "bought_base": str(self.bought_base),
            "sold_base": str(self.sold_base),
            "bought_quote": str(self.bought_quote),
            "sold_quote": str(self.sold_quote),
            "realized_pnl_quote": str(self.realized_pnl_quote),
            "fees_quote": str(self.fees_quote),
            "fees_other": {c: str(v) for c, v in sorted(self.fees_other.items())},
            "display": {
                "bought_quote": display.money(self.bought_quote),
                "sold_quote": display.money(self.sold_quote),
                "realized_pnl_quote": display.money(self.realized_pnl_quote),
                "fees_quote": display.money(self.fees_quote),
            },
        }


@dataclass(slots=True)
class PerformanceReport:
    from_ms: int
    to_ms: int
    by_symbol: dict[str, SymbolPerformance] = field(default_factory=dict)
    by_day: dict[int, SymbolPerformance] = field(default_factory=dict)  # by UTC day start

    @property
    def fills(self) -> int:
        return sum(s.fills for s in self.by_symbol.values())

    @property
    def buys(self) -> int:
        return sum(s.buys for s in self.by_symbol.values())

    @property
    def sells(self) -> int:
        return sum(s.sells for s in self.by_symbol.values())

    @property
    def realized_pnl_quote(self) -> Decimal:
        return sum((s.realized_pnl_quote for s in self.by_symbol.values()), ZERO)

    @property
    def fees_quote(self) -> Decimal:
        return sum((s.fees_quote for s in self.by_symbol.values()), ZERO)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as exact strings. Totals add quote amounts of every symbol."""
        return {
            "from_ms": self.from_ms,
            "to_ms": self.to_ms,
            "fills": self.fills,
            "buys": self.buys,
            "sells": self.sells,
            "realized_pnl_quote": str(self.realized_pnl_quote),
            "fees_quote": str(self.fees_quote),
            "display": {"realized_pnl_quote": display.money(self.realized_pnl_quote),
                        "fees_quote": display.money(self.fees_quote)},
            "by_symbol": {s: p.as_dict() for s, p in sorted(self.by_symbol.items())},
            "by_day": [{"day": iso_utc(day)[:10], "from_ms": day, **p.as_dict()}
                       for day, p in sorted(self.days().items())],
        }

    def days(self) -> dict[int, SymbolPerformance]:
        """Every UTC day of the period, those without a fill included."""
        out = {day: SymbolPerformance("") for day in range(self.from_ms, self.to_ms, MS_PER_DAY)}
        out.update(self.by_day)
        return out


def period_ms(now_ms: int, days: int = 1) -> tuple[int, int]:
    """[start, end) of the last `days` UTC days, today included: days=1 is today."""
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    today = day_start_ms(now_ms)
    return today - (days - 1) * MS_PER_DAY, today + MS_PER_DAY


def summarize(trades: Iterable[TradeRecord], from_ms: int, to_ms: int) -> PerformanceReport:
    """Aggregate fills into a report (the caller chose them for [from_ms, to_ms))."""
    report = PerformanceReport(from_ms, to_ms)
    for t in trades:
        perf = report.by_symbol.get(t.symbol)
        if perf is None:
            perf = report.by_symbol[t.symbol] = SymbolPerformance(t.symbol)
        perf.add(t)
        day = day_start_ms(t.ts_ms)
        per_day = report.by_day.get(day)
        if per_day is None:
            per_day = report.by_day[day] = SymbolPerformance("")
        per_day.add(t)
    return report


def performance(repo: TradesRepository, from_ms: int, to_ms: int) -> PerformanceReport:
    """The report for fills stored with from_ms <= ts_ms < to_ms."""
    return summarize(repo.between(from_ms, to_ms), from_ms, to_ms)
