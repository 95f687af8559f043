"""Settings: the only module that reads the environment (and `.env`).

Every variable is typed and validated here. A bad value raises ConfigError with one line that
names the variable; commands turn it into exit code 2. Secrets are SecretStr and never printed.

The variables keep the flat names people set (RISK_COOLDOWN_SEC, PAPER_FEE_PCT, ...), and
Settings composes them into the frozen config of each subsystem (`risk_config`,
`exits_config`, `execution_config`, ...): the bootstrap hands each part its own config, and
nothing below it ever sees Settings. The backtest takes the same objects.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crypto_ai_bot.adapters.exchange.ccxt.config import ExchangeConfig
from crypto_ai_bot.adapters.feeds import FeedConfig
from crypto_ai_bot.application.exchange_stops import StopKeeperConfig
from crypto_ai_bot.application.execution import ExecutionConfig
from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.risk import RiskConfig
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.venue import VenueConfig
from crypto_ai_bot.drivers.live import OrchestratorConfig
from crypto_ai_bot.utils.time import TIMEFRAME_MS

Pct = Decimal


class Settings(BaseSettings):
    """Typed configuration. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
        env_ignore_empty=True,  # `VAR=` in .env means "use the default"
    )

    # mode and exchange
    mode: Literal["paper", "live"] = "paper"
    sandbox: bool = False
    exchange: str = "gateio"
    exchange_api_url: str = ""
    http_timeout_ms: int = Field(default=10_000, ge=100)
    exchange_orders_per_sec: int = Field(default=8, ge=0)  # per market; Gate allows 10
    exchange_requests_per_sec: int = Field(default=20, ge=0)
    symbol: str = "BTC/USDT"
    symbols: str = ""

    # trading
    fixed_amount: Decimal = Field(default=Decimal("100"), gt=0)
    price_feed: Literal["fixed", "synthetic", "replay", "live"] = "synthetic"
    fixed_price: Decimal = Field(default=Decimal("60000"), gt=0)
    replay_file: str = ""
    synthetic_seed: int = 42
    timeframe: str = "5m"
    strategy: str = "ema_cross"  # a name in the strategy registry (application/strategies)
    ema_fast: int = Field(default=12, ge=1)
    ema_slow: int = Field(default=26, ge=2)
    ai_model_path: str = ""

    # risk (percents: 0.3 means 0.3 %; 0 disables a limit)
    risk_cooldown_sec: int = Field(default=10, ge=0)
    risk_max_spread_pct: Pct = Field(default=Decimal("0.5"), ge=0)
    risk_max_position_base: Decimal = Field(default=Decimal("0"), ge=0)
    risk_max_orders_per_hour: int = Field(default=60, ge=0)
    risk_daily_loss_limit_quote: Decimal = Field(default=Decimal("100"), ge=0)

    # idempotency
    idempotency_bucket_ms: int = Field(default=60_000, ge=1)
    idempotency_ttl_sec: int = Field(default=3_600, ge=1)

    # orchestrator
    eval_interval_sec: float = Field(default=2.0, gt=0)
    exits_interval_sec: float = Field(default=1.0, gt=0)
    reconcile_interval_sec: float = Field(default=30.0, gt=0)
    watchdog_interval_sec: float = Field(default=5.0, gt=0)
    dms_timeout_ms: int = Field(default=120_000, ge=1_000)
    dms_action: Literal["halt", "close"] = "halt"
    exchange_countdown_sec: int = Field(default=120, ge=0)

    # the exchange-side backstop stop (live): how far under the bot's stop it rests, its limit
    # price under its trigger, and how much and how often it may move up
    exchange_stop_offset_pct: Pct = Field(default=Decimal("0.5"), ge=0, lt=100)
    exchange_stop_limit_pct: Pct = Field(default=Decimal("1"), gt=0, lt=100)
    exchange_stop_min_move_pct: Pct = Field(default=Decimal("0.2"), ge=0)
    exchange_stop_min_interval_sec: int = Field(default=10, ge=0)

    # protective exits
    exits_enabled: bool = True
    exits_hard_stop_pct: Pct = Field(default=Decimal("2"), ge=0, lt=100)
    exits_trailing_pct: Pct = Field(default=Decimal("1"), ge=0, lt=100)

    # storage and service
    db_path: str = "data/bot.sqlite3"
    backup_dir: str = "backups"
    backup_retention_days: int = Field(default=30, ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    api_token: SecretStr = SecretStr("")
    allow_unauthenticated_control: bool = False
    autostart: bool | None = None
    instance_lock: Literal["auto", "on", "off"] = "auto"

    # paper broker
    paper_start_quote: Decimal = Field(default=Decimal("10000"), ge=0)
    paper_fee_pct: Pct = Field(default=Decimal("0.2"), ge=0, lt=100)

    # keys: any one way
    api_key: SecretStr = SecretStr("")
    api_secret: SecretStr = SecretStr("")
    api_key_file: str = ""
    api_secret_file: str = ""
    api_key_b64: SecretStr = SecretStr("")
    api_secret_b64: SecretStr = SecretStr("")
    secrets_file: str = ""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, v: str) -> str:
        if v not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {v!r}; one of {', '.join(TIMEFRAME_MS)}")
        return v

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, v: str) -> str:
        from crypto_ai_bot.application.strategies import entry

        entry(v.strip())  # unknown: "unknown strategy 'x'; one of ..."
        return v.strip()

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, v: str) -> str:
        return _check_symbol(v)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: str) -> str:
        for part in v.split(","):
            if part.strip():
                _check_symbol(part.strip())
        return v

    @model_validator(mode="before")
    @classmethod
    def _live_reads_live_prices(cls, data: Any) -> Any:
        """PRICE_FEED defaults to live in live mode (a live bot trades on real prices)."""
        if isinstance(data, dict):
            mode = {k.lower(): v for k, v in data.items()}.get("mode")
            keys = {k.lower() for k in data}
            if str(mode).lower() == "live" and "price_feed" not in keys:
                return {**data, "price_feed": "live"}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.mode == "live" and not self._has_keys():
            raise ValueError(
                "MODE=live needs exchange keys: API_KEY and API_SECRET, or API_KEY_FILE and "
                "API_SECRET_FILE, or API_KEY_B64 and API_SECRET_B64, or SECRETS_FILE"
            )
        if self.mode == "live" and self.price_feed != "live":
            raise ValueError(
                f"PRICE_FEED={self.price_feed} cannot drive MODE=live: use PRICE_FEED=live"
            )
        if self.ema_fast >= self.ema_slow:
            raise ValueError("EMA_FAST must be smaller than EMA_SLOW")
        if self.price_feed == "replay" and not self.replay_file:
            raise ValueError("REPLAY_FILE is required when PRICE_FEED=replay")
        if self.strategy == "ai" and not self.ai_model_path:
            raise ValueError("AI_MODEL_PATH is required when STRATEGY=ai")
        return self

    def _has_keys(self) -> bool:
        key = self.api_key.get_secret_value() or self.api_key_file or (
            self.api_key_b64.get_secret_value())
        secret = self.api_secret.get_secret_value() or self.api_secret_file or (
            self.api_secret_b64.get_secret_value())
        return bool(key and secret) or bool(self.secrets_file)

    # derived values -------------------------------------------------------------------

    @property
    def symbol_list(self) -> list[str]:
        """SYMBOLS when set, else SYMBOL; upper-cased, order kept, no repeats."""
        raw = self.symbols if self.symbols.strip() else self.symbol
        out: list[str] = []
        for part in raw.split(","):
            sym = part.strip().upper()
            if sym and sym not in out:
                out.append(sym)
        return out

    @property
    def autostart_effective(self) -> bool:
        """AUTOSTART when set; otherwise on in paper and off in live."""
        return self.autostart if self.autostart is not None else self.mode == "paper"

    @property
    def instance_lock_enabled(self) -> bool:
        """Every process that trades takes the lock, paper as live (two paper bots on one
        database trade against each other's books); `off` is for tests and drills only."""
        return self.instance_lock != "off"

    def credentials(self) -> tuple[SecretStr, SecretStr]:
        """API key and secret from whichever source is set (plain, file, base64, JSON file)."""
        key = self.api_key.get_secret_value()
        secret = self.api_secret.get_secret_value()
        if not key and self.api_key_file:
            key = _read_secret_file("API_KEY_FILE", self.api_key_file)
        if not secret and self.api_secret_file:
            secret = _read_secret_file("API_SECRET_FILE", self.api_secret_file)
        if not key and self.api_key_b64.get_secret_value():
            key = _b64("API_KEY_B64", self.api_key_b64.get_secret_value())
        if not secret and self.api_secret_b64.get_secret_value():
            secret = _b64("API_SECRET_B64", self.api_secret_b64.get_secret_value())
        if (not key or not secret) and self.secrets_file:
            data = _read_secrets_json(self.secrets_file)
            key = key or str(data.get("api_key") or data.get("API_KEY") or "")
            secret = secret or str(data.get("api_secret") or data.get("API_SECRET") or "")
        return SecretStr(key), SecretStr(secret)

    # the subsystems' configs ----------------------------------------------------------

    @property
    def risk_config(self) -> RiskConfig:
        return RiskConfig(
            cooldown_sec=self.risk_cooldown_sec, max_spread_pct=self.risk_max_spread_pct,
            max_position_base=self.risk_max_position_base,
            max_orders_per_hour=self.risk_max_orders_per_hour,
            daily_loss_limit_quote=self.risk_daily_loss_limit_quote,
        )

    @property
    def exits_config(self) -> ExitsConfig:
        return ExitsConfig(enabled=self.exits_enabled, hard_stop_pct=self.exits_hard_stop_pct,
                           trailing_pct=self.exits_trailing_pct)

    @property
    def execution_config(self) -> ExecutionConfig:
        return ExecutionConfig(fixed_amount_quote=self.fixed_amount,
                               idempotency_bucket_ms=self.idempotency_bucket_ms,
                               idempotency_ttl_ms=self.idempotency_ttl_sec * 1000)

    @property
    def venue_config(self) -> VenueConfig:
        return VenueConfig(fee_pct=self.paper_fee_pct, start_quote=self.paper_start_quote)

    @property
    def stop_keeper_config(self) -> StopKeeperConfig:
        return StopKeeperConfig(
            offset_pct=self.exchange_stop_offset_pct, limit_pct=self.exchange_stop_limit_pct,
            min_move_pct=self.exchange_stop_min_move_pct,
            min_interval_ms=self.exchange_stop_min_interval_sec * 1000,
        )

    @property
    def loops_config(self) -> OrchestratorConfig:
        return OrchestratorConfig(
            evaluate_s=self.eval_interval_sec, exits_s=self.exits_interval_sec,
            reconcile_s=self.reconcile_interval_sec, watchdog_s=self.watchdog_interval_sec,
            countdown_s=self.exchange_countdown_sec if self.mode == "live" else 0,
            dms_timeout_ms=self.dms_timeout_ms, dms_action=self.dms_action,
        )

    @property
    def exchange_config(self) -> ExchangeConfig:
        key, secret = self.credentials()
        return ExchangeConfig(
            exchange=self.exchange, api_url=self.exchange_api_url, sandbox=self.sandbox,
            timeout_ms=self.http_timeout_ms, orders_per_sec=self.exchange_orders_per_sec,
            requests_per_sec=self.exchange_requests_per_sec,
            api_key=key.get_secret_value(), api_secret=secret.get_secret_value(),
        )

    @property
    def feed_config(self) -> FeedConfig:
        return FeedConfig(kind=self.price_feed, fixed_price=self.fixed_price,
                          replay_file=self.replay_file, synthetic_seed=self.synthetic_seed,
                          timeframe=self.timeframe)

    @property
    def strategy_params(self) -> dict[str, Any]:
        """The strategy's parameters from their variables (EMA_FAST/EMA_SLOW, AI_MODEL_PATH)."""
        if self.strategy == "ema_cross":
            return {"fast": self.ema_fast, "slow": self.ema_slow}
        if self.strategy == "ai":
            return {"model_path": self.ai_model_path}
        return {}

    def public_view(self) -> dict[str, Any]:
        """Settings safe to show: every secret replaced by whether it is set."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                out[name] = "set" if value.get_secret_value() else ""
            else:
                out[name] = str(value) if isinstance(value, Decimal) else value
        return out


def _check_symbol(v: str) -> str:
    parts = v.strip().split("/")
    if len(parts) != 2 or not all(p.isalnum() for p in parts):
        raise ValueError(f"{v!r} is not a symbol like BTC/USDT")
    return v.strip().upper()


def _read_secret_file(name: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {path}: {exc.strerror}") from None


def _b64(name: str, value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode().strip()
    except (binascii.Error, UnicodeDecodeError):
        raise ConfigError(f"{name}: not valid base64") from None


def _read_secrets_json(path: str) -> dict[str, Any]:
    text = _read_secret_file("SECRETS_FILE", path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"SECRETS_FILE: {path} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"SECRETS_FILE: {path} must hold a JSON object")
    return data


def load_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Read and validate the settings; ConfigError names the first bad variable."""
    try:
        kwargs: dict[str, Any] = dict(overrides)
        return Settings(_env_file=env_file, **kwargs)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        return f"{loc.upper()}: unknown setting (typo in .env?)"
    if not loc:
        return msg.removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if "secret" in loc or "key" in loc or "token" in loc else f" (got {got!r})"
    return f"{loc.upper()}: {msg.removeprefix('Value error, ')}{shown}"

