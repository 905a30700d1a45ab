"""Sliding-window rate limits on Redis, shared by every process and replica that uses the server.

Each limited key is a sorted set holding one member per unit of capacity used, scored by the
server time it was used at. A hit trims members older than the window, counts the rest and
either adds ``cost`` members or reports when enough of the oldest ones will have aged out. All
of it runs as one Lua script, so concurrent hits from any number of clients are serialised, and
it reads the clock with ``TIME`` so client clocks do not matter.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from core.errors import RateLimited

# KEYS[1]: the window's sorted set.
# ARGV: limit, window (microseconds), cost, a token unique to this hit (keeps members distinct
# when two hits land on the same microsecond).
# Returns {allowed (0|1), remaining, retry_after (microseconds)}: integers, since Lua numbers
# returned to Redis are truncated anyway.
# TIME before writes is fine: Redis >= 5 replicates a script's effects, not the script.
_SLIDING_WINDOW = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local token = ARGV[4]

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)

if used + cost <= limit then
    local batch = {}
    for i = 1, cost do
        batch[#batch + 1] = now
        batch[#batch + 1] = token .. ':' .. i
        if #batch >= 1000 or i == cost then
            redis.call('ZADD', key, unpack(batch))
            batch = {}
        end
    end
    redis.call('PEXPIRE', key, math.ceil(window / 1000) + 1)
    return {1, limit - used - cost, 0}
end

-- Denied, and nothing recorded. The hit fits once the oldest (used + cost - limit) units have
-- left the window; the newest of those (0-based rank used + cost - limit - 1) decides when.
local rank = used + cost - limit - 1
local oldest = redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')
local remaining = limit - used
if remaining < 0 then
    remaining = 0
end
return {0, remaining, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class RateLimitResult:
    """The answer to one hit.

    Attributes:
        allowed: whether the hit was counted and may proceed.
        remaining: units still available in the current window after this hit.
        retry_after: seconds until this hit would be allowed; ``0`` when allowed.
        hit_id: names the units this hit used, for :meth:`RateLimiter.refund`.
        cost: how many units it used (``0`` when denied).
    """

    allowed: bool
    remaining: int
    retry_after: float
    hit_id: str = ""
    cost: int = 0


class RateLimiter:
    """Sliding-window limits per key (``login:<email>``, ``token:<id>``), atomic across clients.

    Args:
        redis: the client (see ``storage.redis_client.create_redis``).
        namespace: prefix of every key, so several deployments can share one server.
    """

    def __init__(self, redis: Redis, *, namespace: str = "cm") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:ratelimit"
        self._script = redis.register_script(_SLIDING_WINDOW)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def hit(
        self, key: str, *, limit: int, window_seconds: float, cost: int = 1
    ) -> RateLimitResult:
        """Use ``cost`` units of ``key``'s ``limit`` per ``window_seconds`` if they are free.

        A denied hit uses nothing, so a client that keeps retrying is let in as soon as the
        window has room.

        Raises:
            ValueError: ``limit``, ``window_seconds`` or ``cost`` is not positive, or ``cost``
                exceeds ``limit`` (such a hit could never be allowed).
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not window_seconds > 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds!r}")
        if not 1 <= cost <= limit:
            raise ValueError(f"cost must be between 1 and limit ({limit}), got {cost}")
        window_us = max(1, math.ceil(window_seconds * 1_000_000))
        hit_id = uuid.uuid4().hex
        allowed, remaining, retry_after_us = await self._script(
            keys=[self._key(key)], args=[limit, window_us, cost, hit_id]
        )
        return RateLimitResult(
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after=0.0 if allowed else int(retry_after_us) / 1_000_000,
            hit_id=hit_id,
            cost=cost if allowed else 0,
        )

    async def refund(self, key: str, result: RateLimitResult) -> None:
        """Give back the units an allowed hit used, as if it had never been made (for limits
        that count only attempts that turn out to fail, reserved up front so that concurrent
        attempts cannot overshoot)."""
        if result.cost:
            members = [f"{result.hit_id}:{i}" for i in range(1, result.cost + 1)]
            await self._redis.zrem(self._key(key), *members)

    async def check_or_raise(
        self,
        key: str,
        *,
        limit: int,
        window_seconds: float,
        cost: int = 1,
        detail: str = "Too many requests; try again later.",
    ) -> RateLimitResult:
        """:meth:`hit`, raising when denied.

        Raises:
            core.errors.RateLimited: the hit was denied; carries ``retry_after`` in seconds.
        """
        result = await self.hit(key, limit=limit, window_seconds=window_seconds, cost=cost)
        if not result.allowed:
            raise RateLimited(detail, retry_after=result.retry_after)
        return result

    async def reset(self, key: str) -> None:
        """Forget every hit on ``key``, restoring its full capacity."""
        await self._redis.delete(self._key(key))
