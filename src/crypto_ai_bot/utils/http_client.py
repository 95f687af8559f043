"""HTTP client helpers (httpx) for the bot's own tools: health monitor, emulator control."""

from __future__ import annotations

import httpx


def client(timeout_s: float = 5.0) -> httpx.Client:
    return httpx.Client(timeout=timeout_s, follow_redirects=False)
