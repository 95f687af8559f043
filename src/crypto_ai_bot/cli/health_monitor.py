"""cab-health: check the bot's /health over HTTP, once or in a loop.

Exit codes (of the single check, or of the last check in a loop): 0 healthy (HTTP 200 and
status "ok"), 1 not healthy (another HTTP code, or status degraded/down), 2 unreachable.
A bad setting in the environment also exits 2, with the variable named.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import httpx

from crypto_ai_bot.cli._common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, settings_or_exit
from crypto_ai_bot.utils import http_client
from crypto_ai_bot.utils.time import iso_utc, now_ms

DEFAULT_URL = "http://127.0.0.1:8000/health"
EXIT_UNREACHABLE = EXIT_CONFIG


@dataclass(frozen=True, slots=True)
class Check:
    code: int
    line: str


def check_once(client: httpx.Client, url: str) -> Check:
    """One GET of the health URL, judged."""
    started = time.monotonic()
    try:
        resp = client.get(url)
    except httpx.HTTPError as exc:
        return Check(EXIT_UNREACHABLE, f"UNREACHABLE {url}: {type(exc).__name__}: {exc}")
    ms = int((time.monotonic() - started) * 1000)
    status = "?"
    try:
        body = resp.json()
        if isinstance(body, dict):
            status = str(body.get("status", "?"))
    except ValueError:
        status = "not json"
    healthy = resp.status_code == 200 and status == "ok"
    verdict = "OK" if healthy else "UNHEALTHY"
    return Check(EXIT_OK if healthy else EXIT_FAIL,
                 f"{verdict} http={resp.status_code} status={status} {ms}ms {url}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cab-health", description="Check the bot's /health.")
    p.add_argument("--url", default=DEFAULT_URL, help=f"health URL (default {DEFAULT_URL})")
    p.add_argument("--oneshot", action="store_true", help="check once and exit")
    p.add_argument("--interval", type=float, default=10.0, metavar="SEC",
                   help="seconds between checks in a loop (default 10)")
    p.add_argument("--count", type=int, default=0, metavar="N",
                   help="stop after N checks (default: run until interrupted)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SEC",
                   help="HTTP timeout per check (default 5)")
    p.add_argument("-v", "--verbose", action="store_true", help="show info logs on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Check once (--oneshot) or every --interval seconds; exit code of the last check."""
    args = _parser().parse_args(argv)
    settings_or_exit(verbose=args.verbose)  # a bad environment is reported like elsewhere
    count = 1 if args.oneshot else max(args.count, 0)
    code = EXIT_OK
    n = 0
    with http_client.client(args.timeout) as client:
        try:
            while True:
                result = check_once(client, args.url)
                code = result.code
                n += 1
                line = result.line if args.oneshot else f"{iso_utc(now_ms())} {result.line}"
                print(line, flush=True)
                if count and n >= count:
                    break
                time.sleep(max(args.interval, 0.0))
        except KeyboardInterrupt:
            pass
    return code


if __name__ == "__main__":
    raise SystemExit(main())
