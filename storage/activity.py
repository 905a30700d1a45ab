"""What happened: the side effects every write has, in one place for the API and the actors.

A write leaves an audit row in the writer's own transaction, so the row exists exactly when the
write does. Once that transaction has committed, the write is published on the workspace's live
channel and the cached reads it affects are made stale (``storage/read_versions.py``). That part
is best effort: the data is committed whatever Redis does, so a failure is logged, not raised.
Nothing is published for a transaction that rolled back: the edge that owns the transaction calls
:meth:`Activity.after_commit` only once it has committed (or uses :meth:`Activity.transaction`).

Kept below actors and serve (it knows a session, a Redis client and ids, not requests or
principals) so that a route and an actor step record a write the same way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.events import EventBus
from storage.read_versions import bump_catalogue_version, bump_versions
from storage.repositories.audit_log import AuditLogRepository

log = logging.getLogger(__name__)

ActorKind = Literal["user", "system"]


class Activity:
    """The write log of one transaction, for one workspace and one actor.

    The actor is a user (``user_id``) or a part of the system acting on its own (``system``, a
    label such as ``"discovery"``), never both. A system write's audit row has no user and keeps
    the label in its data (``{"system": "discovery"}``); its events say ``"actor": "system"``.

    Args:
        session: the writer's session; audit rows join its transaction.
        redis: where events are published and read versions bumped after commit.
        workspace_id: the workspace written to.
        user_id: the user who wrote, or ``None`` for the system.
        system: the system part that wrote, when no user did.
        request_id: the request's id, kept on audit rows.
    """

    def __init__(
        self,
        session: AsyncSession,
        redis: Redis,
        workspace_id: uuid.UUID,
        *,
        user_id: uuid.UUID | None = None,
        system: str | None = None,
        request_id: str | None = None,
    ) -> None:
        if (user_id is None) == (system is None):
            raise ValueError("an activity is either a user's (user_id) or the system's (system)")
        self.session = session
        self.redis = redis
        self.workspace_id = workspace_id
        self.user_id = user_id
        self.system = system
        self.request_id = request_id
        self._events: list[tuple[uuid.UUID, dict[str, Any]]] = []
        self._stale: dict[uuid.UUID, set[str]] = {}
        self._catalogue_stale = False

    @classmethod
    @asynccontextmanager
    async def transaction(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        workspace_id: uuid.UUID,
        *,
        user_id: uuid.UUID | None = None,
        system: str | None = None,
    ) -> AsyncIterator[Activity]:
        """One transaction of an actor step: committed when the block ends, then published.
        A block that raises rolls back and publishes nothing."""
        async with sessions.begin() as session:
            activity = cls(session, redis, workspace_id, user_id=user_id, system=system)
            yield activity
        await activity.after_commit()

    @property
    def actor(self) -> ActorKind:
        return "user" if self.user_id is not None else "system"

    async def record(
        self,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID | None = None,
        data: dict[str, Any] | None = None,
        *,
        workspace_id: uuid.UUID | None = None,
    ) -> None:
        """Log ``action`` (``campaign.create``) on an entity: an audit row now, an event and its
        cached reads made stale after commit.

        ``workspace_id`` names another workspace than the activity's, for the one write that
        lands outside it (joining a workspace from another one's session).
        """
        workspace_id = workspace_id or self.workspace_id
        data = data or {}
        audit_data = data if self.system is None else {**data, "system": self.system}
        await AuditLogRepository(self.session, workspace_id).record(
            actor_user_id=self.user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            data=audit_data,
            request_id=self.request_id,
        )
        self._queue(workspace_id, action, entity_type, entity_id, data)

    def announce(
        self,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """An event and stale cached reads after commit, without an audit row: for steps whose
        record is the entity's own row (a job's progress), which would flood the audit log."""
        self._queue(self.workspace_id, action, entity_type, entity_id, data or {})

    def invalidate(self, *entity_types: str) -> None:
        """Also make cached reads of these entity types stale (a write with side effects)."""
        self._stale.setdefault(self.workspace_id, set()).update(entity_types)

    def invalidate_catalogue(self) -> None:
        """Also make cached reads of the shared artist catalogue stale, in every workspace."""
        self._catalogue_stale = True

    def _queue(
        self,
        workspace_id: uuid.UUID,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID | None,
        data: dict[str, Any],
    ) -> None:
        event: dict[str, Any] = {
            "type": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id) if entity_id else None,
            "actor_id": str(self.user_id) if self.user_id else None,
            "actor": self.actor,
            "data": data,
        }
        if self.system is not None:
            event["system"] = self.system
        self._events.append((workspace_id, event))
        self._stale.setdefault(workspace_id, set()).add(entity_type)

    async def after_commit(self) -> None:
        """Make stale, then publish (a client told of a write must not read the old data back).
        Call it once the transaction has committed; what it sends is sent once. Best effort:
        Redis failures are logged, the write stands."""
        events, self._events = self._events, []
        stale, self._stale = self._stale, {}
        catalogue, self._catalogue_stale = self._catalogue_stale, False
        try:
            if catalogue:
                await bump_catalogue_version(self.redis)
            for workspace_id, entity_types in stale.items():
                await bump_versions(self.redis, workspace_id, entity_types)
            bus = EventBus(self.redis)
            for workspace_id, event in events:
                await bus.publish(workspace_id, event)
        except Exception:
            log.exception(
                "publishing the activity of %s failed (request %s)",
                self.system or f"user {self.user_id}",
                self.request_id,
            )
