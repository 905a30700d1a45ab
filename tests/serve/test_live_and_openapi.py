"""The workspace WebSocket relays another client's writes; the OpenAPI document is complete;
every write leaves an audit row."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.serve.conftest import Account, join


def ws_url(api: httpx.AsyncClient, account: Account) -> str:
    base = str(api.base_url).replace("http://", "ws://").rstrip("/")
    return f"{base}/api/v1/ws?token={account.access_token}"


async def next_event(socket: websockets.ClientConnection, event_type: str) -> dict[str, object]:
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
        if event.get("type") == event_type:
            return event  # type: ignore[no-any-return]


class TestLiveEvents:
    async def test_a_member_sees_another_members_write(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        editor = await join(api, owner, "editor")
        async with websockets.connect(ws_url(api, owner)) as socket:
            ready = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
            assert ready == {"type": "ready", "workspace_id": owner.workspace_id}
            created = await api.post(
                "/api/v1/campaigns", json={"name": "Live one"}, headers=editor.headers
            )
            event = await next_event(socket, "campaign.create")
        assert event["entity_id"] == created.json()["id"]
        assert event["actor_id"] == editor.user_id
        assert event["data"] == {"name": "Live one"}

    async def test_events_of_another_workspace_never_arrive(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        async with websockets.connect(ws_url(api, owner)) as socket:
            await asyncio.wait_for(socket.recv(), timeout=15)
            await api.post(
                "/api/v1/campaigns", json={"name": "Not yours"}, headers=stranger.headers
            )
            await api.post("/api/v1/campaigns", json={"name": "Yours"}, headers=owner.headers)
            event = await next_event(socket, "campaign.create")
        assert event["data"] == {"name": "Yours"}

    async def test_a_removed_member_is_disconnected_with_a_reason_through_serves_proxy(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        viewer = await join(api, owner, "viewer")
        members = (await api.get("/api/v1/members", headers=owner.headers)).json()["items"]
        [membership] = [m for m in members if m["user_id"] == viewer.user_id]
        async with websockets.connect(ws_url(api, viewer)) as socket:
            await asyncio.wait_for(socket.recv(), timeout=15)
            await api.delete(f"/api/v1/members/{membership['id']}", headers=owner.headers)
            with pytest.raises(websockets.ConnectionClosed):
                await next_event(socket, "never relayed")
        assert (socket.close_code, socket.close_reason) == (
            4403,
            "no longer a member of this workspace",
        )

    async def test_a_bad_token_is_refused(self, api: httpx.AsyncClient) -> None:
        base = str(api.base_url).replace("http://", "ws://").rstrip("/")
        with pytest.raises(websockets.exceptions.WebSocketException):
            async with websockets.connect(f"{base}/api/v1/ws?token=garbage") as socket:
                await asyncio.wait_for(socket.recv(), timeout=15)


class TestOpenApi:
    async def test_every_route_has_a_docstring_and_response_schema(
        self, api: httpx.AsyncClient
    ) -> None:
        spec = (await api.get("/api/openapi.json")).json()
        missing = []
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                if not operation.get("description"):
                    missing.append(f"{method.upper()} {path}: docstring")
                success = {k: v for k, v in operation["responses"].items() if k.startswith("2")}
                if not success:
                    missing.append(f"{method.upper()} {path}: success response")
                for code, response in success.items():
                    if code != "204" and not response.get("content"):
                        missing.append(f"{method.upper()} {path}: {code} schema")
                # A write takes a body, or acts on a path (/status) or on query filters (/export).
                if (
                    method in {"post", "put", "patch"}
                    and "requestBody" not in operation
                    and not any(
                        p.get("in") in {"path", "query"} for p in operation.get("parameters", [])
                    )
                ):
                    missing.append(f"{method.upper()} {path}: request body")
        assert missing == []

    async def test_the_main_resources_are_documented(self, api: httpx.AsyncClient) -> None:
        paths = set((await api.get("/api/openapi.json")).json()["paths"])
        assert {
            "/api/v1/auth/register",
            "/api/v1/auth/login",
            "/api/v1/auth/refresh",
            "/api/v1/me",
            "/api/v1/campaigns",
            "/api/v1/campaigns/{campaign_id}/artists",
        } <= paths


class TestAudit:
    async def test_writes_leave_audit_rows_with_the_actor(
        self, api: httpx.AsyncClient, owner: Account, engine: object
    ) -> None:
        from sqlalchemy import select

        from storage.database import create_sessionmaker
        from storage.models import AuditLogEntry

        created = (
            await api.post("/api/v1/campaigns", json={"name": "Audited"}, headers=owner.headers)
        ).json()
        await api.patch(
            f"/api/v1/campaigns/{created['id']}", json={"name": "Audited 2"}, headers=owner.headers
        )
        await api.delete(f"/api/v1/campaigns/{created['id']}", headers=owner.headers)
        async with create_sessionmaker(engine).begin() as session:  # type: ignore[arg-type]
            rows = (
                await session.scalars(
                    select(AuditLogEntry)
                    .where(AuditLogEntry.entity_id == created["id"])
                    .order_by(AuditLogEntry.id)
                )
            ).all()
        assert [(r.action, str(r.actor_user_id)) for r in rows] == [
            ("campaign.create", owner.user_id),
            ("campaign.update", owner.user_id),
            ("campaign.delete", owner.user_id),
        ]
