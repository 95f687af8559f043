"""The operator's chat commands (Telegram), answered by the cockpit's services as /api/v1 is.

`ChatCommands.answer(name, args)` returns the reply's text (the channel labels it and sends
it): reads through CockpitReader, control through CockpitControl, so a /stop from the chat
and a POST /api/v1/stop do the same thing, and /forceexit goes through the executor
(write-ahead, one exit in flight at most).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_EVEN, Decimal

from crypto_ai_bot.application.cockpit import (
    CockpitControl,
    CockpitReader,
    ControlResult,
    NotFound,
    Trade,
)

HELP = """commands:
/status - state, loops, positions with their PnL and stop
/profit - realised and unrealised PnL, win rate, best and worst trade
/daily [n] - PnL of the last n UTC days (7)
/balance - balances and equity
/trades [n] - the last n closed trades (5)
/stopentry - no new entries (REDUCING); exits go on
/resume - trading ACTIVE again
/start, /stop - start or stop the trading loops
/forceexit <symbol> - sell that position now
/help - this list"""

WHO = "telegram"


def _num(value: Decimal | None, places: int | None = 2) -> str:
    if value is None:
        return "-"
    if places is None:
        return format(value.normalize(), "f")
    return format(value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN), "f")


def _amount(value: Decimal, places: int) -> str:
    """A balance: the quote to the cent, other currencies to at most 8 places."""
    text = _num(value, places)
    return text.rstrip("0").rstrip(".") if places > 2 and "." in text else text


def _signed(value: Decimal | None, places: int = 2) -> str:
    text = _num(value, places)
    return text if text.startswith("-") or value is None else f"+{text}"


def _age(ms: int | None) -> str:
    if ms is None:
        return "-"
    minutes = ms // 60_000
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24:02d}h"


def _count(args: list[str], default: int, most: int) -> int:
    try:
        return max(1, min(int(args[0]), most)) if args else default
    except ValueError:
        return default


class ChatCommands:
    def __init__(self, reader: CockpitReader, control: CockpitControl) -> None:
        self._reader = reader
        self._control = control
        self._commands: dict[str, Callable[[list[str]], Awaitable[str]]] = {
            "status": self._status, "profit": self._profit, "daily": self._daily,
            "balance": self._balance, "trades": self._trades, "stopentry": self._stopentry,
            "resume": self._resume, "start": self._start, "stop": self._stop,
            "forceexit": self._forceexit, "help": self._help,
        }

    async def answer(self, name: str, args: list[str]) -> str:
        command = self._commands.get(name)
        if command is None:
            return f"unknown command /{name}; /help lists them"
        return await command(args)

    async def _help(self, _args: list[str]) -> str:
        return HELP

    async def _status(self, _args: list[str]) -> str:
        s = self._reader.status()
        lines = [f"status: {'running' if s.running else 'stopped'}, trading {s.trading_state}"
                 + (f" ({s.trading_reason})" if s.trading_reason else "")]
        if not s.broker_ready:
            lines.append(f"broker not ready: {s.broker_error}")
        for sym in s.symbols:
            price = _num(sym.price, sym.price_precision)
            if not sym.in_position:
                blocked = f", entries blocked: {sym.entries_blocked}" if sym.entries_blocked \
                    else ""
                lines.append(f"{sym.symbol} {price}: no position{blocked}")
                continue
            stop = (f", stop {_num(sym.stop_price, sym.price_precision)} ({sym.stop_reason})"
                    if sym.stop_price is not None else "")
            lines.append(
                f"{sym.symbol} {price}: {_num(sym.amount, sym.amount_precision)} from "
                f"{_num(sym.entry_price, sym.price_precision)}, PnL "
                f"{_signed(sym.unrealised_pnl_quote)} {s.quote} "
                f"({_signed(sym.unrealised_pnl_pct)} %){stop}, open {_age(sym.trade_age_ms)}")
        return "\n".join(lines)

    async def _profit(self, _args: list[str]) -> str:
        p = self._reader.profit()
        q = p.quote
        lines = [f"profit: {_signed(p.total_quote)} {q} (realised {_signed(p.realised_quote)}, "
                 f"unrealised {_signed(p.unrealised_quote)}); fees {_num(p.fees_quote)} {q}",
                 f"trades {p.trades}: {p.wins} won, {p.losses} lost"
                 + (f", win rate {_num(p.win_rate_pct)} %" if p.win_rate_pct is not None
                    else "")]
        if p.best is not None:
            lines.append(f"best: {_trade_line(p.best, q)}")
        if p.worst is not None:
            lines.append(f"worst: {_trade_line(p.worst, q)}")
        return "\n".join(lines)

    async def _daily(self, args: list[str]) -> str:
        perf = self._reader.performance("day", _count(args, 7, 60))
        lines = [f"daily PnL ({perf.quote}, UTC):"]
        lines += [f"{d.label}: {_signed(d.pnl_quote)} ({d.trades} trades)"
                  for d in reversed(perf.items)]
        return "\n".join(lines)

    async def _balance(self, _args: list[str]) -> str:
        b = await self._reader.balance()
        lines = [f"balance: equity {_num(b.equity_quote)} {b.quote}"
                 + (" (last stored: the broker does not answer)" if b.source != "broker"
                    else "")]
        for c in b.currencies:
            value = f" = {_num(c.value_quote)} {b.quote}" if c.value_quote is not None and \
                c.currency != b.quote else ""
            places = 2 if c.currency == b.quote else 8
            used = f" ({_amount(c.used, places)} in orders)" if c.used else ""
            lines.append(f"{c.currency}: {_amount(c.total, places)}{used}{value}")
        return "\n".join(lines)

    async def _trades(self, args: list[str]) -> str:
        page = self._reader.trades(limit=_count(args, 5, 30))
        if not page.items:
            return "trades: none closed yet"
        q = self._reader.config.quote
        lines = [f"last {len(page.items)} of {page.total} trades:"]
        lines += [_trade_line(t, q) for t in page.items]
        return "\n".join(lines)

    async def _stopentry(self, _args: list[str]) -> str:
        return _said(self._control.stop_entries(f"stop entries: {WHO}"))

    async def _resume(self, _args: list[str]) -> str:
        return _said(self._control.resume(f"resumed: {WHO}"))

    async def _start(self, _args: list[str]) -> str:
        return _said(await self._control.start())

    async def _stop(self, _args: list[str]) -> str:
        return _said(await self._control.stop())

    async def _forceexit(self, args: list[str]) -> str:
        if not args:
            return f"usage: /forceexit <symbol>, one of {', '.join(self._reader.symbols())}"
        symbol = self._symbol(args[0])
        try:
            return _said(await self._control.force_exit(symbol))
        except NotFound as exc:
            return str(exc)

    def _symbol(self, given: str) -> str:
        """BTC/USDT, btc/usdt, BTCUSDT, BTC_USDT, or BTC when one symbol has that base."""
        want = given.upper().replace("_", "/").replace("-", "/")
        known = self._reader.symbols()
        for s in known:
            if want in (s, s.replace("/", "")):
                return s
        bases = [s for s in known if s.split("/")[0] == want]
        return bases[0] if len(bases) == 1 else want


def _trade_line(t: Trade, quote: str) -> str:
    return (f"{t.symbol} {_signed(t.pnl_quote)} {quote} ({_signed(t.pnl_pct)} %), "
            f"{_price(t.entry_price)} -> {_price(t.exit_price)}, "
            f"{t.exit_reason}, {_age(t.duration_ms)}")


def _price(value: Decimal) -> str:
    """An average fill price, to places that suit its size (no market precision here)."""
    return _num(value, 2 if value >= 100 else 4 if value >= 1 else 8)


def _said(r: ControlResult) -> str:
    return ("ok: " if r.ok else "refused: ") + r.message
