"""The API tests' clients and accounts (the Ray cluster and Serve deployment are in
tests/conftest.py, shared with the browser tests)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from core.settings import Settings
from serve.app import build_app
from storage.events import EventBus, EventSubscription
from storage.redis_client import create_redis


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
