"""The web app (``ui/``, built by Vite into ``ui/dist``) served at ``/`` beside the API.

- ``/assets/*`` are content-hashed: served with a year's ``immutable`` cache, and from the
  ``.br`` or ``.gz`` file the build wrote beside each one when the client accepts it.
- Any other GET that no API route took is a client route (``/campaigns/42``): it gets
  ``index.html`` (never cached, so a new build is picked up at once). Paths under ``/api/``
  stay 404 problems, so a mistyped API call never answers with HTML.
- Every page carries a Content-Security-Policy that allows only the app's own origin (and its
  WebSocket), no inline script, no framing.

Without a build (Node missing, ``make run`` said so) the API is served alone and ``/`` says
where the app would be.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from serve.problems import problem_response

DEFAULT_DIST = Path(__file__).resolve().parents[1] / "ui" / "dist"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # React sets style properties through the DOM (allowed); no inline <style> is used.
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# nosniff, Referrer-Policy and X-Frame-Options come with every response (serve/headers.py).
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
}
ASSET_CACHE = "public, max-age=31536000, immutable"
# Encodings the build writes beside each asset, best first.
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
# Root paths the app may not shadow: the API, its docs, and the public links in sent mail.
_NOT_CLIENT_ROUTES = ("api/", "inbound/", "healthz")

NO_BUILD_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Campaign Manager</title><body><h1>Campaign Manager</h1>
<p>The web app has not been built (it needs Node 20: <code>make run</code> builds it when Node
is installed). The JSON API is running: <a href="/api/docs">/api/docs</a>.</p></body></html>
"""


def install_web_app(app: FastAPI, dist: Path) -> None:
    """Serve the built app in ``dist`` at ``/``; call after every API route is included."""
    dist = dist.resolve()
    assets = dist / "assets"
    index = dist / "index.html"

    @app.get("/assets/{name:path}", include_in_schema=False)
    async def asset(name: str, request: Request) -> Response:
        path = (assets / name).resolve()
        if not path.is_relative_to(assets) or not path.is_file():
            return problem_response(404, "not-found", "Not found", f"no asset {name!r}")
        accepted = request.headers.get("accept-encoding", "")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Cache-Control": ASSET_CACHE, "Vary": "Accept-Encoding"}
        for encoding, suffix in _ENCODINGS:
            packed = path.with_name(path.name + suffix)
            if encoding in accepted and packed.is_file():
                headers["Content-Encoding"] = encoding
                return FileResponse(packed, media_type=media_type, headers=headers)
        return FileResponse(path, media_type=media_type, headers=headers)

    @app.get("/{client_route:path}", include_in_schema=False)
    async def page(client_route: str) -> Response:
        if client_route.startswith(_NOT_CLIENT_ROUTES):
            return problem_response(404, "not-found", "Not found", f"no route /{client_route}")
        static = (dist / client_route).resolve()
        if client_route and static.is_relative_to(dist) and static.is_file():
            # Files Vite copies from public/ (favicon, robots.txt): not hashed, so revalidated.
            return FileResponse(static, headers={"Cache-Control": "no-cache"})
        if not index.is_file():
            return HTMLResponse(NO_BUILD_PAGE, headers=PAGE_HEADERS)
        return FileResponse(index, media_type="text/html", headers=PAGE_HEADERS)
