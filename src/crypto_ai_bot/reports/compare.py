"""The bot's trades lined up with the backtest's on the same candles (cab-backtest --compare).

Trades meet by the candle whose close decided them, on both sides: the bot's entry is its buy
decision's candle (decision.made), its exit the sell decision's candle, or for a stop the
candle after the newest it had evaluated (the stop fell while that one formed); the backtest's
entry is the candle before its fill (a decision at a close fills at the next open), its signal
exit likewise, its stop exit the candle it fell in, its end-of-data exit the last candle.

- matched: both entered on the same candle, or within `tolerance` candles (the delay says by
  how many); missed: a backtest trade the bot did not make; extra: a bot trade the backtest did
  not make; open: a bot position still open at the end (the backtest's end-of-data exit is not
  compared with it).
- slippage, per fill, in percent against the backtest's price, signed so that positive is what
  the bot lost: it paid more on entry, got less on exit. Fees in quote, the base fee at its
  fill's price.
- zero drift on the decisions: nothing missed, nothing extra, every delay 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crypto_ai_bot.domain.model import ZERO
from crypto_ai_bot.drivers.backtest.engine import BacktestTrade

END_OF_DATA = "end_of_data"


@dataclass(frozen=True, slots=True)
class BotTrade:
    """A round trip the bot made, as its database tells it."""

    symbol: str
    entry_candle_ms: int  # the candle whose close decided the entry
    entry_ms: int  # the bot's clock at the entry fill
    entry_price: Decimal
    amount: Decimal
    entry_fee_quote: Decimal
    exit_candle_ms: int | None  # None while open
    exit_ms: int | None
    exit_price: Decimal | None
    exit_fee_quote: Decimal
    pnl_quote: Decimal
    exit_reason: str


@dataclass(frozen=True, slots=True)
class Pair:
    kind: str  # matched | open | missed | extra
    symbol: str
    bot: BotTrade | None
    backtest: BacktestTrade | None
    entry_delay: int | None = None  # candles, bot minus backtest
    exit_delay: int | None = None
    entry_slippage_pct: float | None = None
    exit_slippage_pct: float | None = None
    fees_diff_quote: Decimal | None = None  # bot minus backtest
    pnl_diff_quote: Decimal | None = None
    bt_entry_candle_ms: int | None = None
    bt_exit_candle_ms: int | None = None

    def row(self) -> dict[str, Any]:
        b, t = self.bot, self.backtest
        return {
            "kind": self.kind, "symbol": self.symbol,
            "bot_entry_candle_ms": b.entry_candle_ms if b else None,
            "backtest_entry_candle_ms": self.bt_entry_candle_ms,
            "bot_exit_candle_ms": b.exit_candle_ms if b else None,
            "backtest_exit_candle_ms": self.bt_exit_candle_ms,
            "bot_entry_price": str(b.entry_price) if b else None,
            "backtest_entry_price": str(t.entry_price) if t else None,
            "bot_exit_price": str(b.exit_price) if b and b.exit_price is not None else None,
            "backtest_exit_price": str(t.exit_price) if t else None,
            "bot_exit_reason": b.exit_reason if b else None,
            "backtest_exit_reason": str(t.exit_reason) if t else None,
            "entry_delay_candles": self.entry_delay, "exit_delay_candles": self.exit_delay,
            "entry_slippage_pct": _round(self.entry_slippage_pct),
            "exit_slippage_pct": _round(self.exit_slippage_pct),
            "bot_fees_quote": str(b.entry_fee_quote + b.exit_fee_quote) if b else None,
            "backtest_fees_quote": str(t.fees_quote) if t else None,
            "fees_diff_quote": _s(self.fees_diff_quote),
            "bot_pnl_quote": str(b.pnl_quote) if b else None,
            "backtest_pnl_quote": str(t.pnl_quote) if t else None,
            "pnl_diff_quote": _s(self.pnl_diff_quote),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _s(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def _bt_entry(t: BacktestTrade, step_ms: int) -> int:
    return t.entry_time_ms - step_ms


def _bt_exit(t: BacktestTrade, step_ms: int) -> int:
    if str(t.exit_reason) in ("signal", END_OF_DATA):
        return t.exit_time_ms - step_ms
    return t.exit_time_ms  # a stop: the candle it fell in


def line_up(bot: Sequence[BotTrade], backtest: Sequence[BacktestTrade], step_ms: int,
            tolerance: int = 3) -> list[Pair]:
    """Pairs in time order per symbol (module docstring)."""
    pairs: list[Pair] = []
    for symbol in sorted({t.symbol for t in bot} | {t.symbol for t in backtest}):
        mine = sorted((t for t in bot if t.symbol == symbol), key=lambda t: t.entry_candle_ms)
        theirs = sorted((t for t in backtest if t.symbol == symbol),
                        key=lambda t: t.entry_time_ms)
        used: set[int] = set()
        for t in theirs:
            best, gap = None, None
            for i, b in enumerate(mine):
                if i in used:
                    continue
                d = abs(b.entry_candle_ms - _bt_entry(t, step_ms)) // step_ms
                if d <= tolerance and (gap is None or d < gap):
                    best, gap = i, d
            if best is None:
                pairs.append(Pair("missed", symbol, None, t, bt_entry_candle_ms=_bt_entry(
                    t, step_ms), bt_exit_candle_ms=_bt_exit(t, step_ms)))
                continue
            used.add(best)
            pairs.append(_pair(mine[best], t, step_ms))
        for i, b in enumerate(mine):
            if i not in used:
                pairs.append(Pair("open" if b.exit_candle_ms is None else "extra", symbol, b,
                                  None))
    pairs.sort(key=lambda p: (p.symbol, p.bot.entry_candle_ms if p.bot
                              else p.bt_entry_candle_ms or 0))
    return pairs


def _pair(b: BotTrade, t: BacktestTrade, step_ms: int) -> Pair:
    bt_entry, bt_exit = _bt_entry(t, step_ms), _bt_exit(t, step_ms)
    entry_delay = (b.entry_candle_ms - bt_entry) // step_ms
    entry_slip = float((b.entry_price / t.entry_price - 1) * 100) if t.entry_price else None
    if b.exit_candle_ms is None:  # still open: the backtest sold it at the end of the data
        kind = "open" if str(t.exit_reason) == END_OF_DATA else "matched"
        return Pair(kind, b.symbol, b, t, entry_delay, None, entry_slip,
                    bt_entry_candle_ms=bt_entry, bt_exit_candle_ms=bt_exit)
    exit_delay = (b.exit_candle_ms - bt_exit) // step_ms
    exit_slip = (float((t.exit_price / b.exit_price - 1) * 100)
                 if b.exit_price else None)
    fees = b.entry_fee_quote + b.exit_fee_quote - t.fees_quote
    return Pair("matched", b.symbol, b, t, entry_delay, exit_delay, entry_slip, exit_slip,
                fees, b.pnl_quote - t.pnl_quote, bt_entry, bt_exit)


def totals(pairs: Sequence[Pair]) -> dict[str, Any]:
    """The counts and sums of a comparison, and whether the decisions drifted."""
    matched = [p for p in pairs if p.kind == "matched"]
    count = {k: sum(1 for p in pairs if p.kind == k) for k in ("matched", "missed", "extra",
                                                              "open")}
    delayed = [p for p in pairs if p.kind in ("matched", "open")
               and (p.entry_delay or p.exit_delay)]
    bot_pnl = sum((p.bot.pnl_quote for p in pairs if p.bot and p.bot.exit_candle_ms
                   is not None), ZERO)
    bt_pnl = sum((p.backtest.pnl_quote for p in pairs if p.backtest and p.kind != "open"),
                 ZERO)
    slips = [p.entry_slippage_pct for p in matched if p.entry_slippage_pct is not None] + [
        p.exit_slippage_pct for p in matched if p.exit_slippage_pct is not None]
    return {
        **count, "delayed": len(delayed),
        "zero_drift": not count["missed"] and not count["extra"] and not delayed,
        "bot_pnl_quote": str(bot_pnl), "backtest_pnl_quote": str(bt_pnl),
        "pnl_diff_quote": str(bot_pnl - bt_pnl),
        "matched_pnl_diff_quote": str(sum((p.pnl_diff_quote or ZERO for p in matched), ZERO)),
        "fees_diff_quote": str(sum((p.fees_diff_quote or ZERO for p in matched), ZERO)),
        "mean_slippage_pct": round(sum(slips) / len(slips), 6) if slips else None,
    }


def write_compare_png(path: Any, pairs: Sequence[Pair], title: str = "") -> bool:
    """Cumulative PnL of the bot and of the backtest over the trades in time order, and the
    slippage of each matched trade's fills. False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    from datetime import UTC, datetime

    def when(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    bot_points = [(p.bot.exit_candle_ms, p.bot.pnl_quote) for p in pairs
                  if p.bot and p.bot.exit_candle_ms is not None]
    bt_points = [(p.bt_exit_candle_ms, p.backtest.pnl_quote) for p in pairs
                 if p.backtest and p.kind != "open" and p.bt_exit_candle_ms is not None]
    for label, points in (("bot", bot_points), ("backtest", bt_points)):
        total, xs, ys = ZERO, [], []
        for candle, pnl in sorted(points):
            total += pnl
            xs.append(when(candle))
            ys.append(float(total))
        top.step(xs, ys, where="post", label=label)
    top.set_ylabel("cumulative PnL (quote)")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    matched = [p for p in pairs if p.kind == "matched" and p.bot]
    if matched:
        xs = [when(p.bot.entry_candle_ms) for p in matched if p.bot]
        bottom.scatter(xs, [p.entry_slippage_pct or 0.0 for p in matched], marker="^", s=14,
                       label="entry slippage %")
        bottom.scatter(xs, [p.exit_slippage_pct or 0.0 for p in matched], marker="v", s=14,
                       label="exit slippage %")
    bottom.axhline(0, color="black", linewidth=0.6)
    bottom.set_ylabel("slippage % (+ = bot worse)")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.grid(alpha=0.3)
    if title:
        top.set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
