"""A paper-mode container on a temporary SQLite file with a manual clock and a fixed feed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.ports.clock import ManualClock

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def paper(make_settings: Callable[..., Any], clock: ManualClock) -> Callable[..., Container]:
    made: list[Container] = []

    def build(**overrides: Any) -> Container:
        overrides.setdefault("price_feed", "fixed")
        overrides.setdefault("fixed_price", Decimal("100"))
        overrides.setdefault("fixed_amount", Decimal("50"))
        overrides.setdefault("paper_fee_pct", Decimal("0.1"))
        overrides.setdefault("risk_cooldown_sec", 0)
        overrides.setdefault("autostart", False)
        c = build_container(make_settings(**overrides), clock=clock)
        made.append(c)
        return c

    yield build  # type: ignore[misc]
    for c in made:
        c.db.close()
