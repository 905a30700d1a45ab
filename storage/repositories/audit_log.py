"""The audit log: append-only, readable per workspace with filters."""

from __future__ import annotations

import uuid
from typing import Any

from storage.models import AuditLogEntry
from storage.repositories.base import Page, ScopedRepository


class AuditLogRepository(ScopedRepository[AuditLogEntry]):
    model = AuditLogEntry
    noun = "audit log entry"

    async def record(
        self,
        *,
        actor_user_id: uuid.UUID | None,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID | None = None,
        data: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> AuditLogEntry:
        return await self.create(
            actor_user_id=actor_user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            data=data or {},
            request_id=request_id,
        )

    async def search(
        self,
        *,
        entity_type: str | None = None,
        entity_id: uuid.UUID | None = None,
        actor_user_id: uuid.UUID | None = None,
        limit: int = 50,
        cursor: str | None = None,
        action: str | None = None,
    ) -> Page[AuditLogEntry]:
        """Entries newest first, filtered by entity, actor and action (``campaign.create``)."""
        where = []
        if entity_type is not None:
            where.append(AuditLogEntry.entity_type == entity_type)
        if entity_id is not None:
            where.append(AuditLogEntry.entity_id == entity_id)
        if actor_user_id is not None:
            where.append(AuditLogEntry.actor_user_id == actor_user_id)
        if action is not None:
            where.append(AuditLogEntry.action == action)
        return await self.list(where=where, limit=limit, cursor=cursor)
