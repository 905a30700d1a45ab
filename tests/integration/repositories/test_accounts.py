"""Users, workspaces, memberships, refresh tokens and per-user settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Role
from core.errors import Conflict, InvalidInput, NotFound
from storage.repositories.audit_log import AuditLogRepository
from storage.repositories.refresh_tokens import RefreshTokenRepository
from storage.repositories.user_settings import UserSettingRepository
from storage.repositories.users import UserRepository
from storage.repositories.workspaces import MembershipRepository, WorkspaceRepository
from tests.factories import make_user, make_workspace


class TestUsers:
    async def test_a_user_is_found_by_email_whatever_its_case(self, session: AsyncSession) -> None:
        user = await UserRepository(session).create(email="  Mia@Label.Example ", password_hash="h")
        assert user.email == "mia@label.example"
        found = await UserRepository(session).find_by_email("MIA@label.example")
        assert found is not None and found.id == user.id

    async def test_two_users_cannot_share_an_email(self, session: AsyncSession) -> None:
        await UserRepository(session).create(email="dup@label.example", password_hash="h")
        with pytest.raises(Conflict, match="already exists"):
            await UserRepository(session).create(email="DUP@label.example", password_hash="h")

    async def test_a_malformed_email_is_refused_naming_the_field(
        self, session: AsyncSession
    ) -> None:
        with pytest.raises(InvalidInput) as error:
            await UserRepository(session).create(email="not-an-address", password_hash="h")
        assert error.value.problems[0].field == "email"

    async def test_update_and_delete(self, session: AsyncSession) -> None:
        repo = UserRepository(session)
        user = await make_user(session)
        assert (await repo.update(user.id, {"display_name": "Mia"})).display_name == "Mia"
        await repo.delete(user.id)
        with pytest.raises(NotFound):
            await repo.get(user.id)


class TestWorkspaces:
    async def test_the_creator_becomes_the_owner(self, session: AsyncSession) -> None:
        user = await make_user(session)
        workspace = await WorkspaceRepository(session).create(
            name="Night Owl Records", owner_id=user.id
        )
        assert workspace.slug == "night-owl-records"
        assert await WorkspaceRepository(session).list_for_user(user.id) == [
            (workspace, Role.OWNER)
        ]

    async def test_a_taken_slug_gets_a_suffix(self, session: AsyncSession) -> None:
        first = await make_workspace(session, name="Same Name")
        second = await make_workspace(session, name="Same Name")
        assert first.slug != second.slug and second.slug.startswith("same-name-")

    async def test_only_members_can_open_a_workspace(self, session: AsyncSession) -> None:
        member, stranger = await make_user(session), await make_user(session)
        workspace = await make_workspace(session, owner=member)
        assert (
            await WorkspaceRepository(session).get_for_member(workspace.id, member.id)
        ).id == workspace.id
        with pytest.raises(NotFound):
            await WorkspaceRepository(session).get_for_member(workspace.id, stranger.id)

    async def test_rename_and_delete(self, session: AsyncSession) -> None:
        repo = WorkspaceRepository(session)
        owner = await make_user(session)
        workspace = await make_workspace(session, owner=owner)
        assert (await repo.rename(workspace.id, "Renamed")).name == "Renamed"
        await repo.delete(workspace.id)
        assert await repo.list_for_user(owner.id) == []


class TestMemberships:
    async def test_members_are_added_with_a_role_and_can_change_it(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        repo = MembershipRepository(session, workspace.id)
        editor = await make_user(session)
        membership = await repo.add(editor.id, Role.EDITOR)
        assert (await repo.find_for_user(editor.id)) is not None
        assert (await repo.change_role(membership.id, Role.ADMIN)).role is Role.ADMIN
        await repo.remove(membership.id)
        assert await repo.find_for_user(editor.id) is None

    async def test_a_user_is_a_member_only_once(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        user = await make_user(session)
        await MembershipRepository(session, workspace.id).add(user.id, Role.VIEWER)
        with pytest.raises(Conflict):
            await MembershipRepository(session, workspace.id).add(user.id, Role.EDITOR)

    async def test_the_last_owner_can_be_neither_demoted_nor_removed(
        self, session: AsyncSession
    ) -> None:
        owner = await make_user(session)
        workspace = await make_workspace(session, owner=owner)
        repo = MembershipRepository(session, workspace.id)
        only_owner = await repo.find_for_user(owner.id)
        assert only_owner is not None
        with pytest.raises(Conflict, match="at least one owner"):
            await repo.change_role(only_owner.id, Role.ADMIN)
        with pytest.raises(Conflict, match="at least one owner"):
            await repo.remove(only_owner.id)

        second = await repo.add((await make_user(session)).id, Role.OWNER)
        await repo.change_role(only_owner.id, Role.ADMIN)
        assert (await repo.get(second.id)).role is Role.OWNER


class TestRefreshTokens:
    async def test_reuse_revokes_the_whole_family(self, session: AsyncSession) -> None:
        user = await make_user(session)
        repo = RefreshTokenRepository(session)
        expires = datetime.now(UTC) + timedelta(days=30)
        first = await repo.issue(user_id=user.id, token_hash="hash-1", expires_at=expires)
        await repo.mark_used(first)
        second = await repo.issue(
            user_id=user.id, token_hash="hash-2", expires_at=expires, family_id=first.family_id
        )
        other_family = await repo.issue(user_id=user.id, token_hash="hash-3", expires_at=expires)

        assert await repo.revoke_family(first.family_id) == 2
        for token_hash, revoked in (("hash-1", True), ("hash-2", True), ("hash-3", False)):
            token = await repo.find_by_hash(token_hash)
            assert token is not None and (token.revoked_at is not None) is revoked
        assert second.family_id == first.family_id != other_family.family_id

    async def test_revoking_everything_for_a_user_spares_other_users(
        self, session: AsyncSession
    ) -> None:
        alice, bob = await make_user(session), await make_user(session)
        repo = RefreshTokenRepository(session)
        expires = datetime.now(UTC) + timedelta(days=1)
        await repo.issue(user_id=alice.id, token_hash=f"a-{uuid.uuid4()}", expires_at=expires)
        bobs = await repo.issue(user_id=bob.id, token_hash=f"b-{uuid.uuid4()}", expires_at=expires)
        assert await repo.revoke_all_for_user(alice.id) == 1
        assert (await repo.find_by_hash(bobs.token_hash)).revoked_at is None  # type: ignore[union-attr]

    async def test_an_unknown_hash_finds_nothing(self, session: AsyncSession) -> None:
        assert await RefreshTokenRepository(session).find_by_hash("nope") is None


class TestUserSettings:
    async def test_put_overwrites_and_settings_are_per_user_and_workspace(
        self, session: AsyncSession
    ) -> None:
        alice, bob = await make_user(session), await make_user(session)
        workspace = await make_workspace(session, owner=alice)
        other = await make_workspace(session, owner=alice)
        mine = UserSettingRepository(session, workspace.id, alice.id)
        await mine.put("theme", {"mode": "dark"})
        await mine.put("theme", {"mode": "light"})
        await mine.put("digest", {"weekly": True})
        assert await mine.all() == {"digest": {"weekly": True}, "theme": {"mode": "light"}}
        assert await UserSettingRepository(session, workspace.id, bob.id).all() == {}
        assert await UserSettingRepository(session, other.id, alice.id).all() == {}

    async def test_get_and_delete_of_a_missing_key_are_not_found(
        self, session: AsyncSession
    ) -> None:
        user = await make_user(session)
        workspace = await make_workspace(session, owner=user)
        repo = UserSettingRepository(session, workspace.id, user.id)
        await repo.put("theme", {"mode": "dark"})
        assert await repo.get("theme") == {"mode": "dark"}
        await repo.delete("theme")
        with pytest.raises(NotFound):
            await repo.get("theme")
        with pytest.raises(NotFound):
            await repo.delete("theme")


class TestAuditLog:
    async def test_entries_are_listed_newest_first_and_filtered(
        self, session: AsyncSession
    ) -> None:
        user = await make_user(session)
        workspace = await make_workspace(session, owner=user)
        repo = AuditLogRepository(session, workspace.id)
        campaign_id = uuid.uuid4()
        await repo.record(
            actor_user_id=user.id,
            action="campaign.create",
            entity_type="campaign",
            entity_id=campaign_id,
        )
        await repo.record(
            actor_user_id=user.id, action="template.create", entity_type="email_template"
        )
        await repo.record(
            actor_user_id=None,
            action="campaign.update",
            entity_type="campaign",
            entity_id=campaign_id,
            data={"name": "New"},
        )
        campaign_entries = await repo.search(entity_type="campaign")
        assert [e.action for e in campaign_entries.items] == ["campaign.update", "campaign.create"]
        assert [e.action for e in (await repo.search(actor_user_id=user.id)).items] == [
            "template.create",
            "campaign.create",
        ]
        assert campaign_entries.items[0].data == {"name": "New"}
