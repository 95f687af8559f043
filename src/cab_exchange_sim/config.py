"""Emulator configuration: parsing the option values and building a Simulator from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .catalog import make_pair, pair_id
from .exchange import Exchange
from .models import Pair
from .persistence import load
from .prices import FilePath, PathFactory, load_candle_file
from .web import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT")
DEFAULT_BALANCES = {"USDT": Decimal("10000")}


@dataclass
class SimConfig:
    """Everything the command line can set."""

    host: str = "127.0.0.1"
    port: int = 8900
    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    balances: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_BALANCES))
    price_path: str = "synthetic"
    seed: int = 42
    tick_ms: int = 0
    state_file: str | None = None


def parse_balances(text: str) -> dict[str, Decimal]:
    """'USDT=10000,BTC=0' -> {'USDT': Decimal('10000'), 'BTC': Decimal('0')}."""
    out: dict[str, Decimal] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        code, sep, amount = item.partition("=")
        if not sep or not code.strip().isalnum():
            raise ValueError(f"bad balance {item!r} (expected CUR=AMOUNT)")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise ValueError(f"bad balance amount in {item!r}") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"bad balance amount in {item!r}")
        out[code.strip().upper()] = value
    return out


def parse_symbols(text: str) -> tuple[str, ...]:
    symbols = tuple(filter(None, (s.strip() for s in text.split(","))))
    if not symbols:
        raise ValueError("no symbols given")
    for symbol in symbols:
        if "/" not in symbol:
            raise ValueError(f"bad symbol {symbol!r} (expected BASE/QUOTE)")
        pair_id(symbol)
    return symbols


def parse_price_path(text: str, symbols: tuple[str, ...]) -> dict[str, Path]:
    """'synthetic', 'FILE' (for the first symbol) or 'SYM=FILE[,SYM=FILE]'."""
    if text == "synthetic":
        return {}
    ids = [pair_id(s) for s in symbols]
    if "=" not in text:
        return {ids[0]: Path(text)}
    out: dict[str, Path] = {}
    for item in text.split(","):
        symbol, _, file = item.partition("=")
        pid = pair_id(symbol)
        if pid not in ids:
            raise ValueError(f"price path symbol {symbol!r} is not in --symbols")
        out[pid] = Path(file.strip())
    return out


def _file_factory(rows: list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]],
                  ) -> PathFactory:
    return lambda: FilePath(rows)


def build_simulator(config: SimConfig) -> Simulator:
    """Pairs, price paths and the exchange for a configuration (ValueError if invalid).

    With a state file that exists, balances, orders, trades and prices are restored from it.
    """
    try:
        files = {pid: load_candle_file(path)
                 for pid, path in parse_price_path(config.price_path, config.symbols).items()}
    except ValueError as exc:
        raise ValueError(f"--price-path: {exc}") from None
    pairs: dict[str, Pair] = {}
    for symbol in config.symbols:
        pid = pair_id(symbol)
        first = files[pid][0][1] if pid in files else None
        pairs[pid] = make_pair(symbol, first)
    factories = {pid: _file_factory(rows) for pid, rows in files.items()}
    exchange = Exchange(pairs, config.balances, seed=config.seed, factories=factories)
    if config.state_file:
        try:
            load(exchange, config.state_file)
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise ValueError(f"--state-file: cannot restore {config.state_file}: {exc}") from None
    return Simulator(exchange, config.api_key, config.api_secret, config.tick_ms,
                     config.state_file)
