"""The request guard: the token and the body's size are checked before the app reads a byte.

FastAPI reads and parses a body before it resolves a route's dependencies, so a token check
written as a dependency comes after a 400 MB upload has been read. This ASGI middleware runs
first: /orchestrator/* and /api/v1/* without the token get 401 with nothing read (/api/v1 also
while no token is set at all), and every body is capped
(413 as soon as the declared length or the bytes received pass the cap). It buffers the capped
body and hands it on, so the app never waits on a client that is still sending.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 4096  # a control call's body is a few dozen bytes (a state and a reason)
PROTECTED_PREFIX = "/orchestrator"
# the cockpit's API: refused outright while no API_TOKEN is set, reads included
CLOSED_PREFIX = "/api/v1"
UNAUTHORIZED = "missing or wrong bearer token"
NO_TOKEN = "API_TOKEN is not set: the cockpit API (/api/v1) answers only with a token"  # noqa: S105 - a message


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `Bearer <token>` (constant time)."""
    given = ""
    if authorization and authorization[:7].lower() == "bearer ":
        given = authorization[7:].strip()
    return hmac.compare_digest(given.encode("latin-1", "replace"),
                               token.encode("latin-1", "replace"))


class RequestGuard:
    def __init__(self, app: ASGIApp, *, token: str, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self._token = token
        self._max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        path = str(scope.get("path", ""))
        if not self._token and _closed(path):
            await _answer(send, 401, NO_TOKEN, {"www-authenticate": "Bearer",
                                                "connection": "close"})
            return
        if (self._token and (_protected(path) or _closed(path))
                and not bearer_matches(headers.get("authorization"), self._token)):
            # `connection: close`: the server does not drain a body it will never read
            await _answer(send, 401, UNAUTHORIZED,
                          {"www-authenticate": "Bearer", "connection": "close"})
            return
        declared = headers.get("content-length", "")
        if declared and (not declared.isdigit() or int(declared) > self._max):
            await _answer(send, 413, self._too_large(), {"connection": "close"})
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self._max:
                await _answer(send, 413, self._too_large(), {"connection": "close"})
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as uvicorn does

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body larger than {self._max} bytes"


def _protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


def _closed(path: str) -> bool:
    return path == CLOSED_PREFIX or path.startswith(CLOSED_PREFIX + "/")


async def _answer(send: Send, status: int, detail: str,
                  extra: dict[str, str] | None = None) -> None:
    payload = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(payload)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
