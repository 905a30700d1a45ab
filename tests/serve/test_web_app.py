"""The web app served at / beside the API: history fallback, cached hashed assets in the
encoding the client takes, a same-origin CSP, and API paths that never answer with HTML."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import brotli
import httpx
import pytest

from core.settings import Settings
from serve.app import build_app
from tests.serve.conftest import client_of

INDEX = '<!doctype html><html lang="en"><title>Campaign Manager</title><div id="root"></div></html>'
SCRIPT = b"console.log('campaign manager');" * 20


def write_build(dist: Path) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "favicon.svg").write_text("<svg/>")
    (dist / "assets" / "index-Ab12Cd.js").write_bytes(SCRIPT)
    (dist / "assets" / "index-Ab12Cd.js.gz").write_bytes(gzip.compress(SCRIPT))
    (dist / "assets" / "index-Ab12Cd.js.br").write_bytes(brotli.compress(SCRIPT))
    (dist.parent / "secret.txt").write_text("not for the web")


def settings_for(tmp_path: Path, dist: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        ui_dist_dir=dist,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        _env_file=None,
    )


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dist = tmp_path / "dist"
    write_build(dist)
    async with client_of(build_app(settings_for(tmp_path, dist))) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/campaigns", "/campaigns/42", "/login?next=%2Fartists"])
async def test_client_routes_get_the_app_with_its_csp(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)

    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("accept", "encoding"), [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("identity", None)]
)
async def test_hashed_assets_are_cached_a_year_in_the_encoding_taken(
    web: httpx.AsyncClient, accept: str, encoding: str | None
) -> None:
    response = await web.get("/assets/index-Ab12Cd.js", headers={"Accept-Encoding": accept})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith(
        ("text/javascript", "application/javascript")
    )
    assert response.headers.get("content-encoding") == encoding
    assert response.headers["vary"] == "Accept-Encoding"
    # httpx decodes what the server encoded: the same script either way.
    assert response.content == SCRIPT


@pytest.mark.parametrize(
    "path",
    ["/assets/missing-123.js", "/assets/..%2F..%2Fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"],
)
async def test_missing_or_escaping_assets_are_404_problems(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "not for the web" not in response.text


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/nothing", "/inbound/x"])
async def test_api_paths_never_fall_back_to_the_app(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)

    assert response.status_code in (404, 405)
    assert response.headers["content-type"] == "application/problem+json"


async def test_public_files_and_the_api_docs_are_still_served(web: httpx.AsyncClient) -> None:
    icon = await web.get("/favicon.svg")
    docs = await web.get("/api/openapi.json")

    assert icon.status_code == 200 and icon.text == "<svg/>"
    assert docs.status_code == 200 and docs.json()["info"]["title"] == "Campaign Manager"
    assert all("{client_route" not in path for path in docs.json()["paths"])


async def test_without_a_build_the_root_says_where_the_api_is(tmp_path: Path) -> None:
    async with client_of(build_app(settings_for(tmp_path, tmp_path / "no-build"))) as client:
        response = await client.get("/campaigns")

    assert response.status_code == 200
    assert "/api/docs" in response.text
    assert "has not been built" in response.text
