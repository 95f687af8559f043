"""End-to-end smoke test of the wired bot, in-process, on a throw-away database.

Builds the real container (paper broker, PRICE_FEED=fixed) on a temporary SQLite file, runs one
full cycle (reconcile, evaluate, protective exits, watchdog check), starts and stops the
orchestrator's loops, forces a paper buy and its exit through the executor, and reads /health
through the FastAPI app. Prints one verdict line; exit 0 when every step passed, 1 otherwise.

    python -m crypto_ai_bot.cli.e2e_smoke        (also: cab-smoke)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from crypto_ai_bot.api.server import create_app
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.config import Settings, load_settings
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.model import OrderStatus
from crypto_ai_bot.utils.logging import configure_logging

# The smoke always runs paper on a fixed price with fast loops, whatever .env says.
SMOKE_OVERRIDES: dict[str, Any] = {
    "mode": "paper",
    "sandbox": False,
    "price_feed": "fixed",
    "autostart": False,
    "instance_lock": "off",
    "eval_interval_sec": 0.05,
    "exits_interval_sec": 0.05,
    "reconcile_interval_sec": 0.05,
    "watchdog_interval_sec": 0.05,
}


class SmokeFailed(Exception):
    """A smoke step did not do what it must."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailed(message)


async def _cycle(c: Container) -> str:
    report = await c.orchestrator.reconcile_once(startup=True)
    _expect(report.ok, f"reconcile not clean: {report.as_dict()}")
    for symbol, p in c.pipelines.items():
        await p.evaluate()
        await p.protect()
        _expect(p.stats.candles > 0, f"evaluate saw no candle for {symbol}")
    stale = c.orchestrator.dms.check()
    _expect(not stale and not c.orchestrator.dms.tripped, f"watchdog: stale loops {stale}")
    return "cycle"


async def _loops(c: Container) -> str:
    _expect(await c.orchestrator.start(), "orchestrator did not start")
    try:
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            beats = c.heartbeats.snapshot()
            if c.orchestrator.cycles and all(n >= 2 for n in c.orchestrator.cycles.values()):
                break
            await asyncio.sleep(0.02)
        else:
            raise SmokeFailed(f"loops did not cycle within 5 s: {c.orchestrator.cycles}")
        _expect(c.orchestrator.watchdog.alive, "watchdog thread not running")
        _expect(set(beats) >= set(c.orchestrator.cycles), f"loops without a beat: {beats}")
    finally:
        await c.orchestrator.stop()
    _expect(not c.orchestrator.running, "orchestrator did not stop")
    return "loops"


async def _orders(c: Container) -> str:
    symbol = next(iter(c.pipelines))
    market = c.broker.market(symbol)
    buy = await c.executor.enter(symbol, "smoke: forced buy")
    _expect(buy.outcome == "sent" and buy.order is not None
            and buy.order.status is OrderStatus.FILLED, f"forced buy: {buy}")
    _expect(c.repos.positions.get(symbol).is_open(market.min_amount), "no position after buy")
    sell = await c.executor.exit(symbol, "smoke: forced exit")
    _expect(sell.outcome == "sent" and sell.order is not None
            and sell.order.status is OrderStatus.FILLED, f"forced exit: {sell}")
    _expect(not c.repos.positions.get(symbol).is_open(market.min_amount),
            "position still open after the exit")
    _expect(c.repos.trades.count() == 2, f"expected 2 fills, found {c.repos.trades.count()}")
    report = await c.orchestrator.reconcile_once()
    _expect(report.ok, f"reconcile after orders not clean: {report.as_dict()}")
    return "buy+exit filled"


def _log_level(settings: Settings, verbose: bool) -> str:
    """LOG_LEVEL when verbose, else WARNING and up: the verdict line is the output."""
    if verbose or logging.getLevelName(settings.log_level) >= logging.WARNING:
        return settings.log_level
    return "WARNING"


async def _health(c: Container) -> str:
    app = create_app(container=c)
    # create_app configures logging for a server (stdout): send it back to stderr.
    configure_logging(c.extras.get("log_level", "WARNING"), c.settings.log_format,
                      stream=sys.stderr)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://smoke"
    ) as client:
        resp = await client.get("/health")
        ready = await client.get("/ready")
        metrics = await client.get("/metrics")
    _expect(resp.status_code == 200, f"/health answered HTTP {resp.status_code}")
    status = resp.json().get("status")
    _expect(status == "ok", f"/health status {status!r}: {resp.text[:300]}")
    _expect(ready.status_code == 200, f"/ready answered HTTP {ready.status_code}: {ready.text}")
    _expect(b"cab_up 1.0" in metrics.content, "/metrics lacks cab_up 1.0")
    return "/health ok"


async def run_smoke(
    settings: Settings, *, say: Callable[[str], None] | None = None, log_level: str = "WARNING"
) -> str:
    """Run every step on a container built from settings; returns a summary, raises on failure."""
    c = build_container(settings)
    c.extras["log_level"] = log_level
    done: list[str] = []
    steps: list[tuple[str, Callable[[Container], Awaitable[str]]]] = [
        ("cycle", _cycle), ("loops", _loops), ("orders", _orders), ("health", _health),
    ]
    try:
        await c.start()
        _expect(c.broker_ready, f"broker not ready: {c.broker_error}")
        for name, step in steps:
            try:
                done.append(await step(c))
            except SmokeFailed:
                raise
            except Exception as exc:
                raise SmokeFailed(f"{name}: {type(exc).__name__}: {exc}") from exc
            if say:
                say(f"step {name}: ok")
    finally:
        await c.close()
    return ", ".join(done)


def smoke_settings(db_path: str, env_file: str | None = ".env") -> Settings:
    """Settings from the environment with the smoke's overrides and the given database.

    The environment is validated as it stands first, so a bad MODE is reported, not masked.
    """
    load_settings(env_file)
    return load_settings(env_file, **SMOKE_OVERRIDES, db_path=db_path)


def main(argv: list[str] | None = None) -> int:
    """Run the smoke; prints `smoke ok: …` (exit 0) or `smoke FAILED: …` (exit 1)."""
    parser = argparse.ArgumentParser(prog="cab-smoke", description="End-to-end smoke test.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each step and show info logs on stderr")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cab-smoke-") as tmp:
        try:
            settings = smoke_settings(str(Path(tmp) / "smoke.sqlite3"))
        except ConfigError as exc:
            print(f"config error: {exc}", file=sys.stderr)
            return 2
        level = _log_level(settings, args.verbose)
        configure_logging(level, settings.log_format, stream=sys.stderr)
        say = print if args.verbose else None
        try:
            summary = asyncio.run(run_smoke(settings, say=say, log_level=level))
        except ConfigError as exc:
            print(f"config error: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:
            print(f"smoke FAILED: {exc}")
            return 1
    symbols = ",".join(settings.symbol_list)
    print(f"smoke ok: paper {symbols}: {summary} ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
