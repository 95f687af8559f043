"""The FastAPI server: health, readiness, metrics and token-protected orchestrator control.

`uvicorn crypto_ai_bot.api.server:app` builds the app from the environment on first access
(a bad setting, or anything else that stops the start-up, prints one line naming it and exits
with code 2); tests call create_app(). Requests pass the guard (api/guard.py) first: the
token and the body's size are checked before a byte of the body is read.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crypto_ai_bot.adapters.metrics import CONTENT_TYPE
from crypto_ai_bot.adapters.storage.sqlite.database import check_db
from crypto_ai_bot.api.dashboard import mount_dashboard
from crypto_ai_bot.api.guard import MAX_BODY_BYTES, UNAUTHORIZED, RequestGuard, bearer_matches
from crypto_ai_bot.api.v1 import build_router
from crypto_ai_bot.application.event_stream import EventStream
from crypto_ai_bot.application.health import (
    HealthInputs,
    Problem,
    printable,
    problems,
    readiness,
    status_of,
)
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.config import Settings, load_settings
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import BotError, ConfigError, StorageError
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.ports.broker_health import BrokerHealth, ReportsHealth
from crypto_ai_bot.utils.logging import configure_logging, get_logger

EXIT_CONFIG = 2  # what every command answers a bad setting with (README)
log = get_logger("server")


class TradingStateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["ACTIVE", "REDUCING", "HALTED"]
    reason: str = Field(default="set by operator", max_length=200)

    @field_validator("reason")
    @classmethod
    def _printable(cls, v: str) -> str:
        """Shown on /health to anyone: no control characters (newlines, ANSI escapes)."""
        return printable(v) or ""


class Detail(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationFailed(BaseModel):
    detail: list[FieldError]


class HealthView(BaseModel):
    """/health's fixed part (parts may add fields of their own: they are kept)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded", "down"]
    reasons: list[str]  # why it is not ok
    notes: list[str]  # worth knowing, status unchanged (the orchestrator stopped)
    mode: Literal["paper", "live"]
    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"]
    dms_tripped: bool
    time_ms: int


class ReadyView(BaseModel):
    ready: bool
    reasons: list[str]
    orchestrator_running: bool


def _error(model: type[BaseModel], what: str) -> dict[str, Any]:
    return {"model": model, "description": what}


# The answers every control call may give besides its own (documented in /openapi.json).
CONTROL_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error(Detail, "missing or wrong bearer token (API_TOKEN)"),
    413: _error(Detail, f"request body larger than {MAX_BODY_BYTES} bytes"),
}
OPEN_ERRORS: dict[int | str, dict[str, Any]] = {
    413: _error(Detail, f"request body larger than {MAX_BODY_BYTES} bytes"),
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **CONTROL_ERRORS,
    400: _error(Detail, "the body is not a JSON object"),
    422: _error(ValidationFailed, "the JSON does not fit the schema (the input is not echoed)"),
}


# Dependencies are `async def`: they only read app state, and a plain `def` would be run in a
# worker thread at every request (a thread hop each, on the loop the trading shares).
async def get_container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


ContainerDep = Annotated[Container, Depends(get_container)]
bearer = HTTPBearer(auto_error=False, description="API_TOKEN, as `Authorization: Bearer <token>`")


def _check_control_auth(settings: Settings) -> None:
    if (settings.mode == "live" and not settings.api_token.get_secret_value()
            and not settings.allow_unauthenticated_control):
        raise ConfigError(
            "API_TOKEN: required in live mode to protect /orchestrator/*; set it, or set "
            "ALLOW_UNAUTHENTICATED_CONTROL=1 to run live without one (not recommended)"
        )


def create_app(
    settings: Settings | None = None, container: Container | None = None
) -> FastAPI:
    """Build the app. With a container given, the caller owns its lifecycle."""
    return _create_app(settings, container, owns_container=container is None)


def _create_app(settings: Settings | None, container: Container | None, *,
                owns_container: bool, exit_on_failure: bool = False) -> FastAPI:
    settings = settings or (container.settings if container else load_settings())
    _check_control_auth(settings)
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        c = container or build_container(settings)
        app.state.container = c
        try:
            await c.start()
        except BotError as exc:
            log.error("startup_failed", error=str(exc))
            print(f"error: {exc}", file=sys.stderr, flush=True)
            if owns_container:
                await c.close()
            if exit_on_failure:  # uvicorn would exit 3 with a traceback; the README says 2
                sys.stdout.flush()
                os._exit(EXIT_CONFIG)
            raise
        log.info("server_started", mode=settings.mode, symbols=settings.symbol_list,
                 db=settings.db_path, price_feed=settings.price_feed)
        undo = _end_streams_on_exit_signal(c.stream)
        try:
            yield
        finally:
            undo()
            if owns_container:
                await c.close()
            else:
                await c.orchestrator.stop()

    app = FastAPI(title="crypto-ai-bot", version="0.1.0", lifespan=lifespan)
    token = settings.api_token.get_secret_value()
    app.add_middleware(RequestGuard, token=token)  # before any body is read
    mount_dashboard(app, token_set=bool(token))  # the web UI at / (api/dashboard.py)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming the fields, never echoing the input (it may be huge, or a secret)."""
        errors = [{"loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
                   "msg": str(e.get("msg", "invalid")), "type": str(e.get("type", "invalid"))}
                  for e in exc.errors()[:20]]
        return JSONResponse({"detail": errors}, status_code=422)

    async def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        """The guard has checked already; this declares the scheme in the OpenAPI spec."""
        if not token:
            return
        given = f"Bearer {credentials.credentials}" if credentials else None
        if not bearer_matches(given, token):
            raise HTTPException(status_code=401, detail=UNAUTHORIZED,
                                headers={"WWW-Authenticate": "Bearer"})

    def broker_health(c: Container) -> BrokerHealth | None:
        return c.broker.health() if isinstance(c.broker, ReportsHealth) else None

    def broker_can_trade(c: Container) -> tuple[bool, str]:
        if not c.broker_ready:
            return False, c.broker_error or "not loaded"
        b = broker_health(c)
        if b is not None and not b.can_trade:
            return False, f"cannot trade, the exchange refuses the keys: {b.auth_error}"
        return True, ""

    app.include_router(build_router(token))  # /api/v1: the cockpit

    @app.get("/health", response_model=HealthView, responses=OPEN_ERRORS)
    async def health(c: ContainerDep) -> dict[str, Any]:
        db_ok, db_detail = check_db(c.db)
        running = c.orchestrator.running
        stale = c.orchestrator.dms.stale() if running else []
        state = c.states.current.value  # a halt held in memory while storage cannot record
        storage_ok = c.states.storage_ok
        b = broker_health(c)
        found = problems(HealthInputs(
            db_ok=db_ok, db_detail=db_detail, broker_ready=c.broker_ready,
            broker_detail=c.broker_error or "not loaded", broker=b, running=running,
            watchdog_alive=c.orchestrator.watchdog.alive, stale_loops=stale,
            trading_state=state, storage_ok=storage_ok, storage_error=c.states.storage_error,
        ))
        bare = _unprotected(c)  # an open position without its exchange-side stop: an alarm
        found += [Problem("degraded", f"position unprotected: {symbol}: {why}")
                  for symbol, why in sorted(bare.items())]
        can_trade, _ = broker_can_trade(c)
        return {
            "status": status_of(found),
            "reasons": [printable(p.text) for p in found if p.level != "note"],
            "notes": [printable(p.text) for p in found if p.level == "note"],
            "unprotected_positions": bare,
            "mode": c.settings.mode,
            "sandbox": c.settings.sandbox,
            "exchange": c.settings.exchange if c.settings.mode == "live" else "paper",
            "price_feed": c.settings.price_feed,
            "symbols": c.settings.symbol_list,
            "db": {"ok": db_ok and storage_ok, "path": c.settings.db_path,
                   "detail": printable(db_detail if storage_ok else
                                       f"cannot record: {c.states.storage_error}")},
            "broker": {"ready": c.broker_ready, "name": c.broker.name,
                       "can_trade": can_trade,
                       "error": printable(c.broker_error) or None,
                       "failing_calls": b.failing_calls if b else 0,
                       "last_error": (printable(b.last_error) or None) if b else None,
                       "circuit": b.circuit if b else "closed",
                       "clock_skew_ms": c.clock_skew_ms},
            "orchestrator": {"running": running,
                             "watchdog_alive": c.orchestrator.watchdog.alive},
            "loops": {
                name: {"last_beat_ms": ts, "stale": name in stale}
                for name, ts in sorted(c.heartbeats.snapshot().items())
            },
            "trading_state": state,
            "trading_state_reason": printable(c.states.reason),
            "dms_tripped": c.orchestrator.dms.tripped,
            "time_ms": c.clock.now_ms(),
        }

    @app.get("/ready", response_model=ReadyView, responses={
        **OPEN_ERRORS, 503: {"model": ReadyView, "description": "not ready: see reasons"}})
    async def ready(c: ContainerDep) -> JSONResponse:
        db_ok, db_detail = check_db(c.db)
        broker_ok, broker_detail = broker_can_trade(c)
        can_run = broker_ok and bool(c.pipelines)
        r = readiness(db_ok, db_detail, broker_ok, broker_detail,
                      can_run, "broker cannot trade" if not broker_ok else "no symbols")
        return JSONResponse(
            {"ready": r.ready, "reasons": [printable(x) for x in r.reasons],
             "orchestrator_running": c.orchestrator.running},
            status_code=200 if r.ready else 503,
        )

    @app.get("/metrics", response_class=Response, responses={
        **OPEN_ERRORS,
        200: {"description": "Prometheus text, or JSON with `Accept: application/json`",
              "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                          "application/json": {"schema": {"type": "object"}}}},
    })
    async def metrics(request: Request, c: ContainerDep) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(c.metrics.as_json())
        return Response(c.metrics.render(), media_type=CONTENT_TYPE)

    @app.post("/orchestrator/start", dependencies=[Depends(require_token)],
              responses={**CONTROL_ERRORS, 503: {"description": "broker not ready"}})
    async def start(c: ContainerDep) -> JSONResponse:
        if not c.broker_ready:
            return JSONResponse({"started": False, "running": False,
                                 "error": f"broker not ready: {c.broker_error}"}, 503)
        started = await c.orchestrator.start()
        return JSONResponse({"started": started, "running": c.orchestrator.running})

    @app.post("/orchestrator/stop", dependencies=[Depends(require_token)],
              responses=CONTROL_ERRORS)
    async def stop(c: ContainerDep) -> dict[str, Any]:
        stopped = await c.orchestrator.stop()
        return {"stopped": stopped, "running": c.orchestrator.running}

    @app.get("/orchestrator/status", dependencies=[Depends(require_token)],
             responses=CONTROL_ERRORS)
    async def status(c: ContainerDep) -> dict[str, Any]:
        out = {"mode": c.settings.mode, **c.orchestrator.status()}
        bare = _unprotected(c)
        for symbol, pos in out.get("positions", {}).items():
            pos["unprotected"] = bare.get(symbol)  # why it has no resting stop, or None
        return out

    @app.post("/orchestrator/trading-state", dependencies=[Depends(require_token)],
              responses={**BODY_ERRORS, 503: {"description": "storage cannot record it"}},
              response_model=None, openapi_extra={"requestBody": {
                  "required": True,
                  "content": {"application/json": {"schema": TradingStateBody.model_json_schema()}},
              }})
    async def trading_state(request: Request, c: ContainerDep) -> dict[str, Any] | JSONResponse:
        """The body is JSON whatever the Content-Type says (curl -d sends a form type)."""
        body = _json_body(await request.body())
        try:
            c.bus.handle(SetTradingState(TradingState(body.state), body.reason))
        except StorageError as exc:  # nothing changed: the halt held in memory stays
            return JSONResponse(
                {"detail": f"storage cannot record the trading state: {printable(str(exc))}",
                 "trading_state": c.states.current.value}, status_code=503)
        return {"trading_state": body.state, "reason": printable(c.states.reason)}

    return app


def _json_body(raw: bytes) -> TradingStateBody:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, 'the body is not JSON: send {"state": "HALTED", '
                                 '"reason": "..."}') from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    try:
        return TradingStateBody.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def _app_from_env() -> FastAPI:
    """The app as uvicorn serves it: the container is built here, so that whatever stops the
    start-up (a setting, the database, a model file) is one line and exit 2, not uvicorn's
    traceback and exit 3."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    try:
        _check_control_auth(settings)
        configure_logging(settings.log_level, settings.log_format)
        container = build_container(settings)
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    except Exception as exc:  # an error nobody named: one line, the traceback in DEBUG
        if settings.log_level == "DEBUG":
            traceback.print_exc()
        print(f"error: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    return _create_app(settings, container, owns_container=True, exit_on_failure=True)


def __getattr__(name: str) -> Any:
    """`app` is built on first access, so importing this module reads no environment."""
    if name == "app":
        app = _app_from_env()
        globals()["app"] = app
        return app
    raise AttributeError(name)


def _end_streams_on_exit_signal(stream: EventStream) -> Callable[[], None]:
    """uvicorn waits for every open response before it shuts down, and an event stream never
    ends by itself: on SIGINT or SIGTERM the streams end first, then uvicorn's own handler
    runs. Returns what puts the handlers back (signals reach the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    before: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        prev = signal.getsignal(sig)
        if not callable(prev):
            continue

        def chained(signum: int, frame: FrameType | None, prev: Any = prev) -> None:
            stream.close()
            prev(signum, frame)

        before[sig] = prev
        signal.signal(sig, chained)

    def undo() -> None:
        for sig, prev in before.items():
            signal.signal(sig, prev)

    return undo


def _unprotected(c: Container) -> dict[str, str]:
    """Open positions without a resting exchange-side stop, with why (live mode only)."""
    keeper = c.extras.get("stop_keeper")
    return dict(keeper.unprotected()) if keeper is not None else {}
