"""Helpers for tests: run the emulator in-process or as a subprocess, and point ccxt at it.

ccxt calls that work against the emulator (ccxt 4.5, ``ccxt.async_support.gate``)::

    ex = make_ccxt_gate(sim.api_url)            # urls overridden, spot only, no unified account
    await ex.load_markets()

    # Market buy for a quote amount (Gate takes the cost as `amount`):
    await ex.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 100})
    await ex.create_market_buy_order_with_cost("BTC/USDT", 100)

    # Exchange-side stop (POST /spot/price_orders): a *limit* order with a trigger price.
    # For a sell, `stopLossPrice` (or `triggerPrice`) gives rule "<=", for a buy ">=".
    # The put order is a limit at `price`: set it below the trigger for a sell stop.
    # ccxt only answers {"id": ...}; the returned order has just `id`.
    stop = await ex.create_order("BTC/USDT", "limit", "sell", 0.001, 58_800,
                                 {"stopLossPrice": 59_000})
    # (`takeProfitPrice` gives the opposite rule; do not pass params["trigger"]: ccxt then
    # sends no trigger at all.) Optional params: "expiration" (seconds, default 86400; 0 and
    # negative are refused, as by Gate: "trigger.expiration invalid range").
    await ex.fetch_order(stop["id"], "BTC/USDT", {"trigger": True})   # also {"stop": True}
    await ex.fetch_open_orders("BTC/USDT", None, None, {"trigger": True})
    await ex.fetch_closed_orders("BTC/USDT", None, None, {"trigger": True})
    await ex.cancel_order(stop["id"], "BTC/USDT", {"trigger": True})
    await ex.cancel_all_orders("BTC/USDT", {"trigger": True})
    # Once fired: order["info"]["status"] == "finish" (ccxt status "closed") and
    # order["info"]["fired_order_id"] is the id of the spot order it placed.

    # Countdown cancel-all (no unified method); timeout in seconds, >= 5, 0 disarms:
    resp = await ex.private_spot_post_countdown_cancel_all(
        {"timeout": 30, "currency_pair": "BTC_USDT"})   # -> {"triggerTime": "<ms>"}

The control API (/_sim) is wrapped by SimServer: state(), set_price(), set_faults(), reset()...
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from .app import create_app
from .cli import KEEP_ALIVE_S
from .config import SimConfig, build_simulator
from .exchange import Exchange
from .web import DEFAULT_API_KEY, DEFAULT_API_SECRET, Simulator

SRC_DIR = Path(__file__).resolve().parents[1]


def _amounts(values: dict[str, Any] | None) -> dict[str, Decimal] | None:
    return None if values is None else {k: Decimal(str(v)) for k, v in values.items()}


class _Control:
    """httpx wrappers around the /_sim control API."""

    base_url: str
    _http: httpx.Client

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v4"

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self._http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        response = self._http.get("/_sim/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stats(self) -> dict[str, Any]:
        """GET /_sim/stats: requests and 429s per endpoint and class since the last reset."""
        response = self._http.get("/_sim/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def clear_stats(self) -> dict[str, Any]:
        """Start the request counts afresh (the rate limits keep their windows)."""
        result: dict[str, Any] = self._post("/_sim/stats", {"clear": True})
        return result

    def requests_to(self, endpoint: str) -> int:
        """How many requests `endpoint` ("GET /spot/tickers") answered since the last reset."""
        row = self.stats()["endpoints"].get(endpoint)
        return int(row["requests"]) if row else 0

    def set_price(self, symbol: str, price: Decimal | str | int) -> str:
        """Set the last price (runs matching and trigger orders); returns the price set."""
        return str(self._post("/_sim/price", {"symbol": symbol, "price": str(price)})["price"])

    def advance(self, steps: int = 1) -> dict[str, str]:
        result: dict[str, str] = self._post("/_sim/price", {"advance": steps})["prices"]
        return result

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        body = {k: str(v) if isinstance(v, Decimal) else v for k, v in faults.items()}
        result: dict[str, Any] = self._post("/_sim/faults", body)
        return result

    def clear_faults(self) -> dict[str, Any]:
        return self.set_faults(clear=True)

    def set_balances(self, **balances: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_sim/balances",
                                            {k: str(v) for k, v in balances.items()})
        return result

    def reset(self, balances: dict[str, Any] | None = None,
              prices: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if balances is not None:
            body["balances"] = {k: str(v) for k, v in balances.items()}
        if prices is not None:
            body["prices"] = {k.replace("/", "_"): str(v) for k, v in prices.items()}
        result: dict[str, Any] = self._post("/_sim/reset", body)
        return result

    def fire_countdown(self) -> list[str]:
        """Expire every armed countdown cancel-all now; returns the cancelled order ids."""
        result: list[str] = self._post("/_sim/countdown", {"fire": True})["cancelled"]
        return result


class SimServer(_Control):
    """The emulator in a background thread on 127.0.0.1 and a free port (context manager)."""

    def __init__(self, *, balances: dict[str, Any] | None = None,
                 symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"), seed: int = 42,
                 api_key: str = DEFAULT_API_KEY, api_secret: str = DEFAULT_API_SECRET,
                 tick_ms: int = 0,
                 price_path: str = "synthetic", state_file: str | None = None) -> None:
        config = SimConfig(api_key=api_key, api_secret=api_secret, symbols=symbols, seed=seed,
                           tick_ms=tick_ms, price_path=price_path, state_file=state_file)
        if balances is not None:
            config.balances = _amounts(balances) or {}
        self.config = config
        self.sim: Simulator = build_simulator(config)
        self.port = 0
        self.base_url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def exchange(self) -> Exchange:
        """Direct in-process access to the exchange state (hold `.lock` while using it)."""
        return self.sim.exchange

    def start(self) -> SimServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(self.sim), log_level="warning",
                                timeout_graceful_shutdown=1, timeout_keep_alive=KEEP_ALIVE_S)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"cab-exchange-sim:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("emulator did not start")
            time.sleep(0.01)
        self._http = httpx.Client(base_url=self.base_url, timeout=10)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if getattr(self, "_http", None) is not None:
            self._http.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_ccxt_gate(api_url: str, key: str = DEFAULT_API_KEY, secret: str = DEFAULT_API_SECRET,
                   timeout_ms: int = 10_000) -> Any:
    """A ccxt.async_support.gate whose every API URL points at the emulator."""
    import ccxt.async_support as ccxt_async

    ex = ccxt_async.gate({
        "apiKey": key,
        "secret": secret,
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "options": {"fetchMarkets": {"types": ["spot"]}, "unifiedAccount": False},
    })
    for access in ("public", "private"):
        for name in ex.urls["api"][access]:
            ex.urls["api"][access][name] = api_url
    return ex


class SimProcess(_Control):
    """An emulator running as `python -m cab_exchange_sim` in a subprocess."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self._output: str | None = None
        self.base_url = f"http://127.0.0.1:{port}"
        self._http = httpx.Client(base_url=self.base_url, timeout=10)

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._http.close()
        if self._output is None:
            self._output = self.output()
            self.log_path.unlink(missing_ok=True)

    def output(self) -> str:
        """Everything the process printed (stdout and stderr), also after stop()."""
        if self._output is not None:
            return self._output
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sim_process(port: int | None = None, *extra_args: str,
                      timeout_s: float = 20.0) -> SimProcess:
    """Run `python -m cab_exchange_sim --port PORT [extra_args]` and wait until it answers."""
    port = port or free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC_DIR), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "cab_exchange_sim", "--port", str(port), *extra_args]
    fd, name = tempfile.mkstemp(prefix=f"cab-exchange-sim-{port}-", suffix=".log")
    log_path = Path(name)
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{port}/api/v4/spot/time"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log_path.read_text(encoding="utf-8", errors="replace").strip()
            log_path.unlink(missing_ok=True)
            raise RuntimeError(f"emulator exited with {process.returncode}: {text}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return SimProcess(process, port, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=5)
    log_path.unlink(missing_ok=True)
    raise RuntimeError(f"emulator did not answer on port {port} within {timeout_s} s")
