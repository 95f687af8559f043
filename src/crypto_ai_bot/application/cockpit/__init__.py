"""The operator's cockpit: what the bot shows (CockpitReader) and what it lets one do
(CockpitControl), for the HTTP API (api/v1.py) and the Telegram commands alike.

No web framework here: plain values (views.py: dataclasses, exact Decimals, integer ms) that
the API turns into its models. The bootstrap builds both and puts them on the Container
(`container.cockpit`, `container.control`).
"""

from crypto_ai_bot.application.cockpit.control import (
    OPERATOR,
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
from crypto_ai_bot.application.cockpit.views import (
    AuditEntry,
    BalanceView,
    CandleView,
    Chart,
    ConfigView,
    CurrencyBalance,
    EquityPoint,
    EquitySeries,
    EventsPage,
    IndicatorPoint,
    LoopBeat,
    Marker,
    NotFound,
    OrderHistoryEntry,
    OrdersPage,
    OrderView,
    Performance,
    PeriodPnl,
    Profit,
    Status,
    SymbolProfit,
    SymbolStatus,
    Trade,
    TradesPage,
)

__all__ = [
    "OPERATOR",
    "PERIODS",
    "RELOADABLE",
    "AuditEntry",
    "BalanceView",
    "CandleView",
    "Chart",
    "CockpitConfig",
    "CockpitControl",
    "CockpitParts",
    "CockpitReader",
    "ConfigView",
    "ControlParts",
    "ControlResult",
    "CurrencyBalance",
    "EquityPoint",
    "EquitySeries",
    "EventsPage",
    "IndicatorPoint",
    "LoopBeat",
    "Marker",
    "NotFound",
    "OrderHistoryEntry",
    "OrderView",
    "OrdersPage",
    "Performance",
    "PeriodPnl",
    "Profit",
    "Reread",
    "Status",
    "SymbolProfit",
    "SymbolStatus",
    "Trade",
    "TradesPage",
]
