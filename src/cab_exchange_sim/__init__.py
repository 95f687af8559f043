"""A self-contained Gate.io API v4 spot exchange emulator (no dependency on crypto_ai_bot)."""

from __future__ import annotations

from .app import create_app
from .config import SimConfig, build_simulator
from .exchange import Exchange
from .web import Simulator

__all__ = ["Exchange", "SimConfig", "Simulator", "build_simulator", "create_app"]
