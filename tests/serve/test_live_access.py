"""The live socket ends when access ends: the access token expires, the member is removed or
leaves, or the membership disappears without any event; a member who still belongs keeps
receiving.

Sockets are served by a second app in this process (uvicorn) while writes go through
``local_api``, so each access change reaches the socket over Redis, as it does between Serve
replicas.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import Settings
from core.tokens import issue_access_token
from serve.app import build_app
from storage.database import create_sessionmaker
from storage.repositories.workspaces import MembershipRepository, WorkspaceRepository
from tests.conftest import free_port
from tests.serve.conftest import Account, join, register

# Generous: a closing socket closes in milliseconds; this only stops a broken test hanging.
CLOSE_WAIT_SECONDS = 20.0


@asynccontextmanager
async def serve_replica(settings: Settings) -> AsyncIterator[str]:
    """The app on a loopback port in this process; yields the socket's ``ws://`` URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(settings),
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            lifespan="on",
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    await task  # raises why it could not start
                await asyncio.sleep(0.05)
        yield f"ws://127.0.0.1:{port}/api/v1/ws"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


@pytest.fixture(scope="module")
async def replica(app_settings: Settings) -> AsyncIterator[str]:
    """A replica whose periodic re-check is far away, so only events can close its sockets."""
    async with serve_replica(app_settings.model_copy(update={"live_recheck_seconds": 600})) as url:
        yield url


@pytest.fixture(scope="module")
async def rechecking_replica(app_settings: Settings) -> AsyncIterator[str]:
    """A replica that re-reads each socket's membership every second."""
    async with serve_replica(app_settings.model_copy(update={"live_recheck_seconds": 1})) as url:
        yield url


@asynccontextmanager
async def live_socket(url: str, token: str) -> AsyncIterator[websockets.ClientConnection]:
    """An open socket past its ``ready`` message."""
    async with websockets.connect(f"{url}?token={token}") as socket:
        ready = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
        assert ready["type"] == "ready"
        yield socket


async def read_until_closed(
    socket: websockets.ClientConnection,
) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """Every event received until the server closed the socket, and the close code and reason."""
    events: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(CLOSE_WAIT_SECONDS):
            while True:
                events.append(json.loads(await socket.recv()))
    except websockets.ConnectionClosed:
        return events, socket.close_code, socket.close_reason
    except TimeoutError:
        raise AssertionError(f"the socket stayed open and received {events}") from None


async def next_event(socket: websockets.ClientConnection, event_type: str) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            event: dict[str, Any] = json.loads(await socket.recv())
            if event.get("type") == event_type:
                return event


async def membership_id(api: httpx.AsyncClient, owner: Account, member: Account) -> str:
    members = (await api.get("/api/v1/members", headers=owner.headers)).json()["items"]
    [membership] = [m for m in members if m["user_id"] == member.user_id]
    return str(membership["id"])


class TestARemovedMember:
    async def test_has_their_socket_closed_before_any_later_event(
        self, local_api: httpx.AsyncClient, replica: str
    ) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")
        async with live_socket(replica, viewer.access_token) as socket:
            removed = await local_api.delete(
                f"/api/v1/members/{await membership_id(local_api, owner, viewer)}",
                headers=owner.headers,
            )
            assert removed.status_code == 204, removed.text
            await local_api.post(
                "/api/v1/campaigns", json={"name": "After removal"}, headers=owner.headers
            )
            events, code, reason = await read_until_closed(socket)
        assert (code, reason) == (4403, "no longer a member of this workspace")
        assert "campaign.create" not in [event["type"] for event in events]


class TestAMemberWhoLeaves:
    async def test_has_their_socket_closed(
        self, local_api: httpx.AsyncClient, replica: str
    ) -> None:
        owner = await register(local_api)
        editor = await join(local_api, owner, "editor")
        async with live_socket(replica, editor.access_token) as socket:
            left = await local_api.delete("/api/v1/members/me", headers=editor.headers)
            assert left.status_code == 204, left.text
            _, code, _ = await read_until_closed(socket)
        assert code == 4403


class TestAMemberWhoStillBelongs:
    async def test_keeps_receiving_after_being_demoted_and_another_member_removed(
        self, local_api: httpx.AsyncClient, replica: str
    ) -> None:
        owner = await register(local_api)
        editor = await join(local_api, owner, "editor")
        other = await join(local_api, owner, "viewer", name="Other")
        async with live_socket(replica, editor.access_token) as socket:
            demoted = await local_api.patch(
                f"/api/v1/members/{await membership_id(local_api, owner, editor)}",
                json={"role": "viewer"},
                headers=owner.headers,
            )
            assert demoted.status_code == 200, demoted.text
            await local_api.delete(
                f"/api/v1/members/{await membership_id(local_api, owner, other)}",
                headers=owner.headers,
            )
            created = await local_api.post(
                "/api/v1/campaigns", json={"name": "Still yours"}, headers=owner.headers
            )
            event = await next_event(socket, "campaign.create")
        assert event["entity_id"] == created.json()["id"]


class TestAnExpiredToken:
    async def test_closes_the_socket_it_opened(
        self, local_api: httpx.AsyncClient, app_settings: Settings, replica: str
    ) -> None:
        owner = await register(local_api)
        assert app_settings.secret_key is not None
        # Shorter than any configurable TTL, so the test need not wait for one.
        token, _ = issue_access_token(
            app_settings.secret_key.get_secret_value(),
            user_id=uuid.UUID(owner.user_id),
            workspace_id=uuid.UUID(owner.workspace_id),
            ttl_seconds=3,
        )
        async with live_socket(replica, token) as socket:
            _, code, reason = await read_until_closed(socket)
        assert (code, reason) == (4401, "access token expired")


class TestAccessEndedWithoutAnEvent:
    async def test_a_membership_deleted_in_the_database_closes_the_socket(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine, rechecking_replica: str
    ) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")
        async with live_socket(rechecking_replica, viewer.access_token) as socket:
            async with create_sessionmaker(engine).begin() as session:
                await MembershipRepository(session, uuid.UUID(owner.workspace_id)).remove(
                    uuid.UUID(await membership_id(local_api, owner, viewer))
                )
            _, code, _ = await read_until_closed(socket)
        assert code == 4403

    async def test_a_deleted_workspace_closes_the_socket(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine, rechecking_replica: str
    ) -> None:
        owner = await register(local_api)
        async with live_socket(rechecking_replica, owner.access_token) as socket:
            async with create_sessionmaker(engine).begin() as session:
                await WorkspaceRepository(session).delete(uuid.UUID(owner.workspace_id))
            _, code, _ = await read_until_closed(socket)
        assert code == 4403
