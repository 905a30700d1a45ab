"""Hot reads cached in Redis per workspace and entity type, made stale by the writes that
``Activity`` records.

Keys carry a version number per (workspace, entity type) that every committed write bumps.
A reader that loaded old rows just before a write committed stores them under the old version,
which no later reader asks for: no stale read survives a write, without locks.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redis.asyncio import Redis

from serve.resources import Resources
from serve.security import Principal
from storage.cache import Cache

READ_CACHE_TTL_SECONDS = 60.0
_NAMESPACE = "cm:readver"
# The artist catalogue is shared by all workspaces: its reads also carry this global version,
# bumped after every committed catalogue write (API imports now, discovery jobs later).
CATALOGUE_VERSION_KEY = f"{_NAMESPACE}:catalogue"


def _version_key(workspace_id: uuid.UUID, entity_type: str) -> str:
    return f"{_NAMESPACE}:{workspace_id}:{entity_type}"


async def bump_versions(redis: Redis, workspace_id: uuid.UUID, entity_types: Iterable[str]) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for entity_type in entity_types:
            pipe.incr(_version_key(workspace_id, entity_type))
        await pipe.execute()


async def cached(
    resources: Resources,
    principal: Principal,
    entity_type: str,
    key: str,
    load: Callable[[], Awaitable[Any]],
) -> Any:
    """``load()``'s JSON-ready result, from the cache when an earlier read of the same version
    left it there."""
    raw = await resources.redis.get(_version_key(principal.workspace_id, entity_type))
    version = int(raw or 0)
    full_key = f"ws:{principal.workspace_id}:{entity_type}:v{version}:{key}"
    return await Cache(resources.redis).get_or_set(full_key, READ_CACHE_TTL_SECONDS, load)
