"""Each mailbox's sending limits, kept in Redis so they hold across every sender in the cluster.

One sorted set per mailbox records its recent sends (score: the send's time in µs by Redis's
clock; member: a token and the gap drawn after that send). One Lua script reads the clock with
``TIME``, checks every limit and records the send, so concurrent senders in any number of
processes never both take the last slot, and clients' clocks do not matter. The rules:

- ``per_minute``: at most that many sends in any sliding 60 s window;
- ``daily_cap``: at most the caller's effective cap (the mailbox's ramped cap and the outreach's
  daily limit, see ``core.send_plan.Pace.cap_on``) per UTC calendar day, the same day the
  planner counts;
- ``gap``: no send before the gap drawn at the previous send has passed (the caller draws it
  with ``SendingLimits.draw_gap``, so the script stays deterministic).

A refused send learns the earliest time it could go and which limit holds it back. A granted
send that did not happen (no connection, a 4xx before DATA) is refunded, so it costs neither a
slot nor a gap.

When Redis is unreachable or slow every call raises ``ServiceUnavailable`` within the client's
socket timeouts (``storage.redis_client``): the caller must not send. A reply lost after the
script ran leaves a recorded send that the caller never made: that costs a slot until it ages
out, never an extra message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from core.errors import ServiceUnavailable
from core.mailbox_rules import GAP_SECONDS_MAX, LimitReason, SendingLimits

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_US = 60_000_000

# KEYS[1]: the mailbox's sends. ARGV: per_minute, day_cap, gap (µs), token, longest gap (µs).
# Returns {granted (1|0), reason, now (µs), retry_at (µs)}; times are formatted with '%d' so Lua
# never writes a 16-digit number in exponent notation.
# A day starts at a multiple of 86,400 s of Unix time: Unix time has no leap seconds, so that
# is UTC midnight. Sends older than today, the last minute and the longest gap can no longer
# hold anything back and are dropped, so the set never holds much more than a day's cap.
_ACQUIRE = """
local key = KEYS[1]
local per_minute = tonumber(ARGV[1])
local day_cap = tonumber(ARGV[2])
local gap = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local day_start = math.floor(tonumber(clock[1]) / 86400) * 86400000000
local day_end = day_start + 86400000000
local minute_ago = now - 60000000
local keep_from = math.min(day_start, minute_ago, now - tonumber(ARGV[5]))
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%d', keep_from))
local retry, reason = 0, ''
if redis.call('ZCOUNT', key, string.format('%d', day_start), '+inf') >= day_cap then
    retry, reason = day_end, 'daily_cap'
end
local window_from = '(' .. string.format('%d', minute_ago)
local in_minute = redis.call('ZCOUNT', key, window_from, '+inf')
if in_minute >= per_minute then
    local leaving = redis.call('ZRANGEBYSCORE', key, window_from, '+inf', 'WITHSCORES',
        'LIMIT', in_minute - per_minute, 1)
    local at = tonumber(leaving[2]) + 60000000
    if at > retry then
        retry, reason = at, 'per_minute'
    end
end
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if last[1] then
    local at = tonumber(last[2]) + tonumber(string.match(last[1], ':(%d+)$'))
    if at > now and at > retry then
        retry, reason = at, 'gap'
    end
end
if reason ~= '' then
    return {0, reason, string.format('%d', now), string.format('%d', retry)}
end
redis.call('ZADD', key, string.format('%d', now), ARGV[4] .. ':' .. string.format('%d', gap))
local keep_for = math.max(day_end - now, gap, 60000000)
redis.call('PEXPIRE', key, string.format('%d', math.ceil(keep_for / 1000) + 1000))
return {1, 'granted', string.format('%d', now), string.format('%d', now)}
"""

# KEYS[1]: the mailbox's sends. Returns {now, sent in the last 60 s, sent today, next send not
# before} (µs, '%d'); writes nothing.
_USAGE = """
local key = KEYS[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local day_start = math.floor(tonumber(clock[1]) / 86400) * 86400000000
local in_minute = redis.call('ZCOUNT', key, '(' .. string.format('%d', now - 60000000), '+inf')
local today = redis.call('ZCOUNT', key, string.format('%d', day_start), '+inf')
local next_at = now
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if last[1] then
    next_at = math.max(now, tonumber(last[2]) + tonumber(string.match(last[1], ':(%d+)$')))
end
return {string.format('%d', now), in_minute, today, string.format('%d', next_at)}
"""


@dataclass(frozen=True)
class Grant:
    """A send the limiter allowed and recorded at ``at`` (Redis's clock, UTC); ``token`` names
    it for :meth:`MailboxLimiter.refund`."""

    mailbox_id: str
    token: str
    at: datetime


@dataclass(frozen=True)
class Refusal:
    """A send that may not go at ``at`` (Redis's clock); ``retry_at`` is the earliest time it
    could, and ``reason`` the limit that holds it back longest."""

    reason: LimitReason
    at: datetime
    retry_at: datetime

    @property
    def wait_seconds(self) -> float:
        return (self.retry_at - self.at).total_seconds()


@dataclass(frozen=True)
class Usage:
    """What a mailbox has sent, by Redis's clock at ``at``."""

    at: datetime
    sent_last_minute: int
    sent_today: int
    next_send_at: datetime


class MailboxLimiter:
    """Enforces each mailbox's sending limits for every client of one Redis server.

    Args:
        redis: the client (see ``storage.redis_client.create_redis``); its socket timeouts bound
            every call.
        namespace: key prefix, so several deployments can share one server.
    """

    def __init__(self, redis: Redis, namespace: str = "cm") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:mailbox"
        self._acquire = redis.register_script(_ACQUIRE)
        self._usage = redis.register_script(_USAGE)

    def key(self, mailbox_id: uuid.UUID | str) -> str:
        """The Redis key holding the mailbox's recent sends."""
        return f"{self._prefix}:{mailbox_id}:sends"

    async def acquire(
        self,
        mailbox_id: uuid.UUID | str,
        limits: SendingLimits,
        *,
        day_cap: int,
        gap_seconds: float,
    ) -> Grant | Refusal:
        """Take one send for the mailbox now, or learn when it could go.

        Args:
            limits: the mailbox's limits (``per_minute`` applies; the gap must lie in its range).
            day_cap: today's effective cap: the lower of the mailbox's ramped cap and the
                outreach's daily limit.
            gap_seconds: the gap to leave after this send if it is granted.

        Raises:
            ValueError: ``day_cap`` is negative or ``gap_seconds`` is outside the limits' range.
            ServiceUnavailable: Redis did not answer; the caller must not send.
        """
        if day_cap < 0:
            raise ValueError("day_cap must not be negative")
        if not limits.gap_min_seconds <= gap_seconds <= limits.gap_max_seconds:
            raise ValueError("gap_seconds must lie within the limits' gap range")
        token = uuid.uuid4().hex
        gap_us = round(gap_seconds * 1_000_000)
        granted, reason, now, retry_at = await self._call(
            self._acquire,
            mailbox_id,
            [limits.per_minute, day_cap, gap_us, token, GAP_SECONDS_MAX * 1_000_000],
        )
        if int(granted):
            # The member the script stored, which is what a refund removes.
            return Grant(str(mailbox_id), f"{token}:{gap_us}", _at(now))
        return Refusal(LimitReason(_text(reason)), _at(now), _at(retry_at))

    async def refund(self, grant: Grant) -> bool:
        """Give back a granted send that did not happen: it no longer counts against any limit,
        and the gap drawn for it no longer delays the next send. Return False when there was
        nothing to give back (already refunded, or too old to count).

        Raises:
            ServiceUnavailable: Redis did not answer.
        """
        try:
            removed = await self._redis.zrem(self.key(grant.mailbox_id), grant.token)
        except RedisError as error:
            raise ServiceUnavailable("the mailbox limiter's Redis did not answer") from error
        return bool(removed)

    async def usage(self, mailbox_id: uuid.UUID | str) -> Usage:
        """How much the mailbox has sent in the last 60 s and today (UTC), and when the current
        gap ends; changes nothing.

        Raises:
            ServiceUnavailable: Redis did not answer.
        """
        now, in_minute, today, next_at = await self._call(self._usage, mailbox_id, [])
        return Usage(_at(now), int(in_minute), int(today), _at(next_at))

    async def _call(
        self, script: AsyncScript, mailbox_id: uuid.UUID | str, args: list[int | str]
    ) -> list[bytes | int]:
        try:
            result = await script(keys=[self.key(mailbox_id)], args=args)
        except RedisError as error:
            raise ServiceUnavailable("the mailbox limiter's Redis did not answer") from error
        return list(result)


def _text(value: bytes | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _at(microseconds: bytes | int) -> datetime:
    """A time from the script (µs since the epoch), exactly: no float in between."""
    return _EPOCH + timedelta(microseconds=int(_text(microseconds)))
