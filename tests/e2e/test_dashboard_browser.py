"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against the real
bot started as the README starts it, `make run` (uvicorn in its own process), in paper mode on
a fast synthetic market.

It signs in (a wrong token first), sees a position open, watches a trade appear without the
page reloading, force-exits a position after confirming and sees it closed in the trades table;
the browser logs no error and asks nothing of any host but the bot. It prints the first paint
and saves a screenshot of the overview (into docs/img/dashboard.png with
CAB_UPDATE_SCREENSHOT=1, the README's picture).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.conftest import PYTHON, REPO, free_port, running_server, subprocess_env, wait_ready

from cab_exchange_sim.testing import start_sim_process

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (Debian: apt-get install chromium; .ci/run does)",
                allow_module_level=True)

TOKEN = "browser-test-token-5f1c"
SCREENSHOT = REPO / "docs" / "img" / "dashboard.png"
WAIT_MS = 90_000  # the market is fast, the machine may not be
# numbers for people, as the page's own module rounds them (decimals, never floats)
FORMAT_CASES = """async () => {
  const f = await import("/static/js/format.js");
  return [f.money("1234.565"), f.money("-0.004"), f.money("2.5", {signed: true}),
          f.pct("12.345"), f.pct("-0.005"), f.price("60123.456789", 2),
          f.price("0.000012345", null), f.decimal("1E-8", 8), f.price("123.4", 0)];
}"""


@pytest.fixture(autouse=True)
def _patient_expect() -> None:
    sync_api.expect.set_options(timeout=WAIT_MS)  # its own default is 5 s


@contextmanager
def make_run(cwd: Path, env: dict[str, str], timeout_s: float = 60) -> Iterator[str]:
    """The README's `make run` (with the suite's venv, taken as installed), on a free port, in
    a process group of its own so that uvicorn under make stops with it; yields its URL."""
    venv = Path(PYTHON).parent.parent
    port = free_port()
    log_path = cwd / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["make", "-f", str(REPO / "Makefile"), "-o", str(venv / ".installed"),
             f"VENV={venv}", f"PORT={port}", "run"],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url, log_path, timeout_s, "make run")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own group: make, its shell and uvicorn
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("make") is None:
        pytest.skip("no make on this machine: the test runs the README's `make run`")
    cwd = tmp_path_factory.mktemp("bot")
    env = subprocess_env(
        MODE="paper", API_TOKEN=TOKEN, DB_PATH=str(cwd / "bot.sqlite3"),
        SYMBOLS="BTC/USDT,ETH/USDT", PRICE_FEED="synthetic",
        EVAL_INTERVAL_SEC="0.1", EXITS_INTERVAL_SEC="0.1",  # a 5m candle every 0.1 s
        RISK_COOLDOWN_SEC="0", RISK_MAX_ORDERS_PER_HOUR="0", LOG_LEVEL="WARNING",
    )  # AUTOSTART is make run's own (on)
    with make_run(cwd, env) as url:
        yield url


class Watch:
    """What the page did: console errors, uncaught exceptions, every URL it asked for."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.urls: list[str] = []
        self.posts: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        self.urls.append(request.url)
        if request.method == "POST":
            self.posts.append(urlsplit(request.url).path)


def _eventually(check: Callable[[], bool], what: str, timeout_s: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.2)


def test_dashboard_in_a_real_browser(bot: str, tmp_path: Path) -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            watch = Watch(page)
            _session(page, watch, context, bot, tmp_path)
        finally:
            browser.close()


def _session(page: Any, watch: Watch, context: Any, bot: str, tmp_path: Path) -> None:
    expect = sync_api.expect
    page.goto(bot + "/")
    fcp = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    print(f"\nfirst contentful paint: {fcp} ms (loopback, a loaded machine)")
    expect(page.locator("#mode-label")).to_have_text("[PAPER]")
    expect(page.locator("#login")).to_be_visible()

    # a wrong token is told so (its 401 is the one error the console may show)
    page.fill("#token", "not-the-token")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("Wrong token")
    assert all("401" in e for e in watch.errors), watch.errors
    watch.errors.clear()

    page.fill("#token", TOKEN)
    page.click("#login-submit")
    expect(page.locator("#page-overview")).to_be_visible()
    expect(page.locator("#mode-banner")).to_have_class("mode-banner mode-paper")
    page.evaluate("window.__notReloaded = true")  # gone if the page ever reloads

    # a position opens on the synthetic market, shown without touching the page
    expect(page.locator("#positions tbody tr").first).to_be_visible()
    expect(page.locator("#live-dot")).to_have_text("● live")

    # a trade appears in the table while we watch
    page.click('#tabs a[data-tab="trades"]')
    row = page.locator("#trades tbody tr").first
    expect(row).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    cells = row.locator("td")
    assert re.fullmatch(r"[+-]?\d{1,3}(,\d{3})*\.\d{2}", cells.nth(8).inner_text()), "PnL"
    assert re.fullmatch(r"[+-]?\d+\.\d{2} %", cells.nth(9).inner_text()), "PnL %"
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", cells.nth(7).inner_text()), "fees"
    assert page.evaluate(FORMAT_CASES) == [
        "1,234.57", "0.00", "+2.50", "+12.35 %", "-0.01 %", "60,123.46", "0.00001235",
        "0.00000001", "123"]

    # the events feed follows the stream: items arrive that the page did not load
    page.click('#tabs a[data-tab="events"]')
    expect(page.locator("#feed li.new").first).to_be_visible()
    expect(page.locator("#feed li[data-topic='order.filled']").first).to_be_visible()

    # the chart: candles, the strategy's indicators, the fills
    page.click('#tabs a[data-tab="chart"]')
    expect(page.locator("#candle-chart canvas").first).to_be_visible()
    legend = page.locator("#chart-legend")
    expect(legend).to_contain_text("ema")
    expect(legend).to_contain_text(re.compile(r"\d+ candles, [1-9]\d* fills"))

    # PnL per day and the balance, in the quote's cents
    page.click('#tabs a[data-tab="pnl"]')
    today = page.locator("#pnl-table tbody tr").first
    expect(today).to_contain_text(re.compile(r"\d\.\d{2} USDT"))
    page.click('#tabs a[data-tab="balance"]')
    usdt = page.locator("#balance tbody tr", has_text="USDT").first
    expect(usdt).to_contain_text(re.compile(r"\d\.\d{2} USDT$"))

    # the overview, with a position open: the README's picture
    page.click('#tabs a[data-tab="overview"]')
    _picture(page, bot, tmp_path / "dashboard.png")

    symbol = _force_exit(page)

    # closed, in the trades table, by the operator's hand
    page.click('#tabs a[data-tab="trades"]')
    forced = page.locator(f'#trades tbody tr[data-symbol="{symbol}"]', has_text="force_exit")
    expect(forced.first).to_be_visible()
    trades = _api(bot, "/api/v1/trades", symbol=symbol, limit=500)
    assert any(t["exit_reason"].startswith("force_exit") for t in trades["items"])
    assert page.evaluate("window.__notReloaded") is True

    _controls(page, watch, bot)
    _every_page_says(page, "[PAPER]")

    # a phone-sized screen: nothing wider than the screen, the controls within reach
    page.set_viewport_size({"width": 390, "height": 844})
    page.click('#tabs a[data-tab="overview"]')
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.locator("#mode-label")).to_be_in_viewport()

    # the token: in this tab's sessionStorage only
    assert page.evaluate("sessionStorage.getItem('cab.api_token')") == TOKEN
    assert context.cookies() == []
    assert all(TOKEN not in u for u in watch.urls)
    assert all(TOKEN not in e for e in watch.errors)

    assert watch.errors == [], watch.errors
    host = urlsplit(bot).netloc
    foreign = sorted({u for u in watch.urls if urlsplit(u).netloc != host})
    assert foreign == [], foreign
    assert any(urlsplit(u).path == "/api/v1/stream" for u in watch.urls)


PAGES = ("overview", "trades", "chart", "pnl", "balance", "events", "controls")


def _every_page_says(page: Any, label: str) -> None:
    """The mode in the banner at the top of every tab, and in the window's title."""
    for tab in PAGES:
        page.click(f'#tabs a[data-tab="{tab}"]')
        sync_api.expect(page.locator(f"#page-{tab}")).to_be_visible()
        sync_api.expect(page.locator("#mode-label")).to_have_text(label)
        sync_api.expect(page.locator("#mode-banner")).to_be_in_viewport()
        # whatever is wide (a table, a chart) scrolls inside its card, never the page
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), tab
    assert page.title().startswith(label)


def test_live_mode_is_unmistakable(tmp_path: Path) -> None:
    """A live bot (on the project's Gate emulator), on a phone-sized screen: [LIVE] on every
    page, in red, and an order by hand warns that it is real (the test cancels it)."""
    with start_sim_process(None, "--balances", "USDT=10000") as sim:
        env = subprocess_env(
            MODE="live", EXCHANGE_API_URL=f"http://127.0.0.1:{sim.port}", API_KEY="sim-key",
            API_SECRET="sim-secret", API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "live.sqlite3"),
            LOG_LEVEL="WARNING")
        with running_server(tmp_path, env) as bot, sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.set_default_timeout(WAIT_MS)
                watch = Watch(page)
                page.goto(bot + "/")
                sync_api.expect(page.locator("#mode-label")).to_have_text("[LIVE]")
                page.fill("#token", TOKEN)
                page.click("#login-submit")
                sync_api.expect(page.locator("#mode-banner")).to_have_class(
                    "mode-banner mode-live")
                _every_page_says(page, "[LIVE]")
                page.click("#ctl-enter")
                dialog = page.locator("#confirm")
                sync_api.expect(dialog).to_contain_text("[LIVE] This sends a real order")
                page.click("#confirm-cancel")
                page.wait_for_timeout(300)
                assert watch.posts == []
                assert watch.errors == [], watch.errors
                host = urlsplit(bot).netloc
                assert {urlsplit(u).netloc for u in watch.urls} == {host}
            finally:
                browser.close()


def _api(bot: str, path: str, **params: Any) -> Any:
    return httpx.get(bot + path, params=params, headers={"Authorization": f"Bearer {TOKEN}"},
                     timeout=10).json()


def _picture(page: Any, bot: str, shot: Path) -> None:
    """The overview after a few trades, at a moment a position is open (the market moves on)."""
    _eventually(lambda: _api(bot, "/api/v1/trades")["total"] >= 6, "six closed trades")
    rows = page.locator("#positions tbody tr")
    for _ in range(30):
        sync_api.expect(rows.first).to_be_visible()
        page.wait_for_timeout(500)  # the chart draws its last points
        page.screenshot(path=str(shot))
        if rows.count():
            break
    if os.environ.get("CAB_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def _controls(page: Any, watch: Watch, bot: str) -> None:
    """The switches, each shown as it takes effect; an order by hand only once confirmed."""
    expect = sync_api.expect
    page.click('#tabs a[data-tab="controls"]')
    page.fill("#ctl-reason", "browser test: halt")
    page.click('[data-action="halt"]')
    expect(page.locator("#state-pill")).to_have_text("HALTED")
    expect(page.locator("#ctl-state")).to_contain_text("browser test: halt")
    page.fill("#ctl-reason", "")
    page.click('[data-action="stop-entries"]')
    expect(page.locator("#state-pill")).to_have_text("REDUCING")
    page.click('[data-action="resume"]')
    expect(page.locator("#state-pill")).to_have_text("ACTIVE")
    page.click('[data-action="stop"]')
    expect(page.locator("#run-pill")).to_have_text("loops stopped")

    # the market stands still now: a flat symbol, or one made flat from this page
    held = [s["symbol"] for s in _api(bot, "/api/v1/status")["symbols"] if s["in_position"]]
    if len(held) == 2:
        page.locator(f'#ctl-positions tr[data-symbol="{held[0]}"] button').click()
        page.click("#confirm-ok")
        expect(page.locator(f'#ctl-positions tr[data-symbol="{held[0]}"]')).to_have_count(0)
        held = held[1:]
    flat = next(s for s in ("BTC/USDT", "ETH/USDT") if s not in held)
    page.select_option("#ctl-enter-symbol", flat)
    dialog = page.locator("#confirm")
    page.click("#ctl-enter")
    expect(dialog).to_contain_text(f"Force enter {flat}?")
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(500)
    assert "/api/v1/force-enter" not in watch.posts  # cancelled: nothing sent
    page.click("#ctl-enter")
    page.click("#confirm-ok")
    expect(page.locator("#toast")).to_contain_text(f"{flat}: entry sent")
    expect(page.locator(f'#ctl-positions tr[data-symbol="{flat}"]')).to_have_count(1)
    assert watch.posts.count("/api/v1/force-enter") == 1

    # the position's stop, as a line on its chart (the market stands still: it stays open)
    page.click('#tabs a[data-tab="chart"]')
    page.select_option("#chart-symbol", flat)
    expect(page.locator("#chart-title")).to_contain_text(flat)
    expect(page.locator("#chart-legend")).to_contain_text(re.compile(r"stop \d[\d,]*\.\d+"))
    page.click('#tabs a[data-tab="controls"]')

    page.click('[data-action="start"]')
    expect(page.locator("#run-pill")).to_have_text("loops running")


def _force_exit(page: Any) -> str:
    """Force-exit an open position, confirming; the market may close it first, so again."""
    expect = sync_api.expect
    for _ in range(10):
        first = page.locator("#positions tbody tr").first
        expect(first).to_be_visible()
        symbol = str(first.get_attribute("data-symbol"))
        try:  # that position's own button: the market may close it meanwhile
            page.locator(f'#positions tr[data-symbol="{symbol}"] button').click(timeout=3000)
        except sync_api.TimeoutError:
            continue
        dialog = page.locator("#confirm")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(symbol)
        expect(dialog).to_contain_text("[PAPER]")
        page.click("#confirm-ok")
        expect(dialog).to_be_hidden()
        toast = page.locator("#toast")
        expect(toast).to_be_visible()
        if "bad" not in (toast.get_attribute("class") or ""):
            return symbol
        page.wait_for_timeout(300)  # closed by the market meanwhile: the next one
    raise AssertionError("no force exit was accepted")
