"""cab-backtest --compare DB: what the bot did against what the backtest says it would have.

The backtest sees what the bot saw, all of it read from the bot's database:
- the settings of its latest session (session.started, written when the process started):
  the strategy and its parameters, the timeframe, the stake, the fee, the stops, the risk
  limits;
- the candles it evaluated (the pipeline stores them in market_data as it evaluates), from the
  first of the session on (evaluation.started);
- the warm-up: the bot's first poll brings many candles at once and only the last one's signal
  counts, so the backtest's strategy sees the same candles but its signals before that last one
  are held (a strategy that signals while the bot was still warming up would otherwise trade
  where the bot could not).

The bot's trades are its fills since the session started, paired entry to exit by their
orders, each placed on the candle that decided it (reports/compare.py says how). Paper mode
fills at the ticker when the decision is made, the backtest at the next open: the prices differ
by the spread, the decisions not at all. Paper stops are checked on the ticker (the last close),
the backtest's on each candle's low: with stops on, their exits may fall on other candles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from crypto_ai_bot.application.execution import ExecutionConfig
from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.risk import RiskConfig
from crypto_ai_bot.application.strategies import build_strategy
from crypto_ai_bot.bootstrap import backtest_engine, open_storage, strategy_context
from crypto_ai_bot.cli._common import BadInput
from crypto_ai_bot.domain.candles import CandleSeries
from crypto_ai_bot.domain.model import ZERO, Action, Bar, Intent, Side, Signal, split_symbol
from crypto_ai_bot.domain.venue import VenueConfig
from crypto_ai_bot.drivers.backtest.engine import BacktestConfig
from crypto_ai_bot.drivers.backtest.runner import run
from crypto_ai_bot.ports.storage import AuditRecord, Repositories, TradeRecord
from crypto_ai_bot.ports.strategy import Strategy
from crypto_ai_bot.reports.compare import BotTrade, Pair, line_up, totals, write_compare_png
from crypto_ai_bot.utils.time import iso_utc, timeframe_ms

_ALL = 1 << 62
_HELD = Signal(Action.HOLD, "the bot's warm-up")


class _AfterWarmup:
    """The strategy as the bot ran it: every candle reaches it, but its signals count only
    from the candle whose signal the bot's first poll acted on."""

    def __init__(self, inner: Strategy, from_ms: int) -> None:
        self._inner, self._from = inner, from_ms
        self.name = inner.name
        self.warmup_candles = inner.warmup_candles

    def on_candle(self, bar: Bar) -> Signal:
        signal = self._inner.on_candle(bar)
        return signal if bar.ts_ms >= self._from else _HELD


@dataclass(frozen=True, slots=True)
class Session:
    started_ms: int
    mode: str
    settings: dict[str, Any]
    evaluated: dict[str, tuple[int, int]]  # symbol -> (first candle, last of the warm-up)
    candle_keys: dict[str, str]  # symbol -> the timeframe its candles are stored under


def _since(repos: Repositories, topic: str, started_ms: int) -> list[AuditRecord]:
    return sorted((r for r in repos.audit.recent(_ALL, topic) if r.ts_ms >= started_ms),
                  key=lambda r: r.ts_ms)


def _session(repos: Repositories, db: str) -> Session:
    found = repos.audit.recent(1, "session.started")
    if not found:
        raise BadInput(f"{db}: no session.started in its audit; run the bot (paper or live)"
                       " on it first")
    rec = found[0]
    starts = list(reversed(_since(repos, "evaluation.started", rec.ts_ms)))  # first wins
    evaluated = {r.symbol: (int(r.payload["first_candle_ts_ms"]),
                            int(r.payload["last_candle_ts_ms"])) for r in starts}
    keys = {r.symbol: str(r.payload["timeframe"]) for r in starts}
    if not evaluated:
        raise BadInput(f"{db}: its latest session evaluated no candle yet")
    return Session(rec.ts_ms, str(rec.payload.get("mode", "")), dict(rec.payload["settings"]),
                   evaluated, keys)


def _config(s: dict[str, Any], step: int) -> BacktestConfig:
    r = s.get("risk", {})
    return BacktestConfig(
        execution=ExecutionConfig(fixed_amount_quote=Decimal(s["stake"])),
        exits=ExitsConfig(enabled=bool(s["exits_enabled"]),
                          hard_stop_pct=Decimal(s["hard_stop_pct"]),
                          trailing_pct=Decimal(s["trailing_pct"])),
        risk=RiskConfig(cooldown_sec=int(r.get("cooldown_sec", 0)),
                        max_spread_pct=Decimal(r.get("max_spread_pct", "0")),
                        max_position_base=Decimal(r.get("max_position_base", "0")),
                        max_orders_per_hour=int(r.get("max_orders_per_hour", 0)),
                        daily_loss_limit_quote=Decimal(r.get("daily_loss_limit_quote", "0"))),
        venue=VenueConfig(fee_pct=Decimal(s["fee_pct"]), start_quote=Decimal(s["start_quote"])),
        strategy=str(s["strategy"]), params=dict(s.get("params") or {}), timeframe_ms=step,
    )


def _latest(records: Sequence[AuditRecord], symbol: str, ts_ms: int,
            action: str | None = None) -> AuditRecord | None:
    best = None
    for r in records:
        if r.ts_ms > ts_ms:
            break
        if r.symbol == symbol and (action is None or r.payload.get("action") == action):
            best = r
    return best


def _bot_trades(repos: Repositories, session: Session, step: int) -> list[BotTrade]:
    """The bot's round trips since the session started, each placed on its deciding candle."""
    decisions = _since(repos, "decision.made", session.started_ms)
    stops = _since(repos, "exit.triggered", session.started_ms)
    out: list[BotTrade] = []
    for symbol in session.evaluated:
        quote = split_symbol(symbol)[1]
        by_order: dict[str, list[TradeRecord]] = {}
        for fill in repos.trades.between(session.started_ms, _ALL, symbol):
            by_order.setdefault(fill.client_order_id, []).append(fill)
        orders = sorted((o for o in map(repos.orders.get, by_order) if o is not None),
                        key=lambda o: (o.created_ms, o.client_order_id))
        entry: tuple[Any, ...] | None = None
        for o in orders:
            fills = by_order[o.client_order_id]
            amount = sum((f.amount for f in fills), ZERO)
            price = sum((f.amount * f.price for f in fills), ZERO) / amount if amount else ZERO
            fee = sum((f.fee if f.fee_currency == quote else f.fee * f.price for f in fills),
                      ZERO)
            pnl = sum((f.realized_pnl for f in fills), ZERO)
            if o.intent is Intent.ENTRY and o.side is Side.BUY and entry is None:
                d = _latest(decisions, symbol, o.created_ms, "buy")
                candle = int(d.payload["candle_ts_ms"]) if d else o.created_ms
                entry = (candle, fills[0].ts_ms, price, amount, fee, pnl)
            elif o.side is Side.SELL and entry is not None:
                reason = o.reason.split(":")[0] if o.reason else "exit"
                if reason == "signal":
                    d = _latest(decisions, symbol, o.created_ms, "sell")
                    exit_candle = int(d.payload["candle_ts_ms"]) if d else o.created_ms
                else:
                    t = _latest(stops, symbol, o.created_ms)
                    seen = int(t.payload.get("candle_ts_ms") or 0) if t else 0
                    # the stop fell while the candle after the newest evaluated one formed
                    exit_candle = seen + step if seen else o.created_ms - o.created_ms % step
                out.append(BotTrade(symbol, entry[0], entry[1], entry[2], entry[3], entry[4],
                                    exit_candle, fills[-1].ts_ms, price, fee, entry[5] + pnl,
                                    reason))
                entry = None
        if entry is not None:
            out.append(BotTrade(symbol, entry[0], entry[1], entry[2], entry[3], entry[4],
                                None, None, None, ZERO, entry[5], "open"))
    return out


def _fmt(x: Any, spec: str = "") -> str:
    return "" if x is None else format(x, spec)


def _print(out: Console, session: Session, pairs: list[Pair], tot: dict[str, Any],
           limit: int = 40) -> None:
    s = session.settings
    out.print(f"compare: the bot's {session.mode} session of {iso_utc(session.started_ms)} UTC"
              f" against the backtest of {s['strategy']} {s.get('params') or {}} on"
              f" {s['timeframe']}, stake {s['stake']}, fee {s['fee_pct']} %, stops"
              f" {s['hard_stop_pct']} / {s['trailing_pct']} %"
              f"{'' if s['exits_enabled'] else ' (off)'}", highlight=False, soft_wrap=True)
    several = len({p.symbol for p in pairs}) > 1
    t = Table(title="trades: the bot against the backtest (Δ: bot minus backtest, in candles;"
              " slippage %: + = bot worse; PnL in quote; fees in compare.csv)",
              box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    cols = (["symbol"] if several else []) + [
        "kind", "entry candle", "Δin", "Δout", "slip in", "slip out", "bot", "backtest",
        "Δ PnL"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("symbol", "kind", "entry candle")
                     else "right", no_wrap=True)
    for p in pairs[:limit]:
        r = p.row()
        candle = r["bot_entry_candle_ms"] or r["backtest_entry_candle_ms"]
        cells = [p.kind, iso_utc(candle)[5:16] if candle else "",
                 _fmt(p.entry_delay), _fmt(p.exit_delay), _fmt(p.entry_slippage_pct, "+.3f"),
                 _fmt(p.exit_slippage_pct, "+.3f"),
                 _fmt(p.bot.pnl_quote if p.bot else None, ",.2f"),
                 _fmt(p.backtest.pnl_quote if p.backtest else None, ",.2f"),
                 _fmt(p.pnl_diff_quote, ",.2f")]
        t.add_row(*([p.symbol] if several else []), *cells)
    out.print(t)
    if len(pairs) > limit:
        out.print(f"... {len(pairs) - limit} more in compare.csv (--out)")
    verdict = ("decisions: zero drift" if tot["zero_drift"] else
               f"decisions drift: {tot['missed']} missed, {tot['extra']} extra,"
               f" {tot['delayed']} on other candles")
    q = Decimal("0.0001")
    bot_pnl, bt_pnl, diff, fees = (Decimal(tot[k]).quantize(q) for k in (
        "bot_pnl_quote", "backtest_pnl_quote", "pnl_diff_quote", "fees_diff_quote"))
    out.print(f"{tot['matched']} matched, {tot['missed']} missed, {tot['extra']} extra,"
              f" {tot['open']} open; {verdict}\nPnL: bot {bot_pnl}, backtest {bt_pnl},"
              f" difference {diff} (fees {fees}; mean slippage {tot['mean_slippage_pct']} %)",
              highlight=False, soft_wrap=True)


def run_compare(db: str, *, out_dir: Path | None, plot: bool, out: Console,
                err: Console, tolerance: int = 3) -> int:
    if not Path(db).exists():
        raise BadInput(f"--compare {db}: no such database")
    with open_storage(db) as repos:
        session = _session(repos, db)
        step = timeframe_ms(str(session.settings["timeframe"]))
        series: dict[str, CandleSeries] = {}
        for symbol, (first, _warm) in session.evaluated.items():
            candles = repos.market_data.candles(symbol, session.candle_keys[symbol], first)
            if candles:
                series[symbol] = CandleSeries.of(candles)
        if not series:
            raise BadInput(f"{db}: the session's candles are not in market_data")
        bot = _bot_trades(repos, session, step)
    config = _config(session.settings, step)
    context = strategy_context()

    def strategy(symbol: str) -> Strategy:
        inner = build_strategy(config.strategy, config.params, context)
        return _AfterWarmup(inner, session.evaluated[symbol][1])

    result = run(backtest_engine(series, config, strategy_factory=strategy))
    pairs = line_up(bot, result.trades, step, tolerance)
    tot = totals(pairs)
    _print(out, session, pairs, tot)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        rows = [p.row() for p in pairs]
        doc = {"session": {"started_ms": session.started_ms, "mode": session.mode,
                           "settings": session.settings,
                           "evaluated": {k: list(v) for k, v in session.evaluated.items()}},
               "totals": tot, "trades": rows}
        (out_dir / "compare.json").write_text(json.dumps(doc, indent=2) + "\n",
                                              encoding="utf-8")
        import csv

        with (out_dir / "compare.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["kind"],
                               lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        wrote = ["compare.json", "compare.csv"]
        if plot:
            if write_compare_png(out_dir / "compare.png", pairs,
                                 f"bot ({session.mode}) against backtest"):
                wrote.append("compare.png")
            else:
                err.print("compare.png skipped: matplotlib is not installed"
                          " (pip install 'crypto-ai-bot[plot]')", markup=False, soft_wrap=True)
        out.print(f"wrote {', '.join(wrote)} to {out_dir}", highlight=False)
    return 0
