"""Key-value state: trading state, balances snapshot and other small facts."""

from __future__ import annotations

from decimal import Decimal

from crypto_ai_bot.adapters.storage.sqlite.database import Database
from crypto_ai_bot.domain.model import Balance, TradingState
from crypto_ai_bot.ports.storage import TRADING_REASON_KEY, TRADING_STATE_KEY


class SqliteState:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: str = "") -> str:
        row = self._db.one("SELECT value FROM kv WHERE key=?", (key,))
        return str(row[0]) if row else default

    def set(self, key: str, value: str, now_ms: int) -> None:
        self._db.execute(
            "INSERT INTO kv (key, value, updated_ms) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE"
            " SET value=excluded.value, updated_ms=excluded.updated_ms",
            (key, value, now_ms),
        )

    def trading_state(self) -> TradingState:
        return TradingState(self.get(TRADING_STATE_KEY, TradingState.ACTIVE.value))

    def trading_state_reason(self) -> str:
        return self.get(TRADING_REASON_KEY)

    def set_trading_state(self, state: TradingState, reason: str, now_ms: int) -> None:
        with self._db.transaction():
            self.set(TRADING_STATE_KEY, state.value, now_ms)
            self.set(TRADING_REASON_KEY, reason, now_ms)

    def save_balances(self, balances: dict[str, Balance], now_ms: int) -> None:
        with self._db.transaction():
            for b in balances.values():
                self._db.execute(
                    "INSERT INTO balances (currency, free, used, ts_ms) VALUES (?,?,?,?)"
                    " ON CONFLICT(currency) DO UPDATE SET free=excluded.free,"
                    " used=excluded.used, ts_ms=excluded.ts_ms",
                    (b.currency, str(b.free), str(b.used), now_ms),
                )

    def balances(self) -> dict[str, Balance]:
        rows = self._db.all("SELECT * FROM balances ORDER BY currency")
        return {
            r["currency"]: Balance(r["currency"], Decimal(r["free"]), Decimal(r["used"]))
            for r in rows
        }
