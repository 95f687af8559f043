"""/api/v1: the cockpit's read and control API (docs/api.md; the contract beside the issue).

Every answer is a pydantic model, so /openapi.json describes it exactly; money, prices and
amounts are exact decimal strings, times integer ms UTC. Every path needs the Bearer
API_TOKEN (the guard refuses before a byte of the body is read, and refuses everything when no
token is set; the dependency here declares the scheme and checks again). The logic is the
application's (CockpitReader, CockpitControl); this module only translates.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (
    BaseModel,
    ValidationError,
)

from crypto_ai_bot.api.guard import MAX_BODY_BYTES, NO_TOKEN, UNAUTHORIZED, bearer_matches
from crypto_ai_bot.api.v1_models import (
    Balance,
    Chart,
    ConfigOut,
    ControlAnswer,
    Detail,
    Equity,
    EventsPage,
    HaltBody,
    Model,
    OrdersPage,
    Performance,
    Profit,
    ReasonBody,
    Status,
    SymbolBody,
    TradesPage,
    ValidationFailed,
)
from crypto_ai_bot.application.cockpit import (
    CockpitControl,
    CockpitReader,
    ControlResult,
    NotFound,
)
from crypto_ai_bot.application.event_stream import EventStream, StreamRecord
from crypto_ai_bot.application.health import printable

PREFIX = "/api/v1"
HEARTBEAT_S = 15.0

B = TypeVar("B", bound=Model)


def _body(model: type[B], raw: bytes, *, required: bool) -> B:
    """The body as JSON whatever the Content-Type says (curl -d sends a form type); an empty
    body is the defaults where nothing is required."""
    if not raw and not required:
        return model()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        example = json.dumps({k: "..." for k in model.model_fields})
        raise HTTPException(400, f"the body is not JSON: send {example}") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def _body_doc(model: type[Model], required: bool) -> dict[str, Any]:
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


# the router ------------------------------------------------------------------------------

def _error(model: type[BaseModel], what: str) -> dict[str, Any]:
    return {"model": model, "description": what}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error(Detail, "missing or wrong bearer token (API_TOKEN), or none is set"),
    413: _error(Detail, f"request body larger than {MAX_BODY_BYTES} bytes"),
}
SYMBOL_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS, 404: _error(Detail, "unknown symbol or timeframe")}
CONTROL_ERRORS: dict[int | str, dict[str, Any]] = {
    **SYMBOL_ERRORS,
    400: _error(Detail, "the body is not a JSON object"),
    422: _error(ValidationFailed, "the JSON does not fit the schema (the input is not echoed)"),
    503: _error(Detail, "storage cannot record the trading state now"),
}

bearer = HTTPBearer(auto_error=False, description="API_TOKEN, as `Authorization: Bearer <token>`")
T = TypeVar("T")


async def _reader(request: Request) -> CockpitReader:
    r: CockpitReader = request.app.state.container.cockpit
    return r


async def _control(request: Request) -> CockpitControl:
    c: CockpitControl = request.app.state.container.control
    return c


def _stream(request: Request) -> EventStream:
    s: EventStream = request.app.state.container.stream
    return s


Reader = Annotated[CockpitReader, Depends(_reader)]
Control = Annotated[CockpitControl, Depends(_control)]
Limit = Annotated[int, Query(ge=1, le=1000)]
OptSymbol = Annotated[str | None, Query(max_length=40, description="e.g. BTC/USDT")]


def build_router(token: str) -> APIRouter:
    """The /api/v1 router over the app's container (app.state.container)."""

    async def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if not token:
            raise HTTPException(401, NO_TOKEN, headers={"WWW-Authenticate": "Bearer"})
        given = f"Bearer {credentials.credentials}" if credentials else None
        if not bearer_matches(given, token):
            raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_token)], tags=["cockpit"])

    def found(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except NotFound as exc:
            raise HTTPException(404, printable(str(exc))) from None

    # read ---------------------------------------------------------------------------

    @router.get("/status", response_model=Status, responses=READ_ERRORS)
    async def status(r: Reader) -> Any:
        """The bot now: mode, loops, trading state, and per symbol its price, position,
        unrealised PnL, stop level and whether the exchange-side stop rests."""
        return asdict(r.status())

    @router.get("/trades", response_model=TradesPage, responses=SYMBOL_ERRORS)
    async def trades(r: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                     symbol: OptSymbol = None) -> Any:
        """Closed round trips built from the stored fills, newest first."""
        return asdict(found(lambda: r.trades(limit, offset, symbol)))

    @router.get("/orders", response_model=OrdersPage, responses=SYMBOL_ERRORS)
    async def orders(r: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     symbol: OptSymbol = None) -> Any:
        """Orders with their event history (oldest event first), newest order first."""
        return asdict(found(lambda: r.orders(limit, symbol)))

    @router.get("/balance", response_model=Balance, responses=READ_ERRORS)
    async def balance(r: Reader) -> Any:
        """Balances per currency, valued in the quote at the board's prices."""
        return asdict(await r.balance())

    @router.get("/profit", response_model=Profit, responses=READ_ERRORS)
    async def profit(r: Reader) -> Any:
        """Realised and unrealised PnL, win rate, best and worst trade, by symbol."""
        return asdict(r.profit())

    @router.get("/performance", response_model=Performance, responses=READ_ERRORS)
    async def performance(r: Reader, period: Literal["day", "week", "month"] = "day",
                          n: Annotated[int, Query(ge=1, le=366)] = 30) -> Any:
        """Realised PnL of the trades closed in each of the last n periods, oldest first."""
        return asdict(r.performance(period, n))

    @router.get("/equity", response_model=Equity, responses=READ_ERRORS)
    async def equity(r: Reader, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Any:
        """Equity after each closed trade, and now (anchored at the equity now)."""
        return asdict(await r.equity(limit))

    @router.get("/candles", response_model=Chart, responses=SYMBOL_ERRORS)
    async def candles(r: Reader, symbol: Annotated[str, Query(max_length=40)],
                      timeframe: Annotated[str | None, Query(max_length=8)] = None,
                      limit: Limit = 300) -> Any:
        """The candles the bot evaluated, the strategy's indicators, fills as markers and
        the stop now."""
        return asdict(found(lambda: r.candles(symbol, timeframe or None, limit)))

    @router.get("/events", response_model=EventsPage, responses=READ_ERRORS)
    async def events(r: Reader, limit: Limit = 100,
                     topic: Annotated[str | None, Query(max_length=64)] = None,
                     symbol: OptSymbol = None,
                     before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Any:
        """The audit, newest first; filter by topic and symbol, page back with before_id."""
        return asdict(r.events(limit, topic, symbol, before_id))

    @router.get("/config", response_model=ConfigOut, responses=READ_ERRORS)
    async def config(r: Reader) -> Any:
        """The effective settings, every secret shown as "***" when set."""
        return asdict(r.settings())

    @router.get("/stream", response_class=StreamingResponse, responses={
        **READ_ERRORS, 503: _error(Detail, "too many clients follow the stream"),
        200: {"description": "Server-Sent Events: `id`, `event: <topic>`, `data: <json>`; "
                             "a `: ping` comment every 15 s",
              "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
    async def stream(request: Request) -> Any:
        """The bus's events as they happen (read it with fetch(): it needs the header)."""
        es = _stream(request)
        if es.clients >= es.max_clients:
            return JSONResponse({"detail": f"{es.max_clients} clients already follow the "
                                           f"stream"}, status_code=503)
        return StreamingResponse(_sse(es), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    # control ------------------------------------------------------------------------

    def answer(result: ControlResult) -> Any:
        if result.unavailable:
            return JSONResponse({"detail": printable(result.message)}, status_code=503)
        out = asdict(result)
        out.pop("unavailable")
        out["message"] = printable(result.message)
        return out

    async def act(fn: Callable[[], Awaitable[ControlResult] | ControlResult]) -> Any:
        try:
            got = fn()
            result = await got if isinstance(got, Awaitable) else got
        except NotFound as exc:
            raise HTTPException(404, printable(str(exc))) from None
        return answer(result)

    def post(path: str, summary: str, body: type[Model] | None = None,
             required: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return router.post(path, response_model=ControlAnswer, summary=summary,
                           responses=CONTROL_ERRORS,
                           openapi_extra=_body_doc(body, required) if body else None)

    @post("/start", "start the loops")
    async def start(c: Control) -> Any:
        return await act(c.start)

    @post("/stop", "stop the loops (an iteration in flight finishes)")
    async def stop(c: Control) -> Any:
        return await act(c.stop)

    @post("/stop-entries", "trading state REDUCING: exits only", ReasonBody)
    async def stop_entries(request: Request, c: Control) -> Any:
        body = _body(ReasonBody, await request.body(), required=False)
        return await act(lambda: c.stop_entries(body.reason))

    @post("/halt", "trading state HALTED", HaltBody, required=True)
    async def halt(request: Request, c: Control) -> Any:
        body = _body(HaltBody, await request.body(), required=True)
        return await act(lambda: c.halt(body.reason))

    @post("/resume", "trading state ACTIVE (re-arms the dead man's switch)", ReasonBody)
    async def resume(request: Request, c: Control) -> Any:
        body = _body(ReasonBody, await request.body(), required=False)
        return await act(lambda: c.resume(body.reason))

    @post("/force-exit", "sell the symbol's position now (one exit in flight at most)",
          SymbolBody, required=True)
    async def force_exit(request: Request, c: Control) -> Any:
        body = _body(SymbolBody, await request.body(), required=True)
        return await act(lambda: c.force_exit(body.symbol))

    @post("/force-enter", "buy FIXED_AMOUNT of the symbol, through risk", SymbolBody,
          required=True)
    async def force_enter(request: Request, c: Control) -> Any:
        body = _body(SymbolBody, await request.body(), required=True)
        return await act(lambda: c.force_enter(body.symbol))

    @post("/reload", "apply the settings that may change without a restart")
    async def reload(c: Control) -> Any:
        return await act(c.reload)

    return router


async def _sse(es: EventStream) -> AsyncIterator[bytes]:
    """One client's stream; ends when the client is dropped for falling behind (it
    reconnects), or when it goes away (the server cancels this generator)."""
    try:
        async with es.subscribe() as queue:
            yield b": connected\n\n"
            while True:
                try:
                    record = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if record is None:
                    yield b": end of stream: reconnect\n\n"
                    return
                yield _frame(record)
    except OverflowError as exc:
        yield f": {exc}\n\n".encode()


def _frame(r: StreamRecord) -> bytes:
    data = json.dumps({"id": r.id, "ts_ms": r.ts_ms, "topic": r.topic, "symbol": r.symbol,
                       "payload": r.payload}, separators=(",", ":"))
    return f"id: {r.id}\nevent: {r.topic}\ndata: {data}\n\n".encode()
