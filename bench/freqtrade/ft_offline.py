"""freqtrade's own CLI, with the markets it would download handed to it (the bench runs
offline): only Exchange._api_reload_markets is replaced, by spot markets with the paper venue's
steps and minimums; data loading, the backtest and its report are freqtrade's as installed.

    /path/to/ft-venv/bin/python bench/freqtrade/ft_offline.py backtesting -c CONFIG ...
"""

import sys
from typing import Any

from freqtrade.exchange import exchange as ft_exchange
from freqtrade.main import main

BASES = ["ADA", "BCH", "BNB", "BTC", "DOGE", "ETH", "INJ", "LTC", "OP", "SOL", "XRP"]


def _market(base: str, quote: str = "USDT") -> dict[str, Any]:
    return {
        "id": f"{base}{quote}", "symbol": f"{base}/{quote}", "base": base, "quote": quote,
        "baseId": base, "quoteId": quote, "settle": None, "settleId": None, "active": True,
        "type": "spot", "spot": True, "margin": False, "swap": False, "future": False,
        "option": False, "contract": False, "linear": None, "inverse": None,
        "contractSize": None, "expiry": None, "expiryDatetime": None, "strike": None,
        "optionType": None, "taker": 0.001, "maker": 0.001,
        "precision": {"amount": 1e-8, "price": 1e-8, "cost": None, "base": 1e-8, "quote": 1e-8},
        "limits": {"amount": {"min": 1e-8, "max": None}, "price": {"min": None, "max": None},
                   "cost": {"min": 1.0, "max": None}, "leverage": {"min": None, "max": None}},
        "info": {},
    }


async def _reload(self: Any, reload: bool = False) -> None:
    self._api_async.set_markets([_market(b) for b in BASES])


ft_exchange.Exchange._api_reload_markets = _reload

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
