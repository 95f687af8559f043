"""cab-reconcile: one reconcile pass for every symbol; exit 1 on a mismatch, 0 when clean.

Builds the container with AUTOSTART off (the trading loops never start), loads the markets and
runs the orchestrator's reconcile once. It writes (orders, the trading state), so it takes the
instance lock: beside a running bot, paper or live, it says who holds it and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crypto_ai_bot.application.reconcile.service import ReconcileReport
from crypto_ai_bot.bootstrap import build_container
from crypto_ai_bot.cli._common import (
    EXIT_FAIL,
    EXIT_OK,
    config_exit,
    fail,
    print_table,
    run_async,
    settings_or_exit,
)
from crypto_ai_bot.config import Settings
from crypto_ai_bot.domain.errors import BotError, ConfigError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cab-reconcile",
        description="One reconcile pass: local orders and positions against the exchange.",
    )
    p.add_argument("--db", metavar="PATH", help="database file (default: DB_PATH)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="show info logs on stderr")
    return p


async def _reconcile(settings: Settings) -> tuple[ReconcileReport | None, dict[str, Any]]:
    """Run one pass; returns the report (None when the broker could not load) and context."""
    c = build_container(settings)
    try:
        await c.start()
        if not c.broker_ready:
            return None, {"error": f"broker not ready: {c.broker_error}"}
        report = await c.orchestrator.reconcile_once()
        return report, {
            "trading_state": c.repos.state.trading_state().value,
            "trading_state_reason": c.repos.state.trading_state_reason(),
        }
    finally:
        await c.close()


def main(argv: list[str] | None = None) -> int:
    """Reconcile once; 0 clean, 1 mismatch or error, 2 bad configuration."""
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {"autostart": False}
    if args.db:
        overrides["db_path"] = args.db
    settings = settings_or_exit(verbose=args.verbose, **overrides)
    try:
        report, context = run_async(_reconcile(settings))
    except ConfigError as exc:
        config_exit(exc)
    except BotError as exc:
        return fail(str(exc))
    if report is None:
        return fail(str(context["error"]))
    if args.json:
        print(json.dumps({**report.as_dict(), "mismatches": report.mismatches, **context},
                         indent=2, sort_keys=True))
    else:
        _print_report(report, context)
    return EXIT_OK if report.ok else EXIT_FAIL


def _print_report(report: ReconcileReport, context: dict[str, Any]) -> None:
    rows = []
    for symbol, p in report.positions.items():
        rows.append((symbol, p.local, p.exchange, p.diff, "match" if p.ok else "MISMATCH"))
    print_table("Positions (local vs exchange, base)",
                ["symbol", "local", "exchange", "diff", "result"], rows,
                right=["local", "exchange", "diff"])
    order_rows = [
        (s, r.checked, ", ".join(r.settled) or "-", ", ".join(r.not_found) or "-",
         ", ".join(r.foreign) or "-")
        for s, r in report.orders.items()
    ]
    print_table("Orders not final", ["symbol", "checked", "settled", "not found", "unknown to us"],
                order_rows, right=["checked"])
    for symbol, error in sorted(report.errors.items()):
        print(f"error {symbol}: {error}", file=sys.stderr)
    state = context["trading_state"]
    reason = context["trading_state_reason"]
    print(f"trading state: {state}" + (f" ({reason})" if reason else ""))
    if report.ok:
        print(f"reconcile clean: {len(report.positions)} symbol(s) match the exchange")
    else:
        bad = report.mismatches + [s for s in report.errors if s not in report.mismatches]
        print(f"reconcile MISMATCH: {', '.join(bad)}")


if __name__ == "__main__":
    raise SystemExit(main())
