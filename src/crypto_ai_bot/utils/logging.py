"""Structured JSON logs on stdout (structlog), one object per line, secrets scrubbed."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

_SECRET_KEYS = re.compile(r"(secret|token|password|api_key|apikey|authorization|sign)", re.I)


def _scrub(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if _SECRET_KEYS.search(key):
            event_dict[key] = "***"
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
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=once,
    )
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


def get_logger(name: str) -> Any:
    """A structlog logger carrying `component=name`."""
    return structlog.get_logger(component=name)


class bind:  # lower case: used as a function, `with bind(symbol=...):`
    """Bind correlation fields (cycle_id, symbol, client_order_id) for the current task, and
    restore what they were on leaving. Tokens, unlike structlog's bound_contextvars, do not
    copy the whole context each time: every order passes through here."""

    __slots__ = ("_fields", "_tokens")

    def __init__(self, **fields: Any) -> None:
        self._fields = fields
        self._tokens: Mapping[str, Any] = {}

    def __enter__(self) -> None:
        self._tokens = structlog.contextvars.bind_contextvars(**self._fields)

    def __exit__(self, *_exc: object) -> None:
        structlog.contextvars.reset_contextvars(**self._tokens)
