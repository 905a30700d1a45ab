"""Refresh tokens, stored only as hashes. A rotation chain shares a family; presenting a token
that was already used revokes the whole family (the token was stolen or replayed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import new_id
from storage.models import RefreshToken
from storage.repositories.base import write_guard


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self,
        *,
        user_id: uuid.UUID,
        workspace_id: uuid.UUID | None = None,
        token_hash: str,
        expires_at: datetime,
        family_id: uuid.UUID | None = None,
    ) -> RefreshToken:
        token = RefreshToken(
            user_id=user_id,
            workspace_id=workspace_id,
            token_hash=token_hash,
            expires_at=expires_at,
            family_id=family_id or new_id(),
        )
        async with write_guard(self.session, "refresh token"):
            self.session.add(token)
        return token

    async def find_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def mark_used(self, token: RefreshToken) -> None:
        token.used_at = datetime.now(UTC)
        await self.session.flush()

    async def revoke_family(self, family_id: uuid.UUID) -> int:
        return await self._revoke(RefreshToken.family_id == family_id)

    async def revoke_all_for_user(self, user_id: uuid.UUID) -> int:
        return await self._revoke(RefreshToken.user_id == user_id)

    async def revoke_for_membership(self, user_id: uuid.UUID, workspace_id: uuid.UUID) -> int:
        """Revoke ``user_id``'s tokens that act in ``workspace_id`` (they left or were removed);
        their tokens for other workspaces keep working."""
        return await self._revoke(
            RefreshToken.user_id == user_id, RefreshToken.workspace_id == workspace_id
        )

    async def _revoke(self, *conditions: ColumnElement[bool]) -> int:
        result = await self.session.execute(
            update(RefreshToken)
            .where(*conditions, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
            .returning(RefreshToken.id)
        )
        return len(result.all())
