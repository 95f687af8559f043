"""Domain types and Decimal helpers shared by the emulator modules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
TEXT_RE = re.compile(r"^t-[0-9A-Za-z_.\-]{1,28}$")


class GateError(Exception):
    """An error answered as Gate does: HTTP status plus a JSON label and message."""

    def __init__(self, label: str, message: str, status: int = 400) -> None:
        super().__init__(f"{label}: {message}")
        self.label = label
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON body Gate sends for this error."""
        return {"label": self.label, "message": self.message}


def fmt(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def decimals(value: Decimal) -> int:
    """The number of significant decimal places of a value."""
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def quantize_down(value: Decimal, places: int) -> Decimal:
    """Round towards zero to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def to_decimal(value: object, name: str) -> Decimal:
    """Parse a request value (string, int or Decimal, never float) into a finite Decimal."""
    if isinstance(value, bool) or value is None:
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: {name}")
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: {name}") from None
    if not result.is_finite():
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: {name}")
    return result


@dataclass
class Pair:
    """A spot currency pair and its trading rules."""

    id: str
    base: str
    quote: str
    precision: int
    amount_precision: int
    min_base: Decimal
    min_quote: Decimal
    initial_price: Decimal

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"

    @property
    def tick(self) -> Decimal:
        return Decimal(1).scaleb(-self.precision)

    def round_price(self, value: Decimal) -> Decimal:
        """Round a price to the pair's price precision (never to zero)."""
        rounded = value.quantize(self.tick)
        return rounded if rounded > 0 else self.tick


@dataclass
class Account:
    """A spot balance."""

    available: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass
class Order:
    """A spot order as the engine keeps it."""

    id: int
    text: str
    pair: str
    type: str
    side: str
    amount: Decimal
    price: Decimal
    time_in_force: str
    create_ms: int
    update_ms: int
    left: Decimal
    fee_currency: str
    status: str = "open"
    finish_as: str = "open"
    filled_amount: Decimal = ZERO
    filled_total: Decimal = ZERO
    fee: Decimal = ZERO
    locked: Decimal = ZERO
    amend_text: str = "-"

    @property
    def avg_deal_price(self) -> Decimal:
        if self.filled_amount == 0:
            return ZERO
        return self.filled_total / self.filled_amount

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass
class Trade:
    """One fill of one of our orders."""

    id: int
    order_id: int
    pair: str
    side: str
    role: str
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    text: str
    create_ms: int


@dataclass
class TriggerOrder:
    """A spot price-triggered order (POST /spot/price_orders)."""

    id: int
    market: str
    rule: str
    trigger_price: Decimal
    expiration: int
    put_type: str
    put_side: str
    put_price: Decimal
    put_amount: Decimal
    put_tif: str
    put_account: str
    ctime_ms: int
    put_text: str | None = None
    trigger_text: str | None = None
    status: str = "open"
    ftime_ms: int = 0
    fired_order_id: int = 0
    reason: str = ""
