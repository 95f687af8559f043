"""Where the tests find the repository and the shared real data, wherever a test file sits."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
OHLCV = REPO.parent / "shared" / "data" / "ohlcv"  # real candles; tests that use them skip
