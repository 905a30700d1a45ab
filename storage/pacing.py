"""The scraper's per-domain pacing kept in Redis, so it holds across every process and node.

The rule is ``core.pacing.PacingPolicy``'s; this module keeps its state (the next free slot and
the slowdown factor of each domain) in one Redis hash per domain and changes it in one Lua
script, so any number of scraper actors share one schedule. It reads the clock with ``TIME``:
the slots are the server's, and clients' clocks do not matter. It fits ``scraping.fetcher.Pacer``.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from core.pacing import PacingPolicy

# KEYS[1]: the domain's hash {slot (µs), factor, error_at (µs)}.
# ARGV: mode ("turn" | "error"), interval (µs), half_life (µs), max_factor, max_wait (µs, -1:
# none). "turn" takes the next slot and returns how many µs away it is, or -1 without taking it
# when it is more than max_wait away; "error" raises the factor and pushes the next slot out.
# Slots are written with string.format('%d'): whole microseconds, never a fraction or an
# exponent, whatever Lua's number formatting does.
_PACE = """
local key = KEYS[1]
local interval = tonumber(ARGV[2])
local half_life = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local state = redis.call('HMGET', key, 'slot', 'factor', 'error_at')
local slot = tonumber(state[1]) or 0
local factor = tonumber(state[2]) or 1
local error_at = tonumber(state[3]) or now
if factor > 1 then
    factor = 1 + (factor - 1) * math.pow(0.5, math.max(now - error_at, 0) / half_life)
end
if ARGV[1] == 'error' then
    local raised = math.max(factor, math.min(tonumber(ARGV[4]), math.max(factor, 1) * 2))
    local pushed = math.max(slot, now + interval * raised)
    redis.call('HSET', key, 'slot', string.format('%d', pushed),
        'factor', string.format('%.6f', raised), 'error_at', string.format('%d', now))
    redis.call('PEXPIRE', key, 3600000)
    return 0
end
local at = math.max(now, slot)
local max_wait = tonumber(ARGV[5])
if max_wait >= 0 and at - now > max_wait then
    return -1
end
redis.call('HSET', key, 'slot', string.format('%d', at + interval * factor))
redis.call('PEXPIRE', key, 3600000)
return at - now
"""


class RedisPacer:
    """Paces requests per domain for every client of one Redis server.

    Args:
        redis: the client (see ``storage.redis_client.create_redis``).
        policy: the rates and the slowdown rule.
        namespace: key prefix, so several deployments can share one server.
    """

    def __init__(self, redis: Redis, policy: PacingPolicy, *, namespace: str = "cm") -> None:
        self.policy = policy
        self._prefix = f"{namespace}:pace"
        self._script = redis.register_script(_PACE)
        self._redis = redis

    async def wait_turn(self, domain: str, max_wait: float | None = None) -> bool:
        """Wait until a request to ``domain`` may leave and return True; return False at once,
        taking no slot, when the next slot is more than ``max_wait`` seconds away."""
        interval = self.policy.interval(domain)
        if interval is None:
            return True
        while True:
            # The slot as seen from before the call: Redis's answer time counts as lateness,
            # never as headroom.
            asked = time.monotonic()
            wait_us = int(await self._call("turn", domain, interval, max_wait))
            if wait_us < 0:
                return False
            slot = asked + wait_us / 1_000_000
            if slot > time.monotonic():
                await asyncio.sleep(slot - time.monotonic())
            # Woken too late: the request would land too close to the next slots. Take another.
            if time.monotonic() - slot <= self.policy.late_tolerance:
                return True

    async def slow_down(self, domain: str) -> None:
        interval = self.policy.interval(domain)
        if interval is not None:
            await self._call("error", domain, interval)

    async def reset(self, domain: str) -> None:
        """Forget a domain's schedule and slowdown (tests, or after changing its rate)."""
        await self._redis.delete(f"{self._prefix}:{domain.lower()}")

    async def _call(
        self, mode: str, domain: str, interval: float, max_wait: float | None = None
    ) -> int:
        result = await self._script(
            keys=[f"{self._prefix}:{domain.lower()}"],
            args=[
                mode,
                round(interval * 1_000_000),
                round(self.policy.half_life * 1_000_000),
                self.policy.max_factor,
                -1 if max_wait is None else round(max_wait * 1_000_000),
            ],
        )
        return int(result)
