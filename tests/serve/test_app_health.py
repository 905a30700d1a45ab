"""The app factory in-process (no Ray): /healthz names the part that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from serve.app import build_app


async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


def settings_with(
    tmp_path: Path, database_url: str, redis_url: str, **overrides: object
) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        _env_file=None,
        **overrides,
    )  # type: ignore[call-arg]


class TestHealthNamesWhatIsDown:
    async def test_all_parts_up_is_200(
        self, tmp_path: Path, database_url: str, redis_url: str
    ) -> None:
        async for client in client_for(settings_with(tmp_path, database_url, redis_url)):
            response = await client.get("/healthz")
            assert response.status_code == 200

    async def test_redis_down_is_503_naming_redis(self, tmp_path: Path, database_url: str) -> None:
        async for client in client_for(
            settings_with(tmp_path, database_url, "redis://127.0.0.1:1/0")
        ):
            response = await client.get("/healthz")
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            body = response.json()
            assert body["detail"].startswith("redis is down")
            assert body["checks"]["redis"]["status"] == "down"
            assert body["checks"]["postgres"]["status"] == "ok"

    async def test_postgres_down_is_503_naming_postgres(
        self, tmp_path: Path, redis_url: str
    ) -> None:
        settings = settings_with(tmp_path, "postgresql://nobody@127.0.0.1:1/none", redis_url)
        async for client in client_for(settings):
            body = (await client.get("/healthz")).json()
            assert body["status"] == 503
            assert [name for name, part in body["checks"].items() if part["status"] == "down"] == [
                "postgres"
            ]

    async def test_object_store_down_is_503_naming_it(
        self, tmp_path: Path, database_url: str, redis_url: str
    ) -> None:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the data folder should be")
        settings = settings_with(blocker, database_url, redis_url)
        async for client in client_for(settings):
            body = (await client.get("/healthz")).json()
            assert "object_store is down" in body["detail"]

    @pytest.mark.parametrize("bucket", ["missing-bucket"])
    async def test_an_absent_s3_bucket_is_503(
        self, tmp_path: Path, database_url: str, redis_url: str, s3_endpoint: str, bucket: str
    ) -> None:
        settings = settings_with(
            tmp_path,
            database_url,
            redis_url,
            s3_bucket=bucket,
            s3_endpoint_url=s3_endpoint,
            s3_access_key_id="test",
            s3_secret_access_key="test",
        )
        async for client in client_for(settings):
            body = (await client.get("/healthz")).json()
            assert body["checks"]["object_store"]["status"] == "down"
            assert bucket in body["checks"]["object_store"]["error"]
