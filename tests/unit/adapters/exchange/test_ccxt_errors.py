"""ccxt exceptions map onto the bot's own; order requests and reads map differently."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest

from crypto_ai_bot.adapters.exchange.ccxt.errors import (
    OrderRateLimited,
    is_retryable,
    map_ccxt_error,
)
from crypto_ai_bot.domain.errors import (
    AuthenticationFailed,
    BrokerError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)

CASES = [
    # ccxt error, on an order request, on a read
    (ccxt.InsufficientFunds, InsufficientFunds, InsufficientFunds),
    (ccxt.InvalidOrder, InvalidOrder, InvalidOrder),
    (ccxt.BadRequest, InvalidOrder, InvalidOrder),
    (ccxt.BadSymbol, InvalidOrder, InvalidOrder),
    (ccxt.ArgumentsRequired, InvalidOrder, InvalidOrder),
    (ccxt.AuthenticationError, AuthenticationFailed, AuthenticationFailed),
    (ccxt.PermissionDenied, AuthenticationFailed, AuthenticationFailed),
    (ccxt.OrderNotFound, OrderNotFound, OrderNotFound),
    (ccxt.RequestTimeout, OrderOutcomeUnknown, ExchangeUnavailable),
    (ccxt.NetworkError, OrderOutcomeUnknown, ExchangeUnavailable),
    (ccxt.ExchangeNotAvailable, OrderOutcomeUnknown, ExchangeUnavailable),
    (ccxt.OnMaintenance, OrderOutcomeUnknown, ExchangeUnavailable),
    (ccxt.BadResponse, OrderOutcomeUnknown, ExchangeUnavailable),
    (ccxt.RateLimitExceeded, OrderRateLimited, RateLimited),
    (ccxt.DDoSProtection, OrderRateLimited, RateLimited),
    (ccxt.ExchangeError, OrderRejected, BrokerError),
]


@pytest.mark.parametrize(("error", "on_create", "on_read"), CASES)
def test_mapping(error: type[Exception], on_create: type[BrokerError],
                 on_read: type[BrokerError]) -> None:
    created = map_ccxt_error(error("gate boom"), creating=True)
    read = map_ccxt_error(error("gate boom"))
    assert type(created) is on_create
    assert type(read) is on_read
    assert "gate boom" in str(created)


def test_every_order_request_error_is_rejected_or_unknown() -> None:
    """The executor's contract: a rejection releases the key, anything else stays UNKNOWN."""
    for error, _, _ in CASES:
        mapped = map_ccxt_error(error("x"), creating=True)
        assert isinstance(mapped, OrderRejected | OrderOutcomeUnknown | AuthenticationFailed
                          | OrderNotFound)


def test_429_on_an_order_is_a_rejection_never_an_unknown() -> None:
    mapped = map_ccxt_error(ccxt.RateLimitExceeded("429"), creating=True)
    assert isinstance(mapped, OrderRejected) and not isinstance(mapped, OrderOutcomeUnknown)


def test_only_transient_read_errors_are_retried() -> None:
    assert is_retryable(map_ccxt_error(ccxt.RequestTimeout("t")))
    assert is_retryable(map_ccxt_error(ccxt.RateLimitExceeded("429")))
    assert is_retryable(map_ccxt_error(ccxt.ExchangeNotAvailable("503")))
    assert not is_retryable(map_ccxt_error(ccxt.InsufficientFunds("no")))
    assert not is_retryable(map_ccxt_error(ccxt.AuthenticationError("key")))
    assert not is_retryable(map_ccxt_error(ccxt.RateLimitExceeded("429"), creating=True))
    assert not is_retryable(map_ccxt_error(ccxt.RequestTimeout("t"), creating=True))
    assert not is_retryable(ValueError("not ours"))
