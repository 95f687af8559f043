"""cab-smoke: the end-to-end smoke test (crypto_ai_bot.cli.e2e_smoke) as a command.

Exit 0 with `smoke ok: …`, 1 with `smoke FAILED: <step>: <why>`, 2 on a bad setting.
"""

from __future__ import annotations

from crypto_ai_bot.cli.e2e_smoke import main as _smoke_main


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test in-process on a temporary database."""
    return _smoke_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
