"""The price board: the latest ticker per symbol, written by feeds, read by PaperBroker."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.domain.model import Ticker


class PriceBoard:
    def __init__(self) -> None:
        self._tickers: dict[str, Ticker] = {}

    def update(self, ticker: Ticker) -> None:
        self._tickers[ticker.symbol] = ticker

    def set_price(self, symbol: str, price: Decimal, ts_ms: int) -> None:
        """A ticker with no spread: backtests fill at the modelled price itself."""
        self._tickers[symbol] = Ticker(symbol, ts_ms, price, price, price)

    def get(self, symbol: str) -> Ticker | None:
        return self._tickers.get(symbol)
