"""Helpers every cab-* command shares: settings, logging, asyncio, tables, exit codes.

Exit codes: 0 success, 1 the check failed or the work could not be done, 2 bad configuration
or input, 130 interrupted.
Command output goes to stdout; logs go to stderr so that `cab-perf --json | jq` stays clean.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Callable, Coroutine, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from rich.console import Console
from rich.table import Table

from crypto_ai_bot.adapters.candle_files import CandleFileError
from crypto_ai_bot.domain.errors import BrokerError, ConfigError, StorageError
from crypto_ai_bot.utils.logging import configure_logging

if TYPE_CHECKING:  # pydantic-settings costs ~0.13 s to import: commands that need no
    from crypto_ai_bot.config import Settings

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_CONFIG = 2


class BadInput(Exception):
    """A command-line argument or input file the command cannot use; the message says why."""


# the arguments cab-backtest, cab-optimize and cab-strategy share --------------------------

FREQTRADE_NAME = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z0-9]+)-\d+[mhdwM]")
SYMBOL = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9]+$")


def decimal_arg(flag: str, text: str, *, positive: bool = False,
                below: Decimal | None = None) -> Decimal:
    """A number flag: zero or more (positive: above zero), finite, and under `below` if given."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadInput(f"{flag}: not a number: {text!r}") from None
    if (not value.is_finite() or value < 0 or (positive and value == 0)
            or (below is not None and value >= below)):
        raise BadInput(f"{flag}: must be {'positive' if positive else 'zero or more'}: {text}")
    return value


def param_values(items: list[str]) -> dict[str, Any]:
    """--param KEY=VALUE ...: each value an int, else a float, else the text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--param {item!r}: expected KEY=VALUE")
        value: Any = raw
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
        out[key.strip()] = value
    return out


def symbol_from_file(path: str) -> str:
    """BTC/USDT from a freqtrade file name (BTC_USDT-5m.feather)."""
    m = FREQTRADE_NAME.match(Path(path).name)
    if not m:
        raise BadInput(f"cannot tell the symbol of {path}; name it with --symbol")
    return f"{m.group(1).upper()}/{m.group(2).upper()}"


def check_symbol(symbol: str) -> None:
    if not SYMBOL.match(symbol):
        raise BadInput(f"--symbol {symbol!r}: expected BASE/QUOTE, e.g. BTC/USDT")


def guarded(prog: str, work: Callable[[], int], *, interrupted: str = "interrupted") -> int:
    """Run a command's work with its exit codes: bad input or configuration 2 (one line on
    stderr naming the problem), an exchange error 1, Ctrl+C 130."""
    try:
        return work()
    except (BadInput, CandleFileError, ConfigError, StorageError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokerError as exc:
        print(f"{prog}: exchange error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130


def config_exit(exc: ConfigError) -> NoReturn:
    """Print the one-line config error and exit with code 2."""
    print(f"config error: {exc}", file=sys.stderr)
    raise SystemExit(EXIT_CONFIG)


def fail(message: str) -> int:
    """Print an error line to stderr; returns exit code 1 for `return fail(...)`."""
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAIL


def settings_or_exit(*, verbose: bool = False, **overrides: Any) -> Settings:
    """Load settings (env and `.env`, then overrides) and set up logging on stderr.

    A bad variable prints `config error: <VAR>: ...` and exits 2. Logs below WARNING are shown
    only with `verbose`, so that a command's own output is what the user reads.
    """
    from crypto_ai_bot.config import load_settings

    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        config_exit(exc)
    setup_logging(settings, verbose=verbose)
    return settings


def setup_logging(settings: Settings, *, verbose: bool = False) -> None:
    """Configure structlog for a command: to stderr, WARNING and up unless verbose."""
    level = settings.log_level
    if not verbose and logging.getLevelName(level) < logging.WARNING:
        level = "WARNING"
    configure_logging(level, settings.log_format, stream=sys.stderr, once=True)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)


def console() -> Console:
    """A console on stdout; plain (no colour codes) when stdout is not a terminal."""
    return Console(soft_wrap=False, highlight=False)


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
    *, right: Sequence[str] = (), width: int | None = None,
) -> None:
    """Print a table; columns named in `right` (numbers) are right-aligned. `width`: the
    console's width (e.g. 80), whatever the terminal says, so that the output fits it."""
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    out = console()
    if width is not None:
        out.width = min(out.width, width)
    out.print(table)


def human_size(n: int) -> str:
    """Bytes as a short human string: 512 B, 1.5 KiB, 3.2 MiB."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - loop always returns
