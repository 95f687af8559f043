"""Strategies and the factory that builds one per symbol from settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crypto_ai_bot.application.strategies.ema_cross import EmaCross
from crypto_ai_bot.ports.strategy import Strategy


def build_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """A fresh strategy instance. Unknown names or parameters raise ValueError."""
    p = dict(params or {})
    if name == "ema_cross":
        fast = int(p.pop("fast", 12))
        slow = int(p.pop("slow", 26))
        if p:
            raise ValueError(f"ema_cross: unknown parameter(s) {', '.join(sorted(p))}")
        return EmaCross(fast=fast, slow=slow)
    if name == "ai":
        from crypto_ai_bot.application.strategies.ai import AiStrategy

        model_path = p.pop("model_path", "")
        if not model_path:
            raise ValueError("ai strategy needs model_path (AI_MODEL_PATH)")
        return AiStrategy.load(str(model_path), **p)
    raise ValueError(f"unknown strategy {name!r}; one of ema_cross, ai")
