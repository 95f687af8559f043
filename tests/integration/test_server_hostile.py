"""Hostile and clumsy requests against the real server (uvicorn in a subprocess, issue 11 C/E9):
the token is checked before a body is read, bodies are capped, errors never echo the input,
operator text reaches /health's readers without control characters, and the spec says so."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.conftest import running_server, subprocess_env

TOKEN = "hostile-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BIG = 400 * 1024 * 1024  # the drill's 400 MB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cwd = tmp_path_factory.mktemp("hostile")
    env = subprocess_env(API_TOKEN=TOKEN, DB_PATH=str(cwd / "bot.sqlite3"), AUTOSTART="0")
    with running_server(cwd, env) as url:
        yield url


def raw_request(url: str, head: str, body: bytes = b"", read_s: float = 5) -> tuple[int, bytes]:
    """Send the head (and part of a body) on a raw socket; the status and what came back
    within read_s, without sending the rest the head promised."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=read_s) as s:
        s.sendall(head.encode("latin-1") + b"\r\n" + body)
        data = b""
        deadline = time.monotonic() + read_s
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
        try:
            s.settimeout(0.5)
            data += s.recv(65536)
        except (TimeoutError, OSError):
            pass
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data[9:12]), data


def post_head(path: str, length: int, auth: str = "", ctype: str = "application/json") -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: bot", f"Content-Type: {ctype}",
             f"Content-Length: {length}"]
    if auth:
        lines.append(f"Authorization: {auth}")
    return "\r\n".join(lines) + "\r\n"


def test_no_token_gets_401_before_the_body_is_read(server: str) -> None:
    """A 400 MB POST without a token: answered at once, with 8 bytes of it sent."""
    started = time.monotonic()
    status, data = raw_request(server, post_head("/orchestrator/trading-state", BIG),
                               b'{"state"', read_s=5)
    assert status == 401 and b"bearer token" in data
    assert time.monotonic() - started < 3
    status, _ = raw_request(server, post_head("/orchestrator/stop", BIG, "Bearer nope"),
                            b"x" * 100)
    assert status == 401


def test_a_declared_large_body_gets_413_unread(server: str) -> None:
    status, data = raw_request(
        server, post_head("/orchestrator/trading-state", BIG, f"Bearer {TOKEN}"), b"{")
    assert status == 413 and b"4096 bytes" in data
    status, _ = raw_request(server, post_head("/health", BIG), b"{")  # open endpoints too
    assert status == 413


def test_a_chunked_large_body_gets_413(server: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b'{"reason": "' + b"x" * 1024

    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH, content=chunks())
    assert r.status_code == 413
    assert httpx.get(server + "/health").json()["trading_state"] == "ACTIVE"


def test_a_body_at_the_cap_is_read(server: str) -> None:
    body = b'{"state": "ACTIVE", "reason": "ok"}'
    body += b" " * (4096 - len(body))
    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH, content=body)
    assert r.status_code == 200, r.text


def test_errors_never_echo_the_input(server: str) -> None:
    marker = "ECHO-ME-" + "z" * 150
    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH,
                   json={"state": marker, "reason": marker})
    assert r.status_code == 422 and marker not in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "state"]
    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH,
                   json={"state": "HALTED", "extra": marker})
    assert r.status_code == 422 and marker not in r.text
    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH,
                   content=b'{"state": "' + marker.encode())
    assert r.status_code == 400 and marker not in r.text
    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH, json=[marker])
    assert r.status_code == 400 and marker not in r.text


def test_curl_default_form_type_with_a_json_body_works(server: str) -> None:
    """`curl -d '{"state": ...}'` sends application/x-www-form-urlencoded."""
    r = httpx.post(server + "/orchestrator/trading-state", headers={
        **AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        content=b'{"state": "REDUCING", "reason": "curl -d"}')
    assert r.status_code == 200, r.text
    assert r.json()["trading_state"] == "REDUCING"
    out = subprocess.run(
        ["curl", "-s", "-X", "POST", "-H", f"Authorization: Bearer {TOKEN}",
         "-d", '{"state": "ACTIVE"}', server + "/orchestrator/trading-state"],
        capture_output=True, text=True, timeout=30, env=subprocess_env(),
    )
    assert '"trading_state":"ACTIVE"' in out.stdout, out


def test_operator_reasons_reach_health_without_control_characters(server: str) -> None:
    nasty = "halt\x1b[2J\x1b[31mnow\r\n\u202eevil\x00!"
    r = httpx.post(server + "/orchestrator/trading-state", headers=AUTH,
                   json={"state": "HALTED", "reason": nasty})
    assert r.status_code == 200
    shown = httpx.get(server + "/health").json()["trading_state_reason"]
    assert "halt" in shown and "now" in shown and "evil" in shown
    assert not any(ord(c) < 32 or c in "\x7f\u202e" for c in shown), repr(shown)
    httpx.post(server + "/orchestrator/trading-state", headers=AUTH, json={"state": "ACTIVE"})


def test_openapi_documents_the_errors_and_the_bearer_scheme(server: str) -> None:
    spec = httpx.get(server + "/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    for path, method in [("/orchestrator/start", "post"), ("/orchestrator/stop", "post"),
                         ("/orchestrator/status", "get"),
                         ("/orchestrator/trading-state", "post")]:
        op = spec["paths"][path][method]
        assert {"401", "413"} <= set(op["responses"]), (path, op["responses"])
        assert op["security"], path
    body_op = spec["paths"]["/orchestrator/trading-state"]["post"]
    assert {"400", "422"} <= set(body_op["responses"])
    assert "requestBody" in body_op
    assert "input" not in str(spec["components"]["schemas"].get("ValidationFailed", {}))


def test_unauthenticated_reads_stay_open(server: str) -> None:
    assert httpx.get(server + "/health").status_code == 200
    assert httpx.get(server + "/ready").status_code == 200
    assert httpx.get(server + "/orchestrator/status").status_code == 401
    assert httpx.get(server + "/orchestrator/status", headers=AUTH).status_code == 200


def test_log_holds_no_token(server: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    logs = list(Path(tmp_path_factory.getbasetemp()).glob("hostile*/server.log"))
    assert logs and all(TOKEN not in p.read_text() for p in logs)


def test_a_latin1_token_is_accepted_and_matches(tmp_path: Path) -> None:
    """Refused are only tokens no header can carry: a latin-1 one works end to end."""
    token = "clé-été"
    env = subprocess_env(API_TOKEN=token, DB_PATH=str(tmp_path / "bot.sqlite3"), AUTOSTART="0")
    with running_server(tmp_path, env) as url:
        auth = {"Authorization": b"Bearer " + token.encode("latin-1")}
        assert httpx.get(url + "/orchestrator/status", headers=auth).status_code == 200
        wrong = {"Authorization": b"Bearer " + token.encode("utf-8")}
        assert httpx.get(url + "/orchestrator/status", headers=wrong).status_code == 401
