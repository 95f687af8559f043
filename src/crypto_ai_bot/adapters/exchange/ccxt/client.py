"""Construction of ccxt async exchange clients, shared by market data and the live broker.

ccxt is imported inside the function, so importing this module stays cheap and tests that never
talk to an exchange never load it. The client is returned untyped (`Any`): ccxt ships no types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crypto_ai_bot.domain.errors import ConfigError

# Options ccxt's gate class needs so that load_markets asks for spot markets only and does not
# call the unified-account endpoint (GATE_NOTES.md, "Pointing ccxt at another server").
_GATE_OPTIONS: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}, "unifiedAccount": False}
_GATE_IDS = frozenset({"gate", "gateio"})
# Older ids that current ccxt no longer exports (EXCHANGE=gateio is the settings default).
_ALIASES = {"gateio": "gate"}


def build_ccxt_exchange(
    exchange_id: str,
    *,
    api_url: str = "",
    sandbox: bool = False,
    api_key: str = "",
    secret: str = "",
    timeout_ms: int = 10000,
    enable_rate_limit: bool = True,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """A ccxt.async_support client for `exchange_id`; the caller must `await ex.close()`.

    `sandbox` switches to the exchange's testnet first; `api_url`, when set, then replaces every
    API endpoint so that no request can reach a real host (an emulator or a proxy). For Gate it
    may be given with or without the `/api/v4` suffix.
    `options` are merged over the defaults for the exchange. Unknown ids raise ConfigError.
    """
    import ccxt.async_support as ccxt_async  # optional at import time: see module docstring

    exchange_id = exchange_id.strip().lower()
    ccxt_id = _ALIASES.get(exchange_id, exchange_id)
    if ccxt_id not in ccxt_async.exchanges:
        raise ConfigError(f"EXCHANGE: {exchange_id!r} is not an exchange ccxt knows")
    cls = getattr(ccxt_async, ccxt_id)
    merged: dict[str, Any] = dict(_GATE_OPTIONS) if exchange_id in _GATE_IDS else {}
    merged.update(options or {})
    config: dict[str, Any] = {
        "enableRateLimit": enable_rate_limit,
        "timeout": int(timeout_ms),
        "options": merged,
    }
    if api_key:
        config["apiKey"] = api_key
    if secret:
        config["secret"] = secret
    ex = cls(config)
    if sandbox:
        try:
            ex.set_sandbox_mode(True)  # before any URL override: it swaps in urls["test"]
        except Exception as exc:  # ccxt raises NotSupported when there is no testnet
            raise ConfigError(f"SANDBOX: {exchange_id} has no sandbox in ccxt: {exc}") from None
    if api_url:
        base = api_url.strip().rstrip("/")
        if exchange_id in _GATE_IDS and not base.endswith("/api/v4"):
            base += "/api/v4"  # Gate signs /api/v4/... paths: a server must serve under it
        point_at(ex, base)
    return ex


def point_at(ex: Any, api_url: str) -> None:
    """Point every API endpoint of a ccxt client at `api_url` (e.g. http://host:port/api/v4)."""
    base = api_url.rstrip("/")
    api = ex.urls.get("api")
    if isinstance(api, str):
        ex.urls["api"] = base
        return
    if not isinstance(api, dict):
        raise ConfigError(f"EXCHANGE_API_URL: cannot override the URLs of {ex.id}")
    for access, value in api.items():
        if isinstance(value, dict):
            for key in value:
                value[key] = base
        else:
            api[access] = base
