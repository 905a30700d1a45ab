"""A JSON cache on Redis for hot reads, invalidated by tag when the underlying rows change.

Readers cache with ``tags=[...]`` naming what the value was built from (``workspace:<id>``,
``campaign:<id>``); writers call ``invalidate_tag`` after their transaction commits.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis

# Writing the value and recording it under its tags in one script means an invalidation can
# never run between the two and miss a key it should delete. A tag set lives at least as long as
# the longest-lived key recorded in it, or a key could outlive the record that lets us delete it.
_SET_TAGGED = """
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
    redis.call('SADD', KEYS[i], KEYS[1])
    if redis.call('PTTL', KEYS[i]) < ttl then
        redis.call('PEXPIRE', KEYS[i], ttl)
    end
end
return 1
"""

# One script, so once it returns no reader can find any of the tag's keys. DEL is batched to
# stay under Lua's unpack() limit. It deletes keys it was not passed in KEYS: fine on one server
# with or without replicas, but Redis Cluster would need every key of a tag in one hash slot.
_INVALIDATE_TAG = """
local members = redis.call('SMEMBERS', KEYS[1])
local deleted = 0
for i = 1, #members, 1000 do
    deleted = deleted + redis.call('DEL', unpack(members, i, math.min(i + 999, #members)))
end
redis.call('DEL', KEYS[1])
return deleted
"""


def json_default(value: object) -> str:
    """``json.dumps`` fallback for the types our rows carry: UUIDs, dates and times, Decimals."""
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any) -> bytes:
    """Compact JSON bytes, using :func:`json_default` for non-JSON types."""
    return json.dumps(value, default=json_default, separators=(",", ":")).encode()


def _ttl_milliseconds(ttl_seconds: float) -> int:
    if not ttl_seconds > 0:
        raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds!r}")
    return max(1, math.ceil(ttl_seconds * 1000))


class Cache:
    """JSON values in Redis under ``<namespace>:cache:``, with expiry and tag invalidation.

    Values come back as JSON decodes them: a cached UUID, datetime or Decimal reads back as a
    string.

    Args:
        redis: the client (see ``storage.redis_client.create_redis``).
        namespace: prefix of every key, so several deployments can share one server.
    """

    def __init__(self, redis: Redis, *, namespace: str = "cm") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:cache"
        self._set_tagged = redis.register_script(_SET_TAGGED)
        self._invalidate_tag = redis.register_script(_INVALIDATE_TAG)

    def _key(self, key: str) -> str:
        # Separate sub-prefixes so a key named like a tag can never collide with a tag set.
        return f"{self._prefix}:k:{key}"

    def _tag_key(self, tag: str) -> str:
        return f"{self._prefix}:t:{tag}"

    async def get(self, key: str) -> Any | None:
        """The cached value, or ``None`` when absent or expired."""
        raw = await self._redis.get(self._key(key))
        return None if raw is None else json.loads(raw)

    async def set(
        self, key: str, value: Any, ttl_seconds: float, *, tags: Iterable[str] = ()
    ) -> None:
        """Cache ``value`` for ``ttl_seconds``, recorded under each of ``tags``.

        Raises:
            TypeError: the value is not JSON serialisable.
            ValueError: ``ttl_seconds`` is not positive.
        """
        await self._store(key, to_json(value), ttl_seconds, tags)

    async def _store(
        self, key: str, payload: bytes, ttl_seconds: float, tags: Iterable[str]
    ) -> None:
        ttl_ms = _ttl_milliseconds(ttl_seconds)
        tag_keys = [self._tag_key(tag) for tag in dict.fromkeys(tags)]
        if tag_keys:
            await self._set_tagged(keys=[self._key(key), *tag_keys], args=[payload, ttl_ms])
        else:
            await self._redis.set(self._key(key), payload, px=ttl_ms)

    async def delete(self, *keys: str) -> int:
        """Drop ``keys``; returns how many existed."""
        if not keys:
            return 0
        return await self._redis.delete(*(self._key(key) for key in keys))

    async def get_or_set(
        self,
        key: str,
        ttl_seconds: float,
        factory: Callable[[], Awaitable[Any]],
        *,
        tags: Iterable[str] = (),
    ) -> Any:
        """The cached value, or else ``await factory()`` cached for ``ttl_seconds``.

        A cached ``None`` counts as a hit. On a miss the result is returned as it will read back
        from the cache later (JSON-decoded), so callers see one shape either way. Concurrent
        misses may each run the factory; the last write wins.
        """
        raw = await self._redis.get(self._key(key))
        if raw is not None:
            return json.loads(raw)
        payload = to_json(await factory())
        await self._store(key, payload, ttl_seconds, tags)
        return json.loads(payload)

    async def invalidate_tag(self, tag: str) -> int:
        """Delete every key recorded under ``tag``, and the tag itself; returns how many keys
        were still cached. Once this returns, no reader gets any of them from the cache."""
        deleted = await self._invalidate_tag(keys=[self._tag_key(tag)])
        return int(deleted)
