"""Shared HTTP plumbing: the simulator container, request parsing and signature checks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Request

from .auth import verify
from .exchange import Exchange
from .models import GateError

DEFAULT_API_KEY = "sim-key"
DEFAULT_API_SECRET = "sim-secret"  # noqa: S105 - the public default of a local emulator


@dataclass
class Simulator:
    """What the FastAPI app serves: the exchange plus credentials and timing."""

    exchange: Exchange
    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    tick_ms: int = 0
    state_file: str | None = None


def sim_of(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


async def read_json(request: Request) -> Any:
    """The JSON body (numbers with a fraction become Decimal); {} when empty."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise GateError("INVALID_REQUEST_BODY", "Invalid request body") from None


async def read_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise GateError("INVALID_REQUEST_BODY", "Invalid request body: object expected")
    return body


async def private(request: Request) -> None:
    """FastAPI dependency: refuse requests that are not signed with the configured key."""
    sim = sim_of(request)
    body = await request.body()
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    verify(request.headers, request.method, request.url.path, raw_query, body,
           sim.api_key, sim.api_secret, time.time())


def q_str(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if value not in (None, "") else None


def q_int(request: Request, name: str, default: int | None = None, *, low: int = 0,
          high: int | None = None) -> int | None:
    """An integer query parameter, validated as Gate does (INVALID_PARAM_VALUE)."""
    raw = q_str(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: {name}") from None
    if value < low or (high is not None and value > high):
        raise GateError("INVALID_PARAM_VALUE", f"invalid argument: {name}")
    return value


def pick(body: dict[str, Any], request: Request, name: str) -> Any:
    """A field from the JSON body, else from the query string (PATCH sends both)."""
    value = body.get(name)
    return value if value is not None else q_str(request, name)
