"""The FastAPI application: Gate API v4 under /api/v4, control under /_sim, faults around both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from . import api_auto, api_orders, api_public, control
from .exchange import Exchange
from .faults import Window, limit_class
from .models import GateError
from .persistence import save
from .web import Simulator

PUBLIC_RE = re.compile(
    r"^/api/v4/(spot/(currencies|currency_pairs|tickers|order_book|candlesticks|time|trades)"
    r"|margin/currency_pairs)"
)
ID_RE = re.compile(r"/(\d+|t-[^/]*)(?=/|$)")
log = logging.getLogger("cab_exchange_sim")


def gate_response(error: GateError, window: Window | None = None) -> JSONResponse:
    response = JSONResponse(error.body(), status_code=error.status)
    if window is not None:
        add_rate_headers(response, window)
    return response


def add_rate_headers(response: Response, window: Window) -> None:
    response.headers["X-Gate-RateLimit-Requests-Remain"] = str(window.remaining)
    response.headers["X-Gate-RateLimit-Limit"] = str(window.limit)
    response.headers["X-Gate-RateLimit-Reset-Timestamp"] = str(window.reset_ms)


async def _ticker(sim: Simulator) -> None:
    period = min(sim.tick_ms, 200) / 1000 if sim.tick_ms > 0 else 0.2
    while True:
        await asyncio.sleep(period)
        try:
            sim.exchange.tick(sim.tick_ms)
            if sim.state_file:
                save(sim.exchange, sim.state_file)
        except Exception:  # keep ticking whatever one tick did
            log.exception("tick failed")


def create_app(sim: Simulator) -> FastAPI:
    """Build the emulator app around a Simulator."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_ticker(sim))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="cab-exchange-sim", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.sim = sim
    app.include_router(api_public.router, prefix="/api/v4")
    app.include_router(api_orders.router, prefix="/api/v4")
    app.include_router(api_auto.router, prefix="/api/v4")
    app.include_router(control.router)

    @app.exception_handler(GateError)
    async def on_gate_error(_: Request, exc: GateError) -> JSONResponse:
        return gate_response(exc)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
        label = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "BAD_REQUEST")
        return JSONResponse({"label": label, "message": f"{request.method} {request.url.path}"},
                            status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("emulator error", exc_info=exc)
        return JSONResponse({"label": "INTERNAL", "message": str(exc)}, status_code=500)

    @app.middleware("http")
    async def gate_behaviour(request: Request,
                             call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        return await _gate_behaviour(sim, request, call_next)

    return app


async def _gate_behaviour(sim: Simulator, request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Latency, injected 5xx and 429 answers, rate-limit headers; /_sim is left alone."""
    path = request.url.path
    if not path.startswith("/api/v4/"):
        response = await call_next(request)
        _persist(sim, request)
        return response
    ex = sim.exchange
    with ex.lock:
        settings = ex.settings
        forced_429 = settings.take("rate_limit_next")
        latency = settings.latency_ms
        error = settings.roll_error()
        when = settings.error_when
        public = bool(PUBLIC_RE.match(path))
        limit = settings.public_rate_limit if public else settings.private_rate_limit
        endpoint = ID_RE.sub("/{id}", path)[len("/api/v4"):]
        key = f"{request.method} {endpoint}"
        klass = limit_class(request.method, endpoint, public)
        window = ex.limiter.hit(key, limit, 10_000, ex.now())
        if not window.limit:
            window = Window(True, 200, 199, ex.now() + 10_000)
    if latency:
        await asyncio.sleep(latency / 1000)
    if forced_429 or not window.allowed:
        _count(ex, key, klass, 429)
        return gate_response(GateError("TOO_MANY_REQUESTS", "Request Rate limit Exceeded", 429),
                             window)
    if error and when == "before":
        _count(ex, key, klass, 500)
        return _server_error(sim)
    response = await call_next(request)
    _persist(sim, request)
    if error and when == "after":
        _count(ex, key, klass, 500)
        return _server_error(sim)
    _count(ex, key, klass, response.status_code)
    rate: Any = getattr(request.state, "rate", None)
    add_rate_headers(response, rate if isinstance(rate, Window) else window)
    return response


def _count(ex: Exchange, key: str, klass: str, status: int) -> None:
    with ex.lock:
        ex.requests.count(key, klass, status)


def _server_error(sim: Simulator) -> JSONResponse:
    with sim.exchange.lock:
        label = sim.exchange.settings.rng.choice(["SERVER_ERROR", "INTERNAL"])
    return JSONResponse({"label": label, "message": "Internal server error"}, status_code=500)


def _persist(sim: Simulator, request: Request) -> None:
    if sim.state_file and request.method != "GET":
        save(sim.exchange, sim.state_file)
