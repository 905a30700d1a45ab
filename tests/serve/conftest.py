"""One Ray instance and one Serve deployment for the whole test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.conftest import free_port


@pytest.fixture(scope="session")
def app_settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("app-data"),
        database_url=database_url,
        redis_url=redis_url,
        serve_replica_cpus=0.25,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=128 * 1024 * 1024,
        log_to_driver=False,
        namespace="campaign-manager-tests",
    )
    yield
    from ray import serve as ray_serve

    ray_serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="session")
def served_url(ray_cluster: None, app_settings: Settings) -> Iterator[str]:
    """Base URL of the API running on Ray Serve (Serve's HTTP proxy on a free loopback port)."""
    from ray import serve as ray_serve

    from serve.deployment import APP_NAME, build_application

    port = free_port()
    ray_serve.start(http_options={"host": "127.0.0.1", "port": port})
    ray_serve.run(build_application(app_settings), name=APP_NAME, route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    ray_serve.delete(APP_NAME)


@pytest.fixture
async def api(served_url: str) -> Iterator[httpx.AsyncClient]:  # type: ignore[misc]
    async with httpx.AsyncClient(base_url=served_url, timeout=30) as client:
        yield client


def data_dir_of(settings: Settings) -> Path:
    return settings.data_dir
