"""A local webhook receiver over real HTTP that records each body and answers as told:
"ok" (204, as Discord does), "500" (a server error every time) or "hang" (reads the request
and never answers, until closed)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeWebhook:
    def __init__(self, mode: str = "ok", path: str = "/hook/secret-part") -> None:
        self.mode = mode
        self.path = path
        self.bodies: list[dict[str, Any]] = []  # every request's JSON, retries included
        self.requests = 0
        self._cond = threading.Condition()
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with fake._cond:
                    fake.requests += 1
                    fake.bodies.append(json.loads(raw) if raw else {})
                    fake._cond.notify_all()
                if fake.mode == "hang":
                    fake._release.wait()
                    return
                status = 500 if fake.mode == "500" else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def __enter__(self) -> FakeWebhook:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, check: Callable[[FakeWebhook], bool], timeout_s: float = 20) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not check(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
            return True
