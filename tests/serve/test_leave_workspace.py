"""``DELETE /api/v1/members/me``: any member can leave the workspace they act in, except its last
owner; leaving (or being removed) also ends their refresh tokens there."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_sessionmaker
from storage.models import RefreshToken
from tests.serve.conftest import Account, join, register

LEAVE = "/api/v1/members/me"


async def live_refresh_tokens(engine: AsyncEngine, account: Account) -> int:
    """How many of the account's refresh tokens for the workspace it acts in still work."""
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(
            select(RefreshToken.id).where(
                RefreshToken.user_id == uuid.UUID(account.user_id),
                RefreshToken.workspace_id == uuid.UUID(account.workspace_id),
                RefreshToken.revoked_at.is_(None),
            )
        )
        return len(rows.all())


async def member_ids(api: httpx.AsyncClient, owner: Account) -> set[str]:
    response = await api.get("/api/v1/members", headers=owner.headers)
    assert response.status_code == 200, response.text
    return {member["user_id"] for member in response.json()["items"]}


class TestLeavingAWorkspace:
    async def test_a_member_who_leaves_is_gone_from_the_members_and_loses_access(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")

        left = await local_api.delete(LEAVE, headers=viewer.headers)

        assert left.status_code == 204, left.text
        assert viewer.user_id not in await member_ids(local_api, owner)
        denied = await local_api.get("/api/v1/campaigns", headers=viewer.headers)
        assert denied.status_code == 403

    async def test_leaving_revokes_the_refresh_tokens_for_that_workspace_only(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        editor = await join(local_api, owner, "editor")
        assert await live_refresh_tokens(engine, editor) == 1

        await local_api.delete(LEAVE, headers=editor.headers)

        assert await live_refresh_tokens(engine, editor) == 0
        refreshed = await local_api.post(
            "/api/v1/auth/refresh", json={"refresh_token": editor.refresh_token}
        )
        assert refreshed.status_code == 401
        # Their own workspace is untouched: they log in and act there.
        login = await local_api.post(
            "/api/v1/auth/login", json={"email": editor.email, "password": editor.password}
        )
        assert login.status_code == 200, login.text
        assert login.json()["workspace_id"] != owner.workspace_id

    async def test_the_audit_log_names_who_left(self, local_api: httpx.AsyncClient) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")

        await local_api.delete(LEAVE, headers=viewer.headers)

        response = await local_api.get(
            "/api/v1/audit-log", params={"action": "member.leave"}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        [entry] = response.json()["items"]
        assert entry["actor_user_id"] == viewer.user_id
        assert entry["data"] == {"user_id": viewer.user_id, "role": "viewer"}


class TestTheLastOwner:
    async def test_cannot_leave_and_is_told_to_hand_ownership_on(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        await join(local_api, owner, "admin")

        refused = await local_api.delete(LEAVE, headers=owner.headers)

        assert refused.status_code == 409, refused.text
        assert "last owner" in refused.json()["detail"]
        assert owner.user_id in await member_ids(local_api, owner)

    async def test_can_leave_once_another_member_is_owner(
        self, local_api: httpx.AsyncClient
    ) -> None:
        owner = await register(local_api)
        successor = await join(local_api, owner, "owner")

        left = await local_api.delete(LEAVE, headers=owner.headers)

        assert left.status_code == 204, left.text
        assert await member_ids(local_api, successor) == {successor.user_id}


class TestRemovingAMember:
    async def test_revokes_the_removed_members_refresh_tokens_for_that_workspace(
        self, local_api: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        owner = await register(local_api)
        viewer = await join(local_api, owner, "viewer")
        members = (await local_api.get("/api/v1/members", headers=owner.headers)).json()["items"]
        [membership] = [m for m in members if m["user_id"] == viewer.user_id]

        removed = await local_api.delete(
            f"/api/v1/members/{membership['id']}", headers=owner.headers
        )

        assert removed.status_code == 204, removed.text
        assert await live_refresh_tokens(engine, viewer) == 0
