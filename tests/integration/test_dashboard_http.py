"""The dashboard's files over real HTTP: the page at `/` with its Content-Security-Policy, its
scripts and styles, the vendored chart library byte for byte, and nothing pointing elsewhere."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest
from tests.conftest import REPO, running_server, subprocess_env

from crypto_ai_bot.api.dashboard import AUTH_META, STATIC_DIR, VENDOR_DIR, page

LWC = VENDOR_DIR / "lightweight-charts"
LWC_JS = "lightweight-charts.standalone.production.js"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cwd = tmp_path_factory.mktemp("dashboard")
    env = subprocess_env(MODE="paper", API_TOKEN="dashboard-test-token", AUTOSTART="0",
                         DB_PATH=str(cwd / "bot.sqlite3"))
    with running_server(cwd, env) as url:
        yield url


def test_the_page_is_served_at_root_under_a_self_only_policy(bot: str) -> None:
    r = httpx.get(bot + "/", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'", (name, csp)
    assert "unsafe" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert AUTH_META in r.text  # API_TOKEN is set: the page asks for it before any call
    assert "[…]" in r.text  # the mode's place on every page, filled from /health
    head = httpx.head(bot + "/", timeout=10)
    assert head.status_code == 200


def test_every_file_the_page_uses_is_served_with_its_type(bot: str) -> None:
    html = httpx.get(bot + "/", timeout=10).text
    refs = re.findall(r'(?:src|href)="(/[^"]+)"', html)
    assert "/static/js/app.js" in refs and f"/vendor/lightweight-charts/{LWC_JS}" in refs
    modules = [p.name for p in (STATIC_DIR / "js").glob("*.js")]
    refs += [f"/static/js/{m}" for m in modules]  # imported by app.js
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for ref in refs:
        r = httpx.get(bot + ref, timeout=10)
        assert r.status_code == 200, ref
        want = types[Path(ref).suffix]
        got = r.headers["content-type"]
        assert got.startswith(want) or (want == "text/javascript"
                                        and got.startswith("application/javascript")), (ref, got)
        assert r.headers["x-content-type-options"] == "nosniff"


def test_the_chart_library_is_served_as_vendored(bot: str) -> None:
    readme = (LWC / "README.md").read_text()
    assert "lightweight-charts@5.2.1" in readme and "Apache-2.0" in readme
    for name in (LWC_JS, "LICENSE"):
        data = (LWC / name).read_bytes()
        assert f"{hashlib.sha256(data).hexdigest()}  {name}" in readme, name
    served = httpx.get(f"{bot}/vendor/lightweight-charts/{LWC_JS}", timeout=10).content
    assert served == (LWC / LWC_JS).read_bytes()
    assert b"TradingView Lightweight Charts" in served[:300]  # its own license header


def test_the_page_credits_tradingview_as_its_license_asks() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    assert 'href="https://www.tradingview.com/"' in html
    assert "Copyright (с) 2023 TradingView, Inc." in html  # the NOTICE file's words


def test_nothing_in_the_files_points_off_the_machine() -> None:
    """Scripts and styles name no other host; the page's only absolute URL in an attribute is
    the attribution's link (an <a>, which loads nothing until clicked)."""
    for path in STATIC_DIR.rglob("*.*"):
        text = path.read_text()
        if path.suffix in (".js", ".css"):
            assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), path
    html = (STATIC_DIR / "index.html").read_text()
    tags = re.findall(r"<(\w+)[^>]*?\s([\w-]+)=\"(?:https?:)?//", html)
    assert tags == [("a", "href")]


def test_no_token_means_the_page_asks_for_none() -> None:
    assert AUTH_META in page(token_set=True)
    assert AUTH_META not in page(token_set=False)
    assert '<meta name="cab-api-token" content="unset">' in page(token_set=False)


def test_the_dashboard_is_not_part_of_the_api_schema(bot: str) -> None:
    paths = httpx.get(bot + "/openapi.json", timeout=10).json()["paths"]
    assert "/" not in paths and not any(p.startswith(("/static", "/vendor")) for p in paths)


def _glob_matches(rel: str, pattern: str) -> bool:
    """As setuptools globs: `*` stays within one folder."""
    parts, want = rel.split("/"), pattern.split("/")
    return len(parts) == len(want) and all(fnmatch(a, b) for a, b in zip(parts, want, strict=True))


def test_the_wheel_carries_every_file_of_the_dashboard() -> None:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = data["package-data"]
    src = REPO / "src"
    for folder in (STATIC_DIR, LWC):
        for path in folder.rglob("*"):
            if path.is_dir():
                continue
            rel = path.relative_to(src).as_posix()
            covered = any(
                rel.startswith(pkg.replace(".", "/") + "/")
                and any(_glob_matches(rel[len(pkg) + 1:], g) for g in patterns)
                for pkg, patterns in globs.items())
            assert covered, f"{rel} is not in [tool.setuptools.package-data]"
