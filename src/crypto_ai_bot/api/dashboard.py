"""The web dashboard: its page at `/`, its own files under /static, the vendored chart library.

The page is plain HTML, CSS and ES modules shipped in the package (api/static/), with no
build step and nothing fetched from elsewhere: the Content-Security-Policy allows the bot's
own origin only. The page reads /api/v1 with the token the operator typed, which it keeps in
the tab's sessionStorage and sends as a Bearer header, never in a URL or a cookie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = Path(__file__).resolve().parents[1] / "assets" / "vendor"

# Self only. `style-src` needs no 'unsafe-inline': the scripts set styles through the CSSOM,
# which the policy allows; the chart library's own logo (an inline <style>) is switched off
# and the attribution it asks for is in the page instead.
CSP = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


class _Files(StaticFiles):
    """StaticFiles whose answers say what they are and are revalidated (an upgrade shows)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response


AUTH_META = '<meta name="cab-api-token" content="set">'


def page(token_set: bool) -> str:
    """index.html, telling the script whether the bot has an API_TOKEN at all: without one
    /api/v1 refuses every call, so the page says how to set one rather than ask for it (and
    sends no request it knows will be refused)."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    if AUTH_META not in html:
        raise RuntimeError(f"index.html lacks {AUTH_META}")
    return html if token_set else html.replace(AUTH_META, AUTH_META.replace('"set"', '"unset"'))


def mount_dashboard(app: FastAPI, *, token_set: bool) -> None:
    """Serve the page at `/` and its files; none of it is in /openapi.json."""
    html = page(token_set)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(html, headers=PAGE_HEADERS)

    app.mount("/static", _Files(directory=STATIC_DIR), name="static")
    app.mount("/vendor", _Files(directory=VENDOR_DIR), name="vendor")
