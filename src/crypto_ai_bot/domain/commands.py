"""Commands: frozen dataclasses named in the imperative, for what someone asks the bot to do.

Each has exactly one handler on the message bus, and its error reaches the sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto_ai_bot.domain.model import TradingState


@dataclass(frozen=True, slots=True)
class Command:
    pass


@dataclass(frozen=True, slots=True)
class SetTradingState(Command):
    """The operator's switch: ACTIVE, REDUCING (exits only) or HALTED."""

    state: TradingState
    reason: str
