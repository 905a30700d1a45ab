"""Accounts over real HTTP on Ray Serve: register, login, refresh rotation, reuse detection,
logout, switching workspaces, members and invitations."""

from __future__ import annotations

import asyncio

import httpx

from tests.serve.conftest import Account, join, register


async def login(
    api: httpx.AsyncClient, account: Account, password: str | None = None
) -> httpx.Response:
    return await api.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": password or account.password},
    )


class TestRegister:
    async def test_registering_makes_an_owner_of_a_new_workspace(
        self, api: httpx.AsyncClient
    ) -> None:
        account = await register(api, name="Nova")
        me = (await api.get("/api/v1/me", headers=account.headers)).json()
        assert me["user"]["email"] == account.email
        assert me["role"] == "owner"
        assert [w["id"] for w in me["workspaces"]] == [account.workspace_id]
        assert me["workspaces"][0]["name"] == "Nova's workspace"

    async def test_simultaneous_registrations_with_one_name_all_succeed(
        self, api: httpx.AsyncClient
    ) -> None:
        accounts = await asyncio.gather(*(register(api, name="Twin") for _ in range(4)))
        assert len({a.workspace_id for a in accounts}) == 4

    async def test_an_email_registers_once(self, api: httpx.AsyncClient, owner: Account) -> None:
        again = await api.post(
            "/api/v1/auth/register",
            json={"email": owner.email.upper(), "password": "another password"},
        )
        assert again.status_code == 409

    async def test_bad_fields_are_named(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/api/v1/auth/register", json={"email": "not-an-email", "password": "short"}
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"password"}
        bad_email = await api.post(
            "/api/v1/auth/register", json={"email": "not-an-email", "password": "long enough"}
        )
        assert bad_email.status_code == 422
        assert [e["field"] for e in bad_email.json()["errors"]] == ["email"]

    async def test_a_password_is_never_returned(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/api/v1/auth/register",
            json={"email": "secretive@label.example", "password": "correct horse"},
        )
        assert "correct horse" not in response.text
        assert "password" not in response.text


class TestLogin:
    async def test_the_right_password_gives_working_tokens(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await login(api, owner)
        assert response.status_code == 200
        tokens = response.json()
        assert tokens["token_type"] == "bearer"
        assert tokens["workspace_id"] == owner.workspace_id
        me = await api.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200

    async def test_a_wrong_password_and_an_unknown_email_look_the_same(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        wrong = await login(api, owner, password="wrong password")
        unknown = await api.post(
            "/api/v1/auth/login", json={"email": "nobody@label.example", "password": "whatever1"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]

    async def test_a_forged_or_garbled_token_is_401(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        header, payload, _ = owner.access_token.split(".")
        for token in ("nonsense", f"{header}.{payload}.forged-signature", "a.b.c"):
            response = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401

    async def test_repeated_failures_on_one_account_are_429_with_retry_after(
        self, api: httpx.AsyncClient
    ) -> None:
        account = await register(api, name="Locked")
        statuses = [
            (await login(api, account, password="wrong password")).status_code for _ in range(5)
        ]
        assert statuses == [401] * 5
        blocked = await login(api, account)  # even the right password waits now
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert blocked.json()["type"] == "/problems/rate-limited"


class TestRefresh:
    async def test_a_refresh_token_rotates_and_works_once(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        first = await api.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
        assert first.status_code == 200
        rotated = first.json()
        assert rotated["refresh_token"] != owner.refresh_token
        second = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
        )
        assert second.status_code == 200

    async def test_reusing_a_spent_token_revokes_the_whole_family(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        rotated = (
            await api.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
        ).json()
        replay = await api.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
        assert replay.status_code == 401
        assert "already used" in replay.json()["detail"]
        # The legitimate holder's newer token died with the family.
        after = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
        )
        assert after.status_code == 401

    async def test_logout_revokes_the_refresh_token(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        assert (
            await api.post("/api/v1/auth/logout", json={"refresh_token": owner.refresh_token})
        ).status_code == 204
        refused = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token}
        )
        assert refused.status_code == 401

    async def test_an_unknown_refresh_token_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
        assert response.status_code == 401


class TestWorkspacesAndMembers:
    async def test_switching_needs_membership(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        refused = await api.post(
            "/api/v1/auth/switch",
            json={"workspace_id": stranger.workspace_id},
            headers=owner.headers,
        )
        assert refused.status_code == 404
        created = await api.post(
            "/api/v1/workspaces", json={"name": "Second label"}, headers=owner.headers
        )
        assert created.status_code == 201
        switched = await api.post(
            "/api/v1/auth/switch",
            json={"workspace_id": created.json()["id"]},
            headers=owner.headers,
        )
        assert switched.status_code == 200
        headers = {"Authorization": f"Bearer {switched.json()['access_token']}"}
        me = (await api.get("/api/v1/me", headers=headers)).json()
        assert (me["workspace_id"], me["role"]) == (created.json()["id"], "owner")

    async def test_an_invited_editor_joins_with_that_role(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        editor = await join(api, owner, "editor")
        me = (await api.get("/api/v1/me", headers=editor.headers)).json()
        assert (me["workspace_id"], me["role"]) == (owner.workspace_id, "editor")
        members = (await api.get("/api/v1/members", headers=owner.headers)).json()["items"]
        assert {m["role"] for m in members} == {"owner", "editor"}

    async def test_an_invitation_works_once_and_only_for_its_email(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        invitee, other = await register(api, name="Invitee"), await register(api, name="Other")
        token = (
            await api.post(
                "/api/v1/invitations",
                json={"email": invitee.email, "role": "viewer"},
                headers=owner.headers,
            )
        ).json()["token"]
        wrong_person = await api.post(
            "/api/v1/invitations/accept", json={"token": token}, headers=other.headers
        )
        assert wrong_person.status_code == 404
        assert (
            await api.post(
                "/api/v1/invitations/accept", json={"token": token}, headers=invitee.headers
            )
        ).status_code == 200
        again = await api.post(
            "/api/v1/invitations/accept", json={"token": token}, headers=invitee.headers
        )
        assert again.status_code == 409

    async def test_only_owners_and_admins_manage_members(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        editor = await join(api, owner, "editor")
        admin = await join(api, owner, "admin", name="Ada")
        invite = await api.post(
            "/api/v1/invitations", json={"email": "x@label.example"}, headers=editor.headers
        )
        assert invite.status_code == 403
        members = (await api.get("/api/v1/members", headers=owner.headers)).json()["items"]
        editor_member = next(m for m in members if m["user_id"] == editor.user_id)
        owner_member = next(m for m in members if m["user_id"] == owner.user_id)
        demote = await api.patch(
            f"/api/v1/members/{editor_member['id']}", json={"role": "viewer"}, headers=admin.headers
        )
        assert demote.json()["role"] == "viewer"
        # An admin cannot touch the owner; the demoted editor now reads but cannot write.
        assert (
            await api.delete(f"/api/v1/members/{owner_member['id']}", headers=admin.headers)
        ).status_code == 403
        write = await api.post("/api/v1/campaigns", json={"name": "x"}, headers=editor.headers)
        assert write.status_code == 403

    async def test_a_removed_member_loses_access_at_once(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        editor = await join(api, owner, "editor")
        members = (await api.get("/api/v1/members", headers=owner.headers)).json()["items"]
        member_id = next(m["id"] for m in members if m["user_id"] == editor.user_id)
        assert (
            await api.delete(f"/api/v1/members/{member_id}", headers=owner.headers)
        ).status_code == 204
        assert (await api.get("/api/v1/campaigns", headers=editor.headers)).status_code == 403
        refresh = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": editor.refresh_token}
        )
        assert refresh.status_code == 401

    async def test_the_last_owner_cannot_leave(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        members = (await api.get("/api/v1/members", headers=owner.headers)).json()["items"]
        response = await api.delete(f"/api/v1/members/{members[0]['id']}", headers=owner.headers)
        assert response.status_code == 409

    async def test_members_of_another_workspace_are_invisible(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        theirs = (await api.get("/api/v1/members", headers=stranger.headers)).json()["items"]
        response = await api.patch(
            f"/api/v1/members/{theirs[0]['id']}", json={"role": "viewer"}, headers=owner.headers
        )
        assert response.status_code == 404
