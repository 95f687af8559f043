"""A local fake of the Telegram Bot API, over real HTTP (stdlib server on its own threads).

It speaks what python-telegram-bot calls: getMe, getUpdates (offset, limit, timeout: a real
long poll), sendMessage, deleteWebhook, getWebhookInfo, close, logOut. It records every call
and every message sent, and lets a test inject an update from any chat. A request whose path
carries another token than its own gets 401, as Telegram answers.

Tests use it as a context manager (`with FakeTelegram(TOKEN) as tg: ... tg.url`); a manual
run serves it until Ctrl-C and injects each line typed as a message from the chat:

    python tests/fakes/telegram_api.py --port 8081 --chat 42
    TELEGRAM_API_URL=http://127.0.0.1:8081 TELEGRAM_BOT_TOKEN=1:fake TELEGRAM_CHAT_ID=42 make run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_POLL_S = 30.0
BOT_ID = 7000001


class FakeTelegram:
    def __init__(self, token: str = "", host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token  # "" accepts any
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []  # sendMessage's parameters, in order
        self.tokens_seen: set[str] = set()
        self.failures: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self._cond = threading.Condition()
        self._closed = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, *_args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # what a test does ---------------------------------------------------------------

    def inject(self, chat_id: int, text: str) -> int:
        """An incoming message from `chat_id`, as getUpdates will return it; its update id."""
        with self._cond:
            uid = self._next_update
            self._next_update += 1
            message: dict[str, Any] = {
                "message_id": self._message_id(), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Tester"},
                "text": text,
            }
            if text.startswith("/"):
                word = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(word)}]
            self._updates.append({"update_id": uid, "message": message})
            self._cond.notify_all()
            return uid

    def fail(self, method: str, status: int, description: str, times: int = 1,
             **extra: Any) -> None:
        """The next `times` calls of `method` answer this error (e.g. 429 with
        parameters={"retry_after": 1})."""
        with self._cond:
            self.failures.setdefault(method, []).extend(
                [(status, description, extra)] * times)

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        with self._cond:
            return [m for m in self.sent if str(m.get("chat_id")) == str(chat_id)]

    def wait_for(self, check: Callable[[FakeTelegram], bool], timeout_s: float = 20) -> bool:
        """Wait until check(self) holds (True) or the time is up (False)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not check(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
            return True

    def methods(self) -> list[str]:
        with self._cond:
            return [m for m, _ in self.calls]

    # the server ---------------------------------------------------------------------

    def _message_id(self) -> int:
        n = self._next_message
        self._next_message += 1
        return n

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 2 or not segments[0].startswith("bot"):
            return _answer(req, 404, {"ok": False, "error_code": 404,
                                      "description": "Not Found"})
        token, method = segments[0][3:], segments[1]
        params = dict(parse_qsl(parts.query))
        params.update(_body(req))
        with self._cond:
            self.tokens_seen.add(token)
            self.calls.append((method, params))
            self._cond.notify_all()
            if self.token and token != self.token:
                return _answer(req, 401, {"ok": False, "error_code": 401,
                                          "description": "Unauthorized"})
            queued = self.failures.get(method)
            if queued:
                status, description, extra = queued.pop(0)
                return _answer(req, status, {"ok": False, "error_code": status,
                                             "description": description, **extra})
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _answer(req, 404, {"ok": False, "error_code": 404,
                                      "description": "Not Found: method not found"})
        _answer(req, 200, {"ok": True, "result": handler(params)})

    def _m_getMe(self, _p: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Fake", "username": "fake_cab_bot",
                "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        if p.get("drop_pending_updates") in (True, "true", "True"):
            with self._cond:
                self._updates.clear()
        return True

    def _m_close(self, _p: dict[str, Any]) -> Any:
        return True

    def _m_logOut(self, _p: dict[str, Any]) -> Any:
        return True

    def _m_getWebhookInfo(self, _p: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        with self._cond:
            self.sent.append(p)
            self._cond.notify_all()
            chat = p.get("chat_id")
            return {"message_id": self._message_id(), "date": int(time.time()),
                    "chat": {"id": int(chat) if str(chat).lstrip("-").isdigit() else 0,
                             "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Fake"},
                    "text": p.get("text", "")}

    def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = min(float(p.get("timeout") or 0), MAX_POLL_S)
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset:  # confirmed: Telegram forgets what precedes the offset
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._updates[:limit]


def _body(req: BaseHTTPRequestHandler) -> dict[str, Any]:
    """The parameters of a JSON, form-encoded or multipart body; JSON-looking values (PTB
    sends allowed_updates as a JSON string) decoded."""
    length = int(req.headers.get("Content-Length") or 0)
    raw = req.rfile.read(length) if length else b""
    kind = req.headers.get("Content-Type", "")
    out: dict[str, Any] = {}
    if not raw:
        return out
    if kind.startswith("application/json"):
        data = json.loads(raw)
        return data if isinstance(data, dict) else out
    if kind.startswith("multipart/form-data"):
        from email.parser import BytesParser
        from email.policy import HTTP

        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + raw)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[str(name)] = part.get_content().strip() if part.get_content_maintype(
                ) == "text" else part.get_payload(decode=True)
    else:
        out = dict(parse_qsl(raw.decode()))
    for key, value in list(out.items()):
        if isinstance(value, str) and (value[:1] in ("[", "{") or value in ("true", "false")):
            with contextlib.suppress(json.JSONDecodeError):
                out[key] = json.loads(value)
    return out


def _answer(req: BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    req.send_response(status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a long poll given up
        req.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--chat", type=int, default=42, help="the chat typed lines come from")
    ap.add_argument("--token", default="", help="the only token accepted (default: any)")
    args = ap.parse_args(argv)
    with FakeTelegram(args.token, port=args.port) as fake:
        print(f"fake Telegram Bot API at {fake.url}; type a message (e.g. /status)", flush=True)
        stop = threading.Event()

        def echo() -> None:
            seen = 0
            while not stop.is_set():
                fake.wait_for(lambda f, n=seen: len(f.sent) > n, 0.5)
                for m in fake.sent[seen:]:
                    quiet = " (silent)" if m.get("disable_notification") else ""
                    print(f"-> chat {m.get('chat_id')}{quiet}:\n{m.get('text')}\n", flush=True)
                seen = len(fake.sent)

        threading.Thread(target=echo, daemon=True).start()
        try:
            for line in sys.stdin:
                if line.strip():
                    fake.inject(args.chat, line.strip())
        except KeyboardInterrupt:
            pass
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
