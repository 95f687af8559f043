"""The bot's own error types. Adapters translate foreign errors (ccxt, sqlite) into these.

    BotError
    ├── ConfigError                 bad setting; commands exit 2
    ├── StorageError                the database cannot do what was asked (it may be full)
    │   ├── MigrationError
    │   └── DatabaseCorrupt         the file fails its integrity check: restore a backup
    ├── IllegalTransition           an order state change the table forbids
    ├── InstanceLocked              another instance owns the database
    ├── CircuitOpen                 calls refused while a breaker is open
    └── BrokerError
        ├── ExchangeUnavailable     retryable: 5xx, network before send, maintenance
        │   └── RateLimited         retryable after backoff
        ├── OrderOutcomeUnknown     the request may have reached the exchange: never resend
        ├── AuthenticationFailed    keys wrong or expired
        ├── ClockSkewed             our clock is too far from the exchange's (start-up check)
        ├── OrderNotFound
        └── OrderRejected           the exchange definitively said no: nothing to retry
            ├── InsufficientFunds
            └── InvalidOrder        precision, minimums, bad symbol
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(BotError):
    """A setting is missing or invalid; the message names it."""


class StorageError(BotError):
    """The database could not do what was asked."""


class MigrationError(StorageError):
    """A migration failed or the database is newer than the code."""


class DatabaseCorrupt(StorageError):
    """The database fails its integrity check; nothing may write to it."""


class IllegalTransition(BotError):
    """An order state change that the transition table does not allow."""


class InstanceLocked(BotError):
    """Another process holds the instance lock on this database."""


class CircuitOpen(BotError):
    """A circuit breaker is open; the call was not attempted."""


class BrokerError(BotError):
    """Base for everything a broker can raise."""

    retryable: bool = False


class ExchangeUnavailable(BrokerError):
    """The exchange could not be reached or answered 5xx; safe to retry reads."""

    retryable = True


class RateLimited(ExchangeUnavailable):
    """The exchange asked us to slow down."""


class OrderOutcomeUnknown(BrokerError):
    """An order request may or may not have been executed (timeout after send)."""


class AuthenticationFailed(BrokerError):
    """The exchange refused our credentials."""


class ClockSkewed(BrokerError):
    """The exchange's clock and ours differ more than its signed requests allow."""


class OrderNotFound(BrokerError):
    """The exchange does not know the order asked for."""


class OrderRejected(BrokerError):
    """The exchange (or our pre-flight check) refused the order for good."""


class InsufficientFunds(OrderRejected):
    """Not enough balance for the order."""


class InvalidOrder(OrderRejected):
    """Precision, minimum amount or cost, or symbol problems."""
