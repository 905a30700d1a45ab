"""Hot reads cached in Redis per workspace and entity type, made stale by the writes that
``Activity`` records.

Keys carry a version number per (workspace, entity type) that every committed write bumps.
A reader that loaded old rows just before a write committed stores them under the old version,
which no later reader asks for: no stale read survives a write, without locks.

A miss loads from the read replica when ``CM_DATABASE_READ_URL`` is set (the primary
otherwise). A replica trails the primary by its replication lag: a load that runs within that lag
after a write can store the old rows under the new version, until the next write or the TTL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from serve.resources import Resources
from serve.security import Principal
from storage.cache import Cache
from storage.database import replica_reads
from storage.read_versions import version_key

READ_CACHE_TTL_SECONDS = 60.0


async def cached(
    resources: Resources,
    principal: Principal,
    entity_type: str,
    key: str,
    load: Callable[[], Awaitable[Any]],
) -> Any:
    """``load()``'s JSON-ready result, from the cache when an earlier read of the same version
    left it there."""
    raw = await resources.redis.get(version_key(principal.workspace_id, entity_type))
    version = int(raw or 0)
    full_key = f"ws:{principal.workspace_id}:{entity_type}:v{version}:{key}"

    async def load_from_replica() -> Any:
        with replica_reads():
            return await load()

    return await Cache(resources.redis).get_or_set(
        full_key, READ_CACHE_TTL_SECONDS, load_from_replica
    )
