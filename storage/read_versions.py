"""Version numbers that make cached reads stale: one per (workspace, entity type), and one for
the artist catalogue that all workspaces share.

Every committed write bumps the versions of what it changed; cached reads are stored under the
versions they were loaded at (``serve/reads.py``), so no stale read survives a write. Kept here,
below both the API and the actors, because both write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from redis.asyncio import Redis

_NAMESPACE = "cm:readver"
# Bumped after every committed catalogue write (API imports, discovery jobs).
CATALOGUE_VERSION_KEY = f"{_NAMESPACE}:catalogue"


def version_key(workspace_id: uuid.UUID, entity_type: str) -> str:
    return f"{_NAMESPACE}:{workspace_id}:{entity_type}"


async def bump_versions(redis: Redis, workspace_id: uuid.UUID, entity_types: Iterable[str]) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for entity_type in entity_types:
            pipe.incr(version_key(workspace_id, entity_type))
        await pipe.execute()


async def bump_catalogue_version(redis: Redis) -> None:
    await redis.incr(CATALOGUE_VERSION_KEY)
