"""Structured JSON logs on stdout (structlog), one object per line, secrets scrubbed."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import weakref
from collections.abc import MutableMapping
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

import structlog

_SECRET_KEYS = re.compile(r"(secret|token|password|api_key|apikey|authorization|sign)", re.I)


def _scrub(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if _SECRET_KEYS.search(key):
            event_dict[key] = "***"
    return event_dict


def _plain(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Decimals as their digits and enum members as their values: callers pass them as they
    are, and a line filtered out by its level never pays for the conversion."""
    for key, value in event_dict.items():
        if isinstance(value, Decimal):
            event_dict[key] = str(value)
        elif isinstance(value, Enum):
            event_dict[key] = value.value
    return event_dict


def configure_logging(
    level: str = "INFO", fmt: str = "json", stream: TextIO | None = None, *, once: bool = False
) -> None:
    """Set up structlog, and route the stdlib's loggers (uvicorn's among them) through it.

    Logs go to stdout (the server); commands pass `stream=sys.stderr` to keep their output clean.
    `once`: this process configures logging only now, before its first log line (a command's
    main). Each logger then binds its configuration on first use instead of on every call,
    which a backtest, logging (or filtering out) a few lines per order, notices.
    """
    lvl = getattr(logging, level.upper(), logging.INFO)
    out = stream or sys.stdout
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _scrub,
        _plain,
        structlog.processors.format_exc_info,
    ]
    global _final
    _final = once
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=once,
    )
    for logger in _LOGGERS:  # a new configuration: what an earlier one made goes
        logger._forget()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ], foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared])
    )
    logging.basicConfig(level=max(lvl, logging.WARNING), handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        std = logging.getLogger(name)
        std.handlers = [handler]
        std.propagate = False


class _Logger:
    """structlog's lazy logger carrying `component=name`. Once a command has configured
    logging for good (configure_logging(once=True)), the methods it hands out are kept:
    `log.info(...)` is then an attribute lookup, and a filtered-out level costs one call."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._proxy = structlog.get_logger(component=name)
        _LOGGERS.add(self)

    def _forget(self) -> None:
        """Drop what an earlier configuration made (structlog's proxy keeps it too)."""
        self.__dict__ = {"_name": self._name, "_proxy": structlog.get_logger(component=self._name)}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._proxy, name)
        if _final:
            setattr(self, name, attr)
        return attr


_LOGGERS: weakref.WeakSet[_Logger] = weakref.WeakSet()
_final = False  # configured with once=True


def get_logger(name: str) -> Any:
    """A structlog logger carrying `component=name`."""
    return _Logger(name)


def info_enabled(logger: Any) -> bool:
    """Whether `logger` writes info lines: a caller that formats numbers for a line skips
    that work when the line would be filtered out (a backtest logs at WARNING)."""
    return bool(logger.is_enabled_for(logging.INFO))


_VARS: dict[str, contextvars.ContextVar[Any]] = {}  # structlog's context variables, by field


def _var(field: str) -> contextvars.ContextVar[Any]:
    """The ContextVar behind a structlog context field, learnt from its own first bind."""
    var = _VARS.get(field)
    if var is None:
        token = structlog.contextvars.bind_contextvars(**{field: Ellipsis})[field]
        var = _VARS[field] = token.var
        var.reset(token)
    return var


class bind:  # lower case: used as a function, `with bind(symbol=...):`
    """Bind correlation fields (cycle_id, symbol, client_order_id) for the current task, and
    restore what they were on leaving. Tokens, unlike structlog's bound_contextvars, do not
    copy the whole context each time, and the variables are looked up once: every order
    passes through here."""

    __slots__ = ("_fields", "_tokens")

    def __init__(self, **fields: Any) -> None:
        self._fields = fields
        self._tokens: list[contextvars.Token[Any]] = []

    def __enter__(self) -> None:
        tokens = self._tokens  # a loop, not a comprehension: one call fewer an order
        for k, v in self._fields.items():
            tokens.append((_VARS.get(k) or _var(k)).set(v))

    def __exit__(self, *_exc: object) -> None:
        for token in reversed(self._tokens):
            token.var.reset(token)
