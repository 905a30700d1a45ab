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

# KEYS[1]: the domain's hash {slot (µs), factor, error_at (µs), burst, burst_at (µs)}.
# ARGV: mode ("turn" | "error"), interval (µs), half_life (µs), max_factor, max_wait (µs, -1:
# none), too_fast ("1" | "0"), burst_slots, burst_threshold. "turn" takes the next slot and
# returns how many µs away it is, or -1 without taking it when it is more than max_wait away;
# "error" follows PacingPolicy.after_failure: a too-fast answer raises the factor and pushes
# the next slot out; another error raises the burst score, and does the same only above the
# threshold. It returns 1 when the domain slowed down, else 0.
# Slots are written with string.format('%d'): whole microseconds, never a fraction or an
# exponent, whatever Lua's number formatting does.
_PACE = """
local key = KEYS[1]
local interval = tonumber(ARGV[2])
local half_life = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local state = redis.call('HMGET', key, 'slot', 'factor', 'error_at', 'burst', 'burst_at')
local slot = tonumber(state[1]) or 0
local factor = tonumber(state[2]) or 1
local error_at = tonumber(state[3]) or now
if factor > 1 then
    factor = 1 + (factor - 1) * math.pow(0.5, math.max(now - error_at, 0) / half_life)
end
if ARGV[1] == 'error' then
    local slows = ARGV[6] == '1'
    if not slows then
        local burst = tonumber(state[4]) or 0
        local burst_at = tonumber(state[5]) or now
        local burst_span = tonumber(ARGV[7]) * interval
        burst = burst * math.pow(0.5, math.max(now - burst_at, 0) / burst_span) + 1
        slows = burst > tonumber(ARGV[8])
        redis.call('HSET', key, 'burst', string.format('%.6f', burst),
            'burst_at', string.format('%d', now))
    end
    if slows then
        local raised = math.max(factor, math.min(tonumber(ARGV[4]), math.max(factor, 1) * 2))
        local pushed = math.max(slot, now + interval * raised)
        redis.call('HSET', key, 'slot', string.format('%d', pushed),
            'factor', string.format('%.6f', raised), 'error_at', string.format('%d', now))
    end
    redis.call('PEXPIRE', key, 3600000)
    if slows then
        return 1
    end
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
            asked = time.monotonic()
            wait_us = int(await self._call("turn", domain, interval, max_wait))
            answered = time.monotonic()
            if wait_us < 0:
                return False
            # Redis read its clock somewhere between `asked` and `answered`, so the slot lies
            # between these two. Leave no earlier than the latest it can be (a slow answer
            # must not make a request early: under load that let 22 requests into one second
            # at a limit of 20), and count lateness from the earliest, so the answer time is
            # lateness, never headroom.
            earliest = asked + wait_us / 1_000_000
            latest = answered + wait_us / 1_000_000
            if latest > time.monotonic():
                await asyncio.sleep(latest - time.monotonic())
            # Woken too late: the request would land too close to the next slots. Take another.
            if time.monotonic() - earliest <= self.policy.late_tolerance:
                return True

    async def slow_down(self, domain: str, status: int | None = 429) -> None:
        """Record a retryable error answer (``status`` ``None``: no answer; a bare call counts
        as "too fast"); see ``PacingPolicy.after_failure`` for which ones slow it down."""
        interval = self.policy.interval(domain)
        if interval is not None:
            too_fast = self.policy.says_too_fast(status)
            await self._call("error", domain, interval, too_fast=too_fast)

    async def reset(self, domain: str) -> None:
        """Forget a domain's schedule and slowdown (tests, or after changing its rate)."""
        await self._redis.delete(f"{self._prefix}:{domain.lower()}")

    async def _call(
        self,
        mode: str,
        domain: str,
        interval: float,
        max_wait: float | None = None,
        *,
        too_fast: bool = False,
    ) -> int:
        policy = self.policy
        result = await self._script(
            keys=[f"{self._prefix}:{domain.lower()}"],
            args=[
                mode,
                round(interval * 1_000_000),
                round(policy.half_life * 1_000_000),
                policy.max_factor,
                -1 if max_wait is None else round(max_wait * 1_000_000),
                "1" if too_fast else "0",
                policy.burst_slots,
                policy.burst_threshold,
            ],
        )
        return int(result)
