"""`cab-exchange-sim`: run the Gate.io API v4 spot emulator."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from .catalog import gate_usdt_markets
from .config import SimConfig, build_simulator, parse_balances, parse_price_path, parse_symbols

EPILOG = """\
Gate API v4 (signed with KEY/Timestamp/SIGN like Gate) is served under /api/v4.
Control API, no auth:
  GET  /_sim/state                       balances, orders, trades, trigger orders, prices
  GET  /_sim/stats                       requests and 429s per endpoint and rate-limit class
  POST /_sim/stats     {"clear": true}    count afresh
  POST /_sim/price     {"symbol": "BTC/USDT", "price": "61000"} or {"advance": N}
  POST /_sim/faults    {"latency_ms", "error_rate", "error_when": "before"|"after",
                        "rate_limit_next", "lose_next_orders", "lose_delay_ms",
                        "partial_fill_ratio", "fee_rate", "order_rate_limit",
                        "private_rate_limit", "public_rate_limit", "seed",
                        "echo_trigger_text", "price_order_repeat_ms"} or {"clear": true}
  POST /_sim/balances  {"USDT": "10000"}
  POST /_sim/reset     {"balances": {...}, "prices": {"BTC_USDT": "60000"}}
  POST /_sim/countdown {"fire": true}    expire armed countdown cancel-alls now
"""


# Idle connections are kept as long as Gate's front servers keep them (about a minute), not
# uvicorn's 5 s: a client that reuses a connection the server is closing sees it reset, which
# for an order is an unknown outcome that real Gate would not have caused.
KEEP_ALIVE_S = 65


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line naming the problem, exit status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cab-exchange-sim", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Local Gate.io API v4 spot exchange emulator.")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default="sim-key")
    parser.add_argument("--api-secret", default="sim-secret")
    parser.add_argument("--balances", default="USDT=10000", help="e.g. USDT=10000,BTC=0")
    parser.add_argument("--symbols", default="BTC/USDT,ETH/USDT", help="e.g. BTC/USDT,ETH/USDT")
    parser.add_argument("--markets", type=int, default=0, metavar="N",
                        help="list and tick the first N of Gate's USDT markets "
                             "(BTC/USDT, ETH/USDT, SOL/USDT ...) instead of --symbols")
    parser.add_argument("--price-path", default="synthetic",
                        help="synthetic, a CSV file timestamp_ms,o,h,l,c,v (.gz ok), "
                             "or SYMBOL=FILE[,SYMBOL=FILE]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tick-ms", type=int, default=0,
                        help="advance the price path every N ms (0: only through /_sim/price)")
    parser.add_argument("--state-file", default=None,
                        help="keep balances, orders and trades in this JSON file across restarts")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"])
    return parser


def parse_config(argv: list[str] | None) -> tuple[SimConfig, str]:
    """Parse and validate the command line; exits 2 with a one-line message when invalid."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port: {args.port} is not a port number")
    if args.tick_ms < 0:
        parser.error("--tick-ms: must be >= 0")
    if not args.api_key or not args.api_secret:
        parser.error("--api-key/--api-secret: must not be empty")
    try:
        symbols = parse_symbols(args.symbols)
    except ValueError as exc:
        parser.error(f"--symbols: {exc}")
    if args.markets:
        try:
            symbols = gate_usdt_markets(args.markets)
        except ValueError as exc:
            parser.error(f"--markets: {exc}")
    try:
        balances = parse_balances(args.balances)
    except ValueError as exc:
        parser.error(f"--balances: {exc}")
    try:
        parse_price_path(args.price_path, symbols)
    except ValueError as exc:
        parser.error(f"--price-path: {exc}")
    config = SimConfig(args.host, args.port, args.api_key, args.api_secret, symbols, balances,
                       args.price_path, args.seed, args.tick_ms, args.state_file)
    return config, args.log_level


def main(argv: list[str] | None = None) -> int:
    config, log_level = parse_config(argv)
    try:
        sim = build_simulator(config)
    except ValueError as exc:
        print(f"cab-exchange-sim: error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app

    url = f"http://{config.host}:{config.port}"
    print(f"cab-exchange-sim listening on {url} (Gate API v4 at {url}/api/v4, control at "
          f"{url}/_sim)", flush=True)
    uvicorn.run(create_app(sim), host=config.host, port=config.port, log_level=log_level,
                timeout_graceful_shutdown=1, timeout_keep_alive=KEEP_ALIVE_S)
    return 0
