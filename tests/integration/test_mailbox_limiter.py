"""The mailbox limiter against the embedded Redis: per-minute, daily and gap limits that hold for
every client at once, refunds, usage, keys that expire, and no send when Redis is gone.

Every time compared here is Redis's own (the script's answers), never the test's clock. Each
test works in its own random namespace and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from core.errors import ServiceUnavailable
from core.mailbox_rules import LimitReason, SendingLimits
from storage.mailbox_limiter import Grant, MailboxLimiter, Refusal
from storage.redis_client import create_redis

pytestmark = pytest.mark.integration

# No gap, so only the limit under test holds sends back.
NO_GAP = SendingLimits(per_minute=600, daily_cap=10_000, gap_min_seconds=0, gap_max_seconds=0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def mailbox() -> str:
    return str(uuid.uuid4())


def granted(decision: Grant | Refusal) -> Grant:
    assert isinstance(decision, Grant), decision
    return decision


def refused(decision: Grant | Refusal) -> Refusal:
    assert isinstance(decision, Refusal), decision
    return decision


async def redis_now(redis: Redis) -> datetime:
    seconds, microseconds = await redis.time()
    return EPOCH + timedelta(seconds=seconds, microseconds=microseconds)


async def record_past_sends(
    limiter: MailboxLimiter, redis: Redis, mailbox_id: str, times: list[datetime]
) -> None:
    """Sends made earlier (with no gap after them), written as the script writes them."""
    members = {
        f"past{index}:0": (at - EPOCH) // timedelta(microseconds=1)
        for index, at in enumerate(times)
    }
    await redis.zadd(limiter.key(mailbox_id), members)


class TestPerMinuteLimit:
    async def test_fifty_concurrent_acquires_from_two_processes_grant_exactly_the_limit(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        limits = SendingLimits(per_minute=7, gap_min_seconds=0, gap_max_seconds=0)
        here, there = MailboxLimiter(redis, namespace), MailboxLimiter(other_redis, namespace)
        box = mailbox()

        decisions = await asyncio.gather(
            *(
                (here if i % 2 else there).acquire(box, limits, day_cap=100, gap_seconds=0)
                for i in range(50)
            )
        )

        grants = [d for d in decisions if isinstance(d, Grant)]
        refusals = [d for d in decisions if isinstance(d, Refusal)]
        assert len(grants) == 7
        assert {r.reason for r in refusals} == {LimitReason.PER_MINUTE}
        # The window slides: a slot frees when the first grant is 60 s old.
        first = min(g.at for g in grants)
        assert {r.retry_at for r in refusals} == {first + timedelta(seconds=60)}

    async def test_sends_older_than_sixty_seconds_no_longer_count(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        limits = SendingLimits(per_minute=2, gap_min_seconds=0, gap_max_seconds=0)
        now = await redis_now(redis)
        await record_past_sends(
            limiter, redis, box, [now - timedelta(seconds=61), now - timedelta(seconds=30)]
        )

        granted(await limiter.acquire(box, limits, day_cap=100, gap_seconds=0))
        refusal = refused(await limiter.acquire(box, limits, day_cap=100, gap_seconds=0))

        assert refusal.reason is LimitReason.PER_MINUTE
        assert refusal.retry_at == now + timedelta(seconds=30)


class TestDailyCap:
    async def test_the_cap_holds_until_the_next_utc_midnight(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()

        for _ in range(3):
            granted(await limiter.acquire(box, NO_GAP, day_cap=3, gap_seconds=0))
        refusal = refused(await limiter.acquire(box, NO_GAP, day_cap=3, gap_seconds=0))

        assert refusal.reason is LimitReason.DAILY_CAP
        midnight = datetime.combine(refusal.at.date() + timedelta(days=1), datetime.min.time(), UTC)
        assert refusal.retry_at == midnight

    async def test_sends_of_the_previous_utc_day_do_not_count_today(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        now = await redis_now(redis)
        midnight = datetime.combine(now.date(), datetime.min.time(), UTC)
        await record_past_sends(
            limiter, redis, box, [midnight - timedelta(microseconds=i + 1) for i in range(3)]
        )

        granted(await limiter.acquire(box, NO_GAP, day_cap=3, gap_seconds=0))

        assert (await limiter.usage(box)).sent_today == 1

    async def test_a_cap_of_zero_sends_nothing(self, redis: Redis, namespace: str) -> None:
        limiter = MailboxLimiter(redis, namespace)

        refusal = refused(await limiter.acquire(mailbox(), NO_GAP, day_cap=0, gap_seconds=0))

        assert refusal.reason is LimitReason.DAILY_CAP


class TestGap:
    async def test_a_send_right_after_a_grant_waits_for_the_gap_drawn_with_it(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        limits = SendingLimits(gap_min_seconds=60, gap_max_seconds=180)

        grant = granted(await limiter.acquire(box, limits, day_cap=100, gap_seconds=120))
        refusal = refused(await limiter.acquire(box, limits, day_cap=100, gap_seconds=60))

        assert refusal.reason is LimitReason.GAP
        assert refusal.retry_at == grant.at + timedelta(seconds=120)
        assert 0 < refusal.wait_seconds <= 120

    async def test_drawn_gaps_spread_over_the_limits_range_and_are_accepted(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter = MailboxLimiter(redis, namespace)
        limits = SendingLimits(gap_min_seconds=60, gap_max_seconds=180)
        rng = random.Random(8)

        gaps = [limits.draw_gap(rng) for _ in range(200)]
        for gap in gaps[:5]:
            granted(await limiter.acquire(mailbox(), limits, day_cap=100, gap_seconds=gap))

        assert all(60 <= gap <= 180 for gap in gaps)
        assert min(gaps) < 70 and max(gaps) > 170

    async def test_a_gap_outside_the_limits_range_is_refused(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter = MailboxLimiter(redis, namespace)
        limits = SendingLimits(gap_min_seconds=60, gap_max_seconds=180)

        with pytest.raises(ValueError, match="gap_seconds"):
            await limiter.acquire(mailbox(), limits, day_cap=100, gap_seconds=5)


class TestRefund:
    async def test_a_refunded_send_gives_back_its_slot_and_its_gap(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        limits = SendingLimits(per_minute=1, gap_min_seconds=60, gap_max_seconds=180)
        grant = granted(await limiter.acquire(box, limits, day_cap=1, gap_seconds=60))
        refused(await limiter.acquire(box, limits, day_cap=1, gap_seconds=60))

        assert await limiter.refund(grant) is True

        granted(await limiter.acquire(box, limits, day_cap=1, gap_seconds=60))

    async def test_refunding_twice_gives_back_only_one_slot(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        kept = granted(await limiter.acquire(box, NO_GAP, day_cap=5, gap_seconds=0))
        grant = granted(await limiter.acquire(box, NO_GAP, day_cap=5, gap_seconds=0))

        assert await limiter.refund(grant) is True
        assert await limiter.refund(grant) is False

        usage = await limiter.usage(box)
        assert (usage.sent_last_minute, usage.sent_today) == (1, 1)
        assert kept.token != grant.token


class TestUsage:
    async def test_usage_counts_the_last_minute_and_the_day_and_changes_nothing(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        now = await redis_now(redis)
        midnight = datetime.combine(now.date(), datetime.min.time(), UTC)
        earlier_today = max(midnight, now - timedelta(minutes=10))
        if earlier_today <= now - timedelta(seconds=60):
            await record_past_sends(limiter, redis, box, [earlier_today])
            expected_today = 3
        else:  # just after midnight: no time today lies more than a minute back
            expected_today = 2
        for _ in range(2):
            granted(await limiter.acquire(box, NO_GAP, day_cap=10, gap_seconds=0))

        first = await limiter.usage(box)
        second = await limiter.usage(box)

        assert (first.sent_last_minute, first.sent_today) == (2, expected_today)
        assert (second.sent_last_minute, second.sent_today) == (2, expected_today)

    async def test_an_unused_mailbox_has_sent_nothing_and_leaves_no_key(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()

        usage = await limiter.usage(box)

        assert (usage.sent_last_minute, usage.sent_today) == (0, 0)
        assert usage.next_send_at == usage.at
        assert await redis.exists(limiter.key(box)) == 0


class TestKeys:
    async def test_the_mailbox_key_expires_after_the_day_it_counts(
        self, redis: Redis, namespace: str
    ) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()

        grant = granted(await limiter.acquire(box, NO_GAP, day_cap=10, gap_seconds=0))

        ttl_ms = await redis.pttl(limiter.key(box))
        midnight = datetime.combine(grant.at.date() + timedelta(days=1), datetime.min.time(), UTC)
        until_midnight_ms = (midnight - grant.at) // timedelta(milliseconds=1)
        # Until midnight (the day's count) or the minute's window, whichever is later, plus a
        # second's slack; the few seconds below cover the time the test took to ask.
        needed_ms = max(until_midnight_ms, 60_000)
        assert needed_ms - 5_000 <= ttl_ms <= needed_ms + 2_000

    async def test_old_sends_are_dropped_from_the_key(self, redis: Redis, namespace: str) -> None:
        limiter, box = MailboxLimiter(redis, namespace), mailbox()
        now = await redis_now(redis)
        await record_past_sends(limiter, redis, box, [now - timedelta(days=2)])

        granted(await limiter.acquire(box, NO_GAP, day_cap=10, gap_seconds=0))

        assert await redis.zcard(limiter.key(box)) == 1


class TestRedisDown:
    async def test_every_call_fails_closed_when_redis_is_unreachable(self, namespace: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = create_redis(f"redis://127.0.0.1:{port}/0")
        limiter = MailboxLimiter(client, namespace)
        try:
            with pytest.raises(ServiceUnavailable):
                await limiter.acquire(mailbox(), NO_GAP, day_cap=10, gap_seconds=0)
            with pytest.raises(ServiceUnavailable):
                await limiter.usage(mailbox())
            with pytest.raises(ServiceUnavailable):
                await limiter.refund(Grant(mailbox(), "token:0", EPOCH))
        finally:
            await client.aclose()
