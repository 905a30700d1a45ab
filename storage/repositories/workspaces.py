"""Workspaces and their members. A workspace always keeps at least one owner."""

from __future__ import annotations

import re
import secrets
import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import Role
from core.errors import Conflict, NotFound
from storage.models import Membership, Workspace
from storage.repositories.base import ScopedRepository, write_guard

_KEEP_AN_OWNER = "a workspace must keep at least one owner"


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return slug or "workspace"


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, *, name: str, owner_id: uuid.UUID) -> Workspace:
        """Create a workspace with ``owner_id`` as its owner; a taken slug gets a suffix (also
        when another transaction takes it between the check and the insert)."""
        base = slugify(name)
        slug = base
        if await self.session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
            slug = f"{base}-{secrets.token_hex(3)}"
        for attempt in range(3):
            workspace = Workspace(name=name, slug=slug)
            try:
                async with write_guard(self.session, "workspace"):
                    self.session.add(workspace)
                break
            except Conflict:
                if attempt == 2:
                    raise
                slug = f"{base}-{secrets.token_hex(3)}"
        async with write_guard(self.session, "membership"):
            self.session.add(
                Membership(workspace_id=workspace.id, user_id=owner_id, role=Role.OWNER)
            )
        return workspace

    async def get_by_slug(self, slug: str) -> Workspace:
        """The workspace with this slug (for the CLI, which acts with the operator's rights)."""
        workspace = await self.session.scalar(select(Workspace).where(Workspace.slug == slug))
        if workspace is None:
            raise NotFound(f"no workspace with slug {slug!r}")
        return workspace

    async def get_for_member(self, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Workspace:
        """The workspace, only if ``user_id`` is a member of it."""
        workspace = await self.session.scalar(
            select(Workspace)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Workspace.id == workspace_id, Membership.user_id == user_id)
        )
        if workspace is None:
            raise NotFound(f"workspace {workspace_id} not found")
        return workspace

    async def list_for_user(self, user_id: uuid.UUID) -> list[tuple[Workspace, Role]]:
        rows = await self.session.execute(
            select(Workspace, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Workspace.created_at, Workspace.id)
        )
        return [(workspace, role) for workspace, role in rows]

    async def rename(self, workspace_id: uuid.UUID, name: str) -> Workspace:
        workspace = await self.session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound(f"workspace {workspace_id} not found")
        async with write_guard(self.session, "workspace"):
            workspace.name = name
        return workspace

    async def delete(self, workspace_id: uuid.UUID) -> None:
        workspace = await self.session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound(f"workspace {workspace_id} not found")
        await self.session.delete(workspace)
        await self.session.flush()


class MembershipRepository(ScopedRepository[Membership]):
    model = Membership
    noun = "membership"

    def _scoped(self) -> Select[Membership]:
        # Members are shown by name and email: each read brings its user along.
        return super()._scoped().options(selectinload(Membership.user))

    async def add(self, user_id: uuid.UUID, role: Role) -> Membership:
        return await self.create(user_id=user_id, role=role)

    async def find_for_user(self, user_id: uuid.UUID) -> Membership | None:
        membership: Membership | None = await self.session.scalar(
            self._scoped().where(Membership.user_id == user_id)
        )
        return membership

    async def change_role(self, membership_id: uuid.UUID, role: Role) -> Membership:
        membership = await self.get(membership_id)
        if membership.role is Role.OWNER and role is not Role.OWNER:
            await self._keep_an_owner()
        return await self.update(membership_id, {"role": role})

    async def remove(self, membership_id: uuid.UUID) -> None:
        await self._end(await self.get(membership_id), _KEEP_AN_OWNER)

    async def leave(self, user_id: uuid.UUID) -> Membership:
        """End ``user_id``'s own membership and return it; the last owner must first make
        another member owner (``Conflict``)."""
        membership = await self.find_for_user(user_id)
        if membership is None:
            raise NotFound("you are not a member of this workspace")
        await self._end(
            membership,
            "you are the last owner of this workspace: make another member owner before leaving",
        )
        return membership

    async def _end(self, membership: Membership, last_owner_detail: str) -> None:
        if membership.role is Role.OWNER:
            await self._keep_an_owner(last_owner_detail)
        await self.delete(membership.id)

    async def _keep_an_owner(self, detail: str = _KEEP_AN_OWNER) -> None:
        # Lock the owner rows so two concurrent demotions cannot both see "another owner left".
        owners = await self.session.scalars(
            select(Membership.id)
            .where(Membership.workspace_id == self.workspace_id, Membership.role == Role.OWNER)
            .with_for_update()
        )
        if len(owners.all()) <= 1:
            raise Conflict(detail)
