"""What every HTTP response carries, and how it may travel: security headers, gzip and CORS.

- Every response (API, web app, docs, errors) gets ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY`` with ``Content-Security-Policy: frame-ancestors 'none'`` (no page
  of ours may be framed) and ``Referrer-Policy: same-origin``, unless the route set its own
  (the web app's pages carry a full CSP; the tracking pages send no referrer at all).
- ``Strict-Transport-Security`` only when the client came over TLS: ``CM_PUBLIC_URL`` is
  ``https://`` (the service is published over TLS, whatever the hop behind the proxy is), the
  connection itself is TLS, or a trusted proxy (``CM_TRUSTED_PROXIES``) says
  ``X-Forwarded-Proto: https``. Browsers ignore it over plain HTTP anyway; sending it there
  would only mislead.
- Bodies of 1 KiB and more are gzipped for clients that accept it, streamed ones chunk by chunk
  (the CSV exports); what is already encoded (the web app's ``.br``/``.gz`` assets), event
  streams and WebSockets pass untouched.
- Browsers on other origins may call the API only from ``CM_CORS_ORIGINS`` (empty by default:
  same-origin only, and no CORS headers at all). Auth is a bearer token, never a cookie, so no
  credentials mode is needed.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import IPNetwork, Settings
from serve.security import request_over_tls

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}
# A year; no includeSubDomains or preload: other hosts under the domain are not ours to decide.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
GZIP_MINIMUM_BYTES = 1024
# Level 6 (zlib's default) compresses JSON almost as well as 9 at a fraction of the CPU.
GZIP_LEVEL = 6
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID")
# What a script on an allowed origin may read besides the safelisted response headers.
CORS_EXPOSED_HEADERS = (
    "Content-Disposition",
    "Idempotent-Replayed",
    "Location",
    "Retry-After",
    "X-Request-ID",
)
CORS_MAX_AGE_SECONDS = 600


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` (and HSTS over TLS) to every HTTP response that does not
    set them itself."""

    def __init__(
        self, app: ASGIApp, *, public_url: str, trusted_proxies: tuple[IPNetwork, ...]
    ) -> None:
        self.app = app
        self.published_over_tls = public_url.startswith("https://")
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = self.published_over_tls or request_over_tls(scope, self.trusted_proxies)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", ()))
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if over_tls:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
            await send(message)

        await self.app(scope, receive, with_headers)


def install_transport_middleware(app: FastAPI, settings: Settings) -> None:
    """Add gzip, the security headers and CORS; call after every other middleware, so these
    wrap them all (an early refusal or a 503 gets the same headers as any answer)."""
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(
        SecurityHeadersMiddleware,
        public_url=settings.public_url,
        trusted_proxies=settings.trusted_proxy_networks,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=CORS_MAX_AGE_SECONDS,
        )
