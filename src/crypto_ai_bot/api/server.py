"""The FastAPI server: health, readiness, metrics and token-protected orchestrator control.

`uvicorn crypto_ai_bot.api.server:app` builds the app from the environment on first access
(a bad setting prints one line naming it and exits with code 2); tests call create_app().
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from crypto_ai_bot.adapters.metrics import CONTENT_TYPE
from crypto_ai_bot.adapters.storage.sqlite.database import check_db
from crypto_ai_bot.application.health import overall_status, readiness
from crypto_ai_bot.bootstrap import Container, build_container
from crypto_ai_bot.config import Settings, load_settings
from crypto_ai_bot.domain.commands import SetTradingState
from crypto_ai_bot.domain.errors import BotError, ConfigError
from crypto_ai_bot.domain.model import TradingState
from crypto_ai_bot.utils.logging import configure_logging, get_logger

log = get_logger("server")


class TradingStateBody(BaseModel):
    state: Literal["ACTIVE", "REDUCING", "HALTED"]
    reason: str = Field(default="set by operator", max_length=200)


def get_container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


ContainerDep = Annotated[Container, Depends(get_container)]


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
    settings = settings or (container.settings if container else load_settings())
    _check_control_auth(settings)
    configure_logging(settings.log_level, settings.log_format)
    owns_container = container is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        c = container or build_container(settings)
        app.state.container = c
        try:
            await c.start()
        except BotError as exc:
            log.error("startup_failed", error=str(exc))
            print(f"error: {exc}", file=sys.stderr)
            if owns_container:
                await c.close()
            raise
        log.info("server_started", mode=settings.mode, symbols=settings.symbol_list,
                 db=settings.db_path, price_feed=settings.price_feed)
        try:
            yield
        finally:
            if owns_container:
                await c.close()
            else:
                await c.orchestrator.stop()

    app = FastAPI(title="crypto-ai-bot", version="0.1.0", lifespan=lifespan)
    token = settings.api_token.get_secret_value()

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        if not token:
            return
        given = ""
        if authorization and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(
                status_code=401, detail="missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.get("/health")
    async def health(c: ContainerDep) -> dict[str, Any]:
        db_ok, db_detail = check_db(c.db)
        stale = c.orchestrator.dms.stale() if c.orchestrator.running else []
        state = c.states.current.value  # a halt held in memory while storage cannot record
        storage_ok = c.states.storage_ok
        return {
            "status": overall_status(db_ok, c.broker_ready, stale, state, storage_ok=storage_ok),
            "mode": c.settings.mode,
            "sandbox": c.settings.sandbox,
            "exchange": c.settings.exchange if c.settings.mode == "live" else "paper",
            "price_feed": c.settings.price_feed,
            "symbols": c.settings.symbol_list,
            "db": {"ok": db_ok and storage_ok, "path": c.settings.db_path,
                   "detail": db_detail if storage_ok else
                   f"cannot record: {c.states.storage_error}"},
            "broker": {"ready": c.broker_ready, "name": c.broker.name,
                       "error": c.broker_error or None},
            "orchestrator": {"running": c.orchestrator.running},
            "loops": {
                name: {"last_beat_ms": ts, "stale": name in stale}
                for name, ts in sorted(c.heartbeats.snapshot().items())
            },
            "trading_state": state,
            "trading_state_reason": c.states.reason,
            "dms_tripped": c.orchestrator.dms.tripped,
            "time_ms": c.clock.now_ms(),
        }

    @app.get("/ready")
    async def ready(c: ContainerDep) -> JSONResponse:
        db_ok, db_detail = check_db(c.db)
        can_run = c.broker_ready and bool(c.pipelines)
        r = readiness(db_ok, db_detail, c.broker_ready, c.broker_error or "not loaded",
                      can_run, "broker not ready" if not c.broker_ready else "no symbols")
        return JSONResponse(
            {"ready": r.ready, "reasons": r.reasons}, status_code=200 if r.ready else 503
        )

    @app.get("/metrics")
    async def metrics(request: Request, c: ContainerDep) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(c.metrics.as_json())
        return Response(c.metrics.render(), media_type=CONTENT_TYPE)

    @app.post("/orchestrator/start", dependencies=[Depends(require_token)])
    async def start(c: ContainerDep) -> JSONResponse:
        if not c.broker_ready:
            return JSONResponse({"started": False, "running": False,
                                 "error": f"broker not ready: {c.broker_error}"}, 503)
        started = await c.orchestrator.start()
        return JSONResponse({"started": started, "running": c.orchestrator.running})

    @app.post("/orchestrator/stop", dependencies=[Depends(require_token)])
    async def stop(c: ContainerDep) -> dict[str, Any]:
        stopped = await c.orchestrator.stop()
        return {"stopped": stopped, "running": c.orchestrator.running}

    @app.get("/orchestrator/status", dependencies=[Depends(require_token)])
    async def status(c: ContainerDep) -> dict[str, Any]:
        return {"mode": c.settings.mode, **c.orchestrator.status()}

    @app.post("/orchestrator/trading-state", dependencies=[Depends(require_token)])
    async def trading_state(body: TradingStateBody, c: ContainerDep) -> dict[str, Any]:
        c.bus.handle(SetTradingState(TradingState(body.state), body.reason))
        return {"trading_state": body.state, "reason": c.repos.state.trading_state_reason()}

    return app


def _app_from_env() -> FastAPI:
    try:
        return create_app()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def __getattr__(name: str) -> Any:
    """`app` is built on first access, so importing this module reads no environment."""
    if name == "app":
        app = _app_from_env()
        globals()["app"] = app
        return app
    raise AttributeError(name)
