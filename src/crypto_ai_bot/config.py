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
import re
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crypto_ai_bot.adapters.exchange.ccxt.config import ExchangeConfig
from crypto_ai_bot.adapters.feeds import FeedConfig
from crypto_ai_bot.adapters.notify.config import KINDS as NOTIFY_KINDS
from crypto_ai_bot.adapters.notify.config import TELEGRAM_API, NotifyConfig
from crypto_ai_bot.adapters.notify.config import Level as NotifyLevel
from crypto_ai_bot.application.exchange_stops import StopKeeperConfig
from crypto_ai_bot.application.execution import ExecutionConfig
from crypto_ai_bot.application.exits import ExitsConfig
from crypto_ai_bot.application.risk import RiskConfig
from crypto_ai_bot.domain.errors import ConfigError
from crypto_ai_bot.domain.venue import VenueConfig
from crypto_ai_bot.drivers.live import OrchestratorConfig
from crypto_ai_bot.utils.time import TIMEFRAME_MS

Pct = Decimal

# Bounds of the intervals and timeouts. Every one is finite: `inf` would kill the thread or
# switch the safety that waits on it off, `1e-9` would pin a core.
_MIN_INTERVAL_S = 0.05  # the fastest loop: 20 cycles a second
_DAY_S = 86_400
_DAY_MS = _DAY_S * 1000
_MAX_HTTP_TIMEOUT_MS = 600_000  # ten minutes: beyond that a request is lost, not slow
_DMS_MARGIN = 2  # the switch waits at least twice the longest loop's interval (see below)


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
    http_timeout_ms: int = Field(default=10_000, ge=100, le=_MAX_HTTP_TIMEOUT_MS)
    exchange_orders_per_sec: int = Field(default=8, ge=0)  # per market; Gate allows 10
    exchange_requests_per_sec: int = Field(default=20, ge=0)  # per endpoint on Gate
    symbol: str = "BTC/USDT"
    symbols: str = ""

    # trading
    fixed_amount: Decimal = Field(default=Decimal("100"), gt=0)
    price_feed: Literal["fixed", "synthetic", "replay", "live"] = "synthetic"
    fixed_price: Decimal | None = Field(default=None, gt=0)  # None: per symbol (feeds.py)
    replay_file: str = ""
    synthetic_seed: int = 42
    timeframe: str = "5m"
    strategy: str = "ema_cross"  # a registered name, path/to/file.py:Class or module:Class
    strategy_params: str = ""  # k=v,k=v or a JSON object: the strategy's parameters
    strategy_check: bool = True  # the fast strategy check at start-up (false: skipped, loudly)
    ema_fast: int = Field(default=12, ge=1)
    ema_slow: int = Field(default=26, ge=2)
    ai_model_path: str = ""

    # risk (percents: 0.3 means 0.3 %; 0 disables a limit)
    risk_cooldown_sec: int = Field(default=10, ge=0, le=_DAY_S)
    risk_max_spread_pct: Pct = Field(default=Decimal("0.5"), ge=0)
    risk_max_position_base: Decimal = Field(default=Decimal("0"), ge=0)
    risk_max_orders_per_hour: int = Field(default=60, ge=0)
    risk_daily_loss_limit_quote: Decimal = Field(default=Decimal("100"), ge=0)

    # idempotency
    idempotency_bucket_ms: int = Field(default=60_000, ge=1, le=_DAY_MS)
    idempotency_ttl_sec: int = Field(default=3_600, ge=1, le=30 * _DAY_S)

    # orchestrator
    # (bounds: see _MIN_INTERVAL_S and _check_timings; a loop faster than 50 ms pins a core, one
    # slower than a day is a loop switched off)
    eval_interval_sec: float = Field(default=2.0, ge=_MIN_INTERVAL_S, le=_DAY_S,
                                     allow_inf_nan=False)
    exits_interval_sec: float = Field(default=1.0, ge=_MIN_INTERVAL_S, le=_DAY_S,
                                      allow_inf_nan=False)
    tickers_max_age_ms: int = Field(default=500, ge=0, le=_DAY_MS)  # live feed: one batch
    balance_max_age_ms: int = Field(default=2_000, ge=0, le=_DAY_MS)  # an entry's check
    reconcile_interval_sec: float = Field(default=30.0, ge=_MIN_INTERVAL_S, le=_DAY_S,
                                          allow_inf_nan=False)
    watchdog_interval_sec: float = Field(default=5.0, ge=_MIN_INTERVAL_S, le=_DAY_S,
                                         allow_inf_nan=False)
    dms_timeout_ms: int = Field(default=120_000, ge=1_000, le=_DAY_MS)
    dms_action: Literal["halt", "close"] = "halt"
    exchange_countdown_sec: int = Field(default=120, ge=0, le=_DAY_S)

    # the exchange-side backstop stop (live): how far under the bot's stop it rests, its limit
    # price under its trigger, and how much and how often it may move up
    exchange_stop_offset_pct: Pct = Field(default=Decimal("0.5"), ge=0, lt=100)
    exchange_stop_limit_pct: Pct = Field(default=Decimal("1"), gt=0, lt=100)
    exchange_stop_min_move_pct: Pct = Field(default=Decimal("0.2"), ge=0)
    exchange_stop_min_interval_sec: int = Field(default=10, ge=0, le=_DAY_S)
    # how long Gate keeps it waiting (renewed at half of it), the longest wait between
    # attempts to place it after a failure, and on a dedicated account: cancel price orders
    # the bot cannot account for
    exchange_stop_expiration_sec: int = Field(default=86_400, ge=60, le=30 * 86_400)
    exchange_stop_retry_max_sec: int = Field(default=300, ge=1, le=_DAY_S)
    exchange_stops_exclusive: bool = False

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

    # notifications (adapters/notify): Telegram, a webhook, and how loudly each kind is sent
    telegram_bot_token: SecretStr = SecretStr("")
    telegram_chat_id: str = ""
    telegram_api_url: str = Field(default=TELEGRAM_API, pattern=r"^https?://[^\s/]+")
    webhook_url: SecretStr = SecretStr("")
    webhook_format: Literal["json", "discord", "slack"] = "json"
    notify_entry: NotifyLevel = "on"
    notify_exit: NotifyLevel = "on"
    notify_stop: NotifyLevel = "on"
    notify_risk: NotifyLevel = "on"
    notify_state: NotifyLevel = "on"
    notify_reconcile: NotifyLevel = "on"
    notify_dms: NotifyLevel = "on"
    notify_lifecycle: NotifyLevel = "on"
    notify_queue_size: int = Field(default=100, ge=1, le=10_000)
    notify_timeout_ms: int = Field(default=10_000, ge=100, le=_MAX_HTTP_TIMEOUT_MS)
    notify_retries: int = Field(default=5, ge=0, le=100)

    @model_validator(mode="after")
    def _notify(self) -> Settings:
        token = self.telegram_bot_token.get_secret_value()
        if token and not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ValueError("TELEGRAM_BOT_TOKEN: not a bot token like 123456:ABC-def "
                             "(BotFather gives it)")
        if not re.fullmatch(r"(-?\d+)?", self.telegram_chat_id):
            raise ValueError("TELEGRAM_CHAT_ID: a chat id is a number (negative for a group), "
                             "as getUpdates shows it")
        if token and not self.telegram_chat_id:
            raise ValueError("TELEGRAM_CHAT_ID is required with TELEGRAM_BOT_TOKEN: the one "
                             "chat the bot writes to and answers")
        url = self.webhook_url.get_secret_value()
        if url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            raise ValueError("WEBHOOK_URL: not an http(s) URL")
        return self

    @property
    def notify_config(self) -> NotifyConfig:
        return NotifyConfig(
            label="[LIVE]" if self.mode == "live" else "[PAPER]",
            levels=MappingProxyType({k: getattr(self, f"notify_{k}") for k in NOTIFY_KINDS}),
            telegram_token=self.telegram_bot_token.get_secret_value(),
            telegram_chat_id=self.telegram_chat_id, telegram_api_url=self.telegram_api_url,
            webhook_url=self.webhook_url.get_secret_value(), webhook_format=self.webhook_format,
            queue_size=self.notify_queue_size, timeout_ms=self.notify_timeout_ms,
            retries=self.notify_retries,
        )

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

    @field_validator("api_token")
    @classmethod
    def _token(cls, v: SecretStr) -> SecretStr:
        """A token a Bearer header can carry: HTTP headers are latin-1 and trimmed."""
        token = v.get_secret_value()
        if token != token.strip():
            raise ValueError("has leading or trailing spaces, so no request could ever match it")
        try:
            token.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError("holds characters outside latin-1, which an HTTP header cannot "
                             "carry; use letters, digits and punctuation") from None
        if any(not c.isprintable() for c in token):
            raise ValueError("holds control characters, which an HTTP header cannot carry")
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
        self._check_timings()
        from crypto_ai_bot.application.strategies import parse_params

        try:
            parse_params(self.strategy, self.strategy_kwargs)
        except ValueError as exc:
            raise ValueError(f"STRATEGY_PARAMS: {exc}") from None
        return self

    def _check_timings(self) -> None:
        """The dead man's switch must outwait every loop it watches, and the watchdog must look
        at least twice per timeout. A loop beats after its step, so the gap between two beats
        is its interval plus the step's own time: the timeout is at least twice the longest
        interval, or a loop running on time would trip it."""
        loops = [("EVAL_INTERVAL_SEC", self.eval_interval_sec),
                 ("RECONCILE_INTERVAL_SEC", self.reconcile_interval_sec),
                 ("WATCHDOG_INTERVAL_SEC", self.watchdog_interval_sec)]
        if self.exits_enabled:
            loops.append(("EXITS_INTERVAL_SEC", self.exits_interval_sec))
        if self.mode == "live" and self.exchange_countdown_sec:
            # the countdown loop re-arms the exchange's timer four times per period
            loops.append(("EXCHANGE_COUNTDOWN_SEC/4", max(self.exchange_countdown_sec / 4, 1.0)))
        name, longest = max(loops, key=lambda item: item[1])
        need_ms = int(_DMS_MARGIN * longest * 1000)
        if self.dms_timeout_ms < need_ms:
            raise ValueError(
                f"DMS_TIMEOUT_MS={self.dms_timeout_ms} is shorter than twice {name}={longest:g} "
                f"s: the dead man's switch would halt a bot whose loops run on time; set "
                f"DMS_TIMEOUT_MS to {need_ms} or more, or shorten {name}"
            )

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
        return list(dict.fromkeys(s for part in raw.split(",") if (s := part.strip().upper())))

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
    def idempotency_bucket_effective_ms(self) -> int:
        """IDEMPOTENCY_BUCKET_MS of market time: an accelerated feed (synthetic, replay)
        closes a TIMEFRAME candle every EVAL_INTERVAL_SEC, so its bucket shrinks alike (60 s
        of a 5m candle closed every 2 s: 400 ms), and a new candle's decision is never taken
        for a duplicate of the last one's."""
        if self.price_feed not in ("synthetic", "replay"):
            return self.idempotency_bucket_ms
        scale = self.eval_interval_sec * 1000 / TIMEFRAME_MS[self.timeframe]
        return max(1, int(self.idempotency_bucket_ms * scale))

    @property
    def execution_config(self) -> ExecutionConfig:
        return ExecutionConfig(fixed_amount_quote=self.fixed_amount,
                               idempotency_bucket_ms=self.idempotency_bucket_effective_ms,
                               idempotency_ttl_ms=self.idempotency_ttl_sec * 1000,
                               balance_max_age_ms=self.balance_max_age_ms)

    @property
    def venue_config(self) -> VenueConfig:
        return VenueConfig(fee_pct=self.paper_fee_pct, start_quote=self.paper_start_quote)

    @property
    def stop_keeper_config(self) -> StopKeeperConfig:
        return StopKeeperConfig(
            offset_pct=self.exchange_stop_offset_pct, limit_pct=self.exchange_stop_limit_pct,
            min_move_pct=self.exchange_stop_min_move_pct,
            min_interval_ms=self.exchange_stop_min_interval_sec * 1000,
            expiration_sec=self.exchange_stop_expiration_sec,
            retry_max_ms=self.exchange_stop_retry_max_sec * 1000,
            exclusive=self.exchange_stops_exclusive,
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
                          timeframe=self.timeframe, symbols=tuple(self.symbol_list),
                          tickers_max_age_ms=self.tickers_max_age_ms)

    @property
    def strategy_kwargs(self) -> dict[str, Any]:
        """The strategy's parameters: from their own variables (EMA_FAST/EMA_SLOW,
        AI_MODEL_PATH), then STRATEGY_PARAMS."""
        base: dict[str, Any] = {}
        if self.strategy == "ema_cross":
            base = {"fast": self.ema_fast, "slow": self.ema_slow}
        elif self.strategy == "ai":
            base = {"model_path": self.ai_model_path}
        return {**base, **_key_values("STRATEGY_PARAMS", self.strategy_params)}

    def public_view(self) -> dict[str, Any]:
        """Settings safe to show: every secret replaced by whether it is set."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                out[name] = "set" if value.get_secret_value() else ""
            elif name in SECRET_BEARING:  # a file path, or the secret pasted in by mistake
                out[name] = "set" if value else ""
            else:
                out[name] = str(value) if isinstance(value, Decimal) else value
        return out


def _key_values(name: str, text: str) -> dict[str, Any]:
    """`k=v,k=v` or a JSON object; numbers stay numbers (the parameter model checks them)."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name}: not a JSON object ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{name}: not a JSON object")
        return data
    out: dict[str, Any] = {}
    for item in text.split(","):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{name}: expected key=value, got {item.strip()!r}")
        out[key.strip()] = raw.strip()
    return out
# Variables whose value is, or may by mistake be, a secret: their value is never shown.
SECRET_BEARING = frozenset({
    "api_token", "api_key", "api_secret", "api_key_file", "api_secret_file", "api_key_b64",
    "api_secret_b64", "secrets_file", "telegram_bot_token", "webhook_url",
})


def _check_symbol(v: str) -> str:
    parts = v.strip().split("/")
    if len(parts) != 2 or not all(p.isalnum() for p in parts):
        raise ValueError(f"{v!r} is not a symbol like BTC/USDT")
    return v.strip().upper()


def _read_secret_file(name: str, path: str) -> str:
    """The file's text. The error never shows the path: a key pasted in by mistake is one."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the "path"
        reason = getattr(exc, "strerror", None) or "not a file path"
        raise ConfigError(
            f"{name}: cannot read the file it names ({reason}); it must be the path of a file "
            "holding the secret, not the secret itself"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: the file it names is not UTF-8 text") from None


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
        raise ConfigError(f"SECRETS_FILE: the file is not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError("SECRETS_FILE: the file must hold a JSON object")
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
    shown = "" if loc in SECRET_BEARING or "secret" in loc or "key" in loc or "token" in loc else (
        f" (got {got!r})")
    return f"{loc.upper()}: {msg.removeprefix('Value error, ')}{shown}"

