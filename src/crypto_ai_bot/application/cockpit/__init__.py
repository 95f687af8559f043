"""The operator's cockpit: what the bot shows (CockpitReader) and what it lets one do
(CockpitControl), for the HTTP API (api/v1.py) and the Telegram commands alike.

No web framework here: plain values (views.py: dataclasses, exact Decimals, integer ms) that
the API turns into its models. The bootstrap builds both and puts them on the Container
(`container.cockpit`, `container.control`).
"""

from crypto_ai_bot.application.cockpit.control import (
    RELOADABLE,
    CockpitControl,
    ControlParts,
    ControlResult,
    Reread,
)
from crypto_ai_bot.application.cockpit.reader import (
    PERIODS,
    CockpitConfig,
    CockpitParts,
    CockpitReader,
)
from crypto_ai_bot.application.cockpit.views import NotFound

__all__ = [
    "PERIODS", "RELOADABLE", "CockpitConfig", "CockpitControl", "CockpitParts", "CockpitReader",
    "ControlParts", "ControlResult", "NotFound", "Reread",
]
