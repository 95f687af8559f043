"""ccxt exceptions translated into the bot's own (utils/exceptions.py); nothing else leaks out.

Reads and order placement map differently: a timeout, a dropped connection or a 5xx on a read
is simply retryable, but on an order request it means the order may exist (OrderOutcomeUnknown).
A 429 on an order request is a definite non-execution: Gate counts and refuses the request
before it reaches the matching engine, so it is reported as OrderRateLimited, a rejection that
releases the idempotency key (a later decision may act); it is still never resent blindly.
"""

from __future__ import annotations

import ccxt.async_support as ccxt

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


class OrderRateLimited(OrderRejected):
    """The exchange refused an order request with 429 before executing it; a later one may pass."""

    retryable = True


def map_ccxt_error(exc: BaseException, *, creating: bool = False) -> BrokerError:
    """The bot's error for a ccxt exception; `creating` for requests that place orders."""
    msg = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return OrderRateLimited(msg) if creating else RateLimited(msg)
    if isinstance(exc, ccxt.NetworkError):  # RequestTimeout, ExchangeNotAvailable, InvalidNonce
        return OrderOutcomeUnknown(msg) if creating else ExchangeUnavailable(msg)
    if isinstance(exc, ccxt.AuthenticationError):  # PermissionDenied, AccountSuspended too
        return AuthenticationFailed(msg)
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds(msg)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(msg)
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.BadSymbol
                  | ccxt.ArgumentsRequired | ccxt.NotSupported | ccxt.OperationRejected):
        return InvalidOrder(msg)
    if isinstance(exc, ccxt.BadResponse | ccxt.NullResponse):
        # an answer we cannot read: on an order request the order may still exist
        return OrderOutcomeUnknown(msg) if creating else ExchangeUnavailable(msg)
    if isinstance(exc, ccxt.ExchangeError):
        # a definite error answer we have no finer type for: the request was refused
        return OrderRejected(msg) if creating else BrokerError(msg)
    return OrderOutcomeUnknown(msg) if creating else BrokerError(msg)


def is_retryable(exc: BaseException) -> bool:
    """Reads retry only on the bot's retryable errors (network, 5xx, 429)."""
    return isinstance(exc, BrokerError) and exc.retryable and not isinstance(exc, OrderRejected)
