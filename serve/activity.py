"""Every write leaves an audit row in the same transaction; after commit it is published to the
workspace's live event stream and the cached reads it affects are invalidated."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from serve.resources import Resources
from serve.security import Principal
from storage.events import EventBus
from storage.read_versions import bump_versions
from storage.repositories.audit_log import AuditLogRepository

log = logging.getLogger(__name__)


class Activity:
    def __init__(
        self,
        session: AsyncSession,
        resources: Resources,
        principal: Principal,
        *,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.resources = resources
        self.principal = principal
        self.request_id = request_id
        self._events: list[dict[str, Any]] = []
        self._entity_types: set[str] = set()

    async def record(
        self,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Log ``action`` (``campaign.create``) on an entity; also invalidates its cached reads."""
        await AuditLogRepository(self.session, self.principal.workspace_id).record(
            actor_user_id=self.principal.user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            data=data or {},
            request_id=self.request_id,
        )
        self._events.append(
            {
                "type": action,
                "entity_type": entity_type,
                "entity_id": str(entity_id) if entity_id else None,
                "actor_id": str(self.principal.user_id),
                "data": data or {},
            }
        )
        self._entity_types.add(entity_type)

    def invalidate(self, *entity_types: str) -> None:
        """Also make cached reads of these entity types stale (a write with side effects)."""
        self._entity_types.update(entity_types)

    async def after_commit(self) -> None:
        """Invalidate, then publish. Best effort: the data is committed whatever Redis does."""
        try:
            await bump_versions(
                self.resources.redis, self.principal.workspace_id, self._entity_types
            )
            bus = EventBus(self.resources.redis)
            for event in self._events:
                await bus.publish(self.principal.workspace_id, event)
        except Exception:
            log.exception("publishing activity of request %s failed", self.request_id)
