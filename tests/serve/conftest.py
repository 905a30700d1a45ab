"""One Ray instance and one Serve deployment for the whole test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from core.settings import Settings
from scraping.fixture import FixtureGraph, FixtureSite
from serve.app import build_app
from storage.events import EventBus, EventSubscription
from storage.redis_client import create_redis
from tests.conftest import free_port


@pytest.fixture(scope="session")
async def soundcloud_site() -> AsyncIterator[FixtureSite]:
    """The SoundCloud-shaped fixture site the app's discovery jobs walk (2,000 artists)."""
    async with FixtureSite(FixtureGraph(artists=2000, seed=11)) as site:
        yield site


def fixture_site_settings(site: FixtureSite) -> dict[str, object]:
    """Settings that point discovery at a fixture site, unpaced."""
    return {
        "soundcloud_web_url": site.web_url,
        "soundcloud_api_url": site.api_url,
        "soundcloud_link_in_bio_hosts": urlsplit(site.links_url).netloc,
        "soundcloud_requests_per_second": 0,
        "link_in_bio_requests_per_second": 0,
    }


@pytest.fixture(scope="session")
def app_settings(
    database_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    soundcloud_site: FixtureSite,
) -> Settings:
    return Settings(
        **fixture_site_settings(soundcloud_site),  # type: ignore[arg-type]
        data_dir=tmp_path_factory.mktemp("app-data"),
        database_url=database_url,
        redis_url=redis_url,
        serve_replica_cpus=0.25,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        login_attempts_per_ip=100_000,
        login_attempts_per_account=5,
        registrations_per_ip=100_000,
        # Far above what a hostile template's memory bound takes on a loaded machine, so the
        # bound a test expects is the one met first.
        template_render_seconds=5,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    import ray

    from serve.runner import RAY_PROXY_ENVIRONMENT, local_ray_on_loopback

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.update(RAY_PROXY_ENVIRONMENT)  # as `campaign-manager serve` starts Ray
    local_ray_on_loopback()
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


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app built for ``settings``, its lifespan entered (pools, renderers) and left."""
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI, *, timeout: float = 30) -> httpx.AsyncClient:
    """An in-process client of ``app``; requests come from 127.0.0.1 like the Serve proxy's."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=timeout)


@pytest.fixture(scope="session")
async def local_app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    """The same app in this process, without Ray (fast; for what does not need Serve)."""
    async with running_app(app_settings) as app:
        yield app


@pytest.fixture
async def local_api(local_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of :func:`local_app`."""
    async with client_of(local_app) as client:
        yield client


@dataclass
class Account:
    """A registered user acting in their own new workspace."""

    email: str
    password: str
    user_id: str
    workspace_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(api: httpx.AsyncClient, *, name: str = "Mia") -> Account:
    email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@label.example"
    password = "correct horse battery"
    response = await api.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "display_name": name},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(
        email=email,
        password=password,
        user_id=body["user"]["id"],
        workspace_id=body["workspace"]["id"],
        access_token=body["tokens"]["access_token"],
        refresh_token=body["tokens"]["refresh_token"],
    )


async def join(api: httpx.AsyncClient, owner: Account, role: str, *, name: str = "Sam") -> Account:
    """A new user who accepted ``owner``'s invitation with ``role``, acting in that workspace."""
    member = await register(api, name=name)
    invitation = await api.post(
        "/api/v1/invitations", json={"email": member.email, "role": role}, headers=owner.headers
    )
    assert invitation.status_code == 201, invitation.text
    accepted = await api.post(
        "/api/v1/invitations/accept",
        json={"token": invitation.json()["token"]},
        headers=member.headers,
    )
    assert accepted.status_code == 200, accepted.text
    switched = await api.post(
        "/api/v1/auth/switch", json={"workspace_id": owner.workspace_id}, headers=member.headers
    )
    assert switched.status_code == 200, switched.text
    tokens = switched.json()
    member.workspace_id = owner.workspace_id
    member.access_token = tokens["access_token"]
    member.refresh_token = tokens["refresh_token"]
    return member


@pytest.fixture
async def owner(api: httpx.AsyncClient) -> Account:
    return await register(api)


@pytest.fixture
async def stranger(api: httpx.AsyncClient) -> Account:
    """Someone in another workspace, who must never see the owner's data."""
    return await register(api, name="Stranger")


def fields_of(response: httpx.Response) -> set[str]:
    """The fields a 422 problem names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {error["field"] for error in response.json()["errors"]}


@asynccontextmanager
async def workspace_events(redis_url: str, account: Account) -> AsyncIterator[EventSubscription]:
    """The account's workspace events as a replica receives them, on a Redis client of its own."""
    redis = create_redis(redis_url)
    try:
        async with EventBus(redis).subscribe(uuid.UUID(account.workspace_id)) as events:
            yield events
    finally:
        await redis.aclose()
