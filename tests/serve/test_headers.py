"""What every response carries and how it travels: security headers (HSTS only over TLS), gzip
for bodies worth it, and CORS for the origins CM_CORS_ORIGINS names and no others."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from core.settings import Settings
from serve.app import build_app
from tests.serve.conftest import register

API = "/api/v1"
ALLOWED = "https://app.example.com"
PROXY = "10.0.0.5"


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "same-origin"


def client(app: FastAPI, *, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


@pytest.fixture(scope="module")
def configured_app(app_settings: Settings) -> FastAPI:
    """The app with a CORS allow-list and a trusted proxy (no lifespan: nothing here needs the
    database)."""
    settings = app_settings.model_copy(
        update={"cors_origins": [ALLOWED], "trusted_proxies": "10.0.0.0/8"}
    )
    return build_app(settings)


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        "path", ["/healthz", f"{API}/campaigns", f"{API}/no-such-route", "/api/openapi.json"]
    )
    async def test_every_answer_carries_them_errors_included(
        self, local_api: httpx.AsyncClient, path: str
    ) -> None:
        response = await local_api.get(path)

        assert_security_headers(response)
        assert "strict-transport-security" not in response.headers

    async def test_a_refusal_before_any_route_carries_them_too(
        self, local_api: httpx.AsyncClient
    ) -> None:
        response = await local_api.get(f"{API}/campaigns", params={"q": "\x00"})

        assert response.status_code == 422
        assert_security_headers(response)

    async def test_hsts_when_a_trusted_proxy_says_the_client_came_over_tls(
        self, configured_app: FastAPI
    ) -> None:
        async with client(configured_app, peer=PROXY) as api:
            over_tls = await api.get("/api/openapi.json", headers={"X-Forwarded-Proto": "https"})
            plain = await api.get("/api/openapi.json", headers={"X-Forwarded-Proto": "http"})

        assert over_tls.headers["strict-transport-security"] == "max-age=31536000"
        assert "strict-transport-security" not in plain.headers

    async def test_no_hsts_when_anyone_else_says_so(self, configured_app: FastAPI) -> None:
        async with client(configured_app, peer="203.0.113.9") as api:
            response = await api.get("/api/openapi.json", headers={"X-Forwarded-Proto": "https"})

        assert "strict-transport-security" not in response.headers

    async def test_hsts_on_every_answer_when_published_over_https(
        self, app_settings: Settings
    ) -> None:
        app = build_app(app_settings.model_copy(update={"public_url": "https://cm.example.com"}))
        async with client(app) as api:
            response = await api.get(f"{API}/no-such-route")

        assert response.headers["strict-transport-security"] == "max-age=31536000"


class TestGzip:
    async def test_large_bodies_are_gzipped_for_clients_that_take_it(
        self, local_api: httpx.AsyncClient
    ) -> None:
        packed = await local_api.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
        plain = await local_api.get("/api/openapi.json", headers={"Accept-Encoding": "identity"})

        assert packed.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in packed.headers["vary"].lower()
        assert int(packed.headers["content-length"]) < len(plain.content)
        assert packed.json() == plain.json()
        assert "content-encoding" not in plain.headers

    async def test_small_bodies_are_sent_as_they_are(self, local_api: httpx.AsyncClient) -> None:
        response = await local_api.get("/healthz", headers={"Accept-Encoding": "gzip"})

        assert response.status_code == 200
        assert "content-encoding" not in response.headers

    async def test_a_csv_export_downloads_gzipped_with_its_file_name(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        created = await local_api.post(
            f"{API}/transactions",
            json={
                "type": "expense",
                "amount_minor": 1250,
                "currency": "EUR",
                "occurred_on": "2026-03-01",
                "description": "Instagram ads, spring push " * 80,
            },
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        export = await local_api.post(f"{API}/transactions/export", headers=owner.headers)
        assert export.status_code == 201, export.text

        download = await local_api.get(
            export.json()["download_url"],
            headers={**owner.headers, "Accept-Encoding": "gzip"},
        )

        assert download.status_code == 200, download.text
        assert download.headers["content-encoding"] == "gzip"
        assert download.headers["content-type"].startswith("text/csv")
        filename = export.json()["filename"]
        assert download.headers["content-disposition"] == f'attachment; filename="{filename}"'
        assert "Instagram ads, spring push" in download.text


class TestCors:
    async def test_a_preflight_from_an_allowed_origin_is_answered(
        self, configured_app: FastAPI
    ) -> None:
        async with client(configured_app) as api:
            response = await api.options(
                f"{API}/campaigns",
                headers={
                    "Origin": ALLOWED,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
                },
            )

        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed_headers = response.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= {
            name.strip() for name in allowed_headers.split(",")
        }
        assert "access-control-allow-credentials" not in response.headers

    async def test_a_preflight_from_another_origin_is_refused(
        self, configured_app: FastAPI
    ) -> None:
        async with client(configured_app) as api:
            response = await api.options(
                f"{API}/campaigns",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            )

        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_an_allowed_origin_may_read_the_answer_and_its_retry_after(
        self, configured_app: FastAPI
    ) -> None:
        async with client(configured_app) as api:
            allowed = await api.get(f"{API}/no-such-route", headers={"Origin": ALLOWED})
            other = await api.get(
                f"{API}/no-such-route", headers={"Origin": "https://evil.example"}
            )

        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "retry-after" in allowed.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-origin" not in other.headers

    async def test_without_an_allow_list_no_origin_is_let_in(
        self, local_api: httpx.AsyncClient
    ) -> None:
        response = await local_api.options(
            f"{API}/campaigns",
            headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"},
        )

        assert "access-control-allow-origin" not in response.headers
