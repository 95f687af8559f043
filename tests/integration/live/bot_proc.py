"""A bot process for the SIGKILL tests: `python bot_proc.py API_URL DB_PATH [BUCKET_MS]`.

It builds a live container against the emulator, reconciles, then places one entry and prints
`SENDING` just before; the test kills it while the emulator holds the answer back.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import SYMBOL, live_settings_for
from crypto_ai_bot.bootstrap import build_container


async def main(api_url: str, db_path: str, bucket_ms: int) -> None:
    settings = live_settings_for(api_url, Path(db_path), http_timeout_ms=60_000,
                                 idempotency_bucket_ms=bucket_ms)
    c = build_container(settings)
    await c.start()
    await c.orchestrator.reconcile_once(startup=True)
    print("SENDING", flush=True)
    result = await c.executor.enter(SYMBOL, "crash test")
    print("RESULT", result.outcome, flush=True)
    await c.close()


if __name__ == "__main__":
    bucket = int(sys.argv[3]) if len(sys.argv) > 3 else 3_600_000
    asyncio.run(main(sys.argv[1], sys.argv[2], bucket))
