"""The exchange adapter's own configuration (the bootstrap builds it from the settings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """EXCHANGE, EXCHANGE_API_URL, SANDBOX, HTTP_TIMEOUT_MS, EXCHANGE_ORDERS_PER_SEC (per
    market), EXCHANGE_REQUESTS_PER_SEC and the keys, which never appear in a repr."""

    exchange: str = "gateio"
    api_url: str = ""
    sandbox: bool = False
    timeout_ms: int = 10_000
    orders_per_sec: int = 8
    requests_per_sec: int = 20
    api_key: str = field(default="", repr=False)
    api_secret: str = field(default="", repr=False)

    @property
    def exchange_id(self) -> str:
        return self.exchange.strip().lower()
