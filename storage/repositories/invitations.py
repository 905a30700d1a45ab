"""Invitations to join a workspace. The secret token is stored only as its hash."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import normalize_email
from core.enums import Role
from core.errors import Conflict, NotFound
from storage.models import Invitation
from storage.repositories.base import ScopedRepository, write_guard

INVITATION_TTL = timedelta(days=7)


class InvitationRepository(ScopedRepository[Invitation]):
    model = Invitation
    noun = "invitation"

    async def invite(
        self, *, email: str, role: Role, token_hash: str, invited_by: uuid.UUID | None
    ) -> Invitation:
        return await self.create(
            email=normalize_email(email),
            role=role,
            token_hash=token_hash,
            invited_by=invited_by,
            expires_at=datetime.now(UTC) + INVITATION_TTL,
        )


class InvitationLookup:
    """Finds an invitation by its token across workspaces: the invitee is not a member yet."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, token_hash: str, email: str) -> Invitation:
        """Mark the invitation for ``email`` accepted, once, before it expires."""
        invitation = await self.session.scalar(
            select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()
        )
        if invitation is None or invitation.email != email.strip().lower():
            raise NotFound("invitation not found")
        if invitation.accepted_at is not None:
            raise Conflict("invitation already accepted")
        if invitation.expires_at <= datetime.now(UTC):
            raise Conflict("invitation expired")
        async with write_guard(self.session, "invitation"):
            invitation.accepted_at = datetime.now(UTC)
        return invitation
