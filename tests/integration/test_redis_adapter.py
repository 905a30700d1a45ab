"""The Redis adapter against the embedded Redis: client factory, JSON cache, rate limits, events.

Each test works in its own random namespace and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from core.errors import RateLimited
from storage.cache import Cache
from storage.events import EventBus
from storage.rate_limits import RateLimiter
from storage.redis_client import create_redis, ping_redis

# Upper bound on any wait for something that should happen (an expiry, a delivery); a test that
# reaches it fails instead of hanging.
PATIENCE_SECONDS = 5.0

pytestmark = pytest.mark.integration


@pytest.fixture
def cache(redis: Redis, namespace: str) -> Cache:
    return Cache(redis, namespace=namespace)


@pytest.fixture
def limiter(redis: Redis, namespace: str) -> RateLimiter:
    return RateLimiter(redis, namespace=namespace)


async def wait_until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``condition`` until it holds, failing after PATIENCE_SECONDS. Polling, because Redis
    signals neither an expiry nor a dropped subscription to other clients."""
    async with asyncio.timeout(PATIENCE_SECONDS):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)


async def expired(cache: Cache, key: str) -> None:
    async def gone() -> bool:
        return await cache.get(key) is None

    await wait_until(gone)


class TestRedisClient:
    async def test_a_client_for_the_unix_socket_url_answers_ping(self, redis: Redis) -> None:
        await ping_redis(redis)

    async def test_responses_are_bytes_not_decoded_strings(
        self, redis: Redis, namespace: str
    ) -> None:
        await redis.set(f"{namespace}:raw", "é")

        assert await redis.get(f"{namespace}:raw") == "é".encode()

    async def test_ping_raises_when_no_server_listens(self, tmp_path: Path) -> None:
        client = create_redis(f"unix://{tmp_path}/no-such.sock")
        try:
            with pytest.raises(RedisConnectionError):
                await ping_redis(client)
        finally:
            await client.aclose()

    @pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "memcached://x"])
    def test_a_url_that_is_not_redis_is_refused(self, url: str) -> None:
        with pytest.raises(ValueError, match="redis://"):
            create_redis(url)


class TestCacheRoundTrip:
    async def test_a_json_value_reads_back_equal(self, cache: Cache) -> None:
        value = {"name": "Nightfall", "followers": 1200, "genres": ["techno", "house"], "x": None}

        await cache.set("artist:1", value, ttl_seconds=60)

        assert await cache.get("artist:1") == value

    async def test_uuids_datetimes_dates_and_decimals_read_back_as_strings(
        self, cache: Cache
    ) -> None:
        row_id = uuid.uuid4()
        fetched_at = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)

        await cache.set(
            "row",
            {"id": row_id, "at": fetched_at, "on": date(2025, 3, 1), "rate": Decimal("0.10")},
            ttl_seconds=60,
        )

        assert await cache.get("row") == {
            "id": str(row_id),
            "at": "2025-03-01T12:30:00+00:00",
            "on": "2025-03-01",
            "rate": "0.10",
        }

    async def test_a_value_that_is_not_json_serialisable_is_refused(self, cache: Cache) -> None:
        with pytest.raises(TypeError, match="set"):
            await cache.set("bad", {1, 2}, ttl_seconds=60)

        assert await cache.get("bad") is None

    async def test_a_missing_key_reads_as_none(self, cache: Cache) -> None:
        assert await cache.get("never-set") is None

    async def test_delete_removes_only_the_named_keys(self, cache: Cache) -> None:
        for key in ("a", "b", "c"):
            await cache.set(key, key, ttl_seconds=60)

        assert await cache.delete("a", "b", "absent") == 2

        assert [await cache.get(key) for key in ("a", "b", "c")] == [None, None, "c"]

    async def test_namespaces_do_not_see_each_other(
        self, cache: Cache, redis: Redis, namespace: str
    ) -> None:
        await cache.set("shared-name", 1, ttl_seconds=60)
        neighbour = Cache(redis, namespace=f"{namespace}-other")

        assert await neighbour.get("shared-name") is None
        assert [key async for key in redis.scan_iter(match=f"{namespace}:*")] != []


class TestCacheExpiry:
    async def test_a_value_is_gone_after_its_ttl(self, cache: Cache) -> None:
        await cache.set("short", "lived", ttl_seconds=0.2)
        await cache.set("long", "lived", ttl_seconds=60)

        await expired(cache, "short")

        assert await cache.get("long") == "lived"

    async def test_a_ttl_that_is_not_positive_is_refused(self, cache: Cache) -> None:
        with pytest.raises(ValueError, match="ttl_seconds"):
            await cache.set("k", 1, ttl_seconds=0)


class TestGetOrSet:
    async def test_the_factory_runs_once_and_later_reads_come_from_the_cache(
        self, cache: Cache
    ) -> None:
        calls = 0

        async def load() -> dict[str, int]:
            nonlocal calls
            calls += 1
            return {"count": calls}

        first = await cache.get_or_set("stats", 60, load)
        second = await cache.get_or_set("stats", 60, load)

        assert (first, second, calls) == ({"count": 1}, {"count": 1}, 1)

    async def test_a_cached_none_counts_as_a_hit(self, cache: Cache) -> None:
        calls = 0

        async def load() -> None:
            nonlocal calls
            calls += 1

        await cache.get_or_set("nothing", 60, load)
        await cache.get_or_set("nothing", 60, load)

        assert calls == 1

    async def test_a_miss_returns_the_same_shape_a_hit_will(self, cache: Cache) -> None:
        row_id = uuid.uuid4()

        async def load() -> uuid.UUID:
            return row_id

        assert await cache.get_or_set("id", 60, load) == str(row_id)
        assert await cache.get_or_set("id", 60, load) == str(row_id)

    async def test_the_factory_runs_again_once_the_value_expired(self, cache: Cache) -> None:
        calls = 0

        async def load() -> int:
            nonlocal calls
            calls += 1
            return calls

        await cache.get_or_set("ticker", 0.2, load)
        await expired(cache, "ticker")

        assert await cache.get_or_set("ticker", 0.2, load) == 2


class TestTagInvalidation:
    async def test_invalidating_a_tag_removes_every_key_under_it_and_no_other(
        self, cache: Cache
    ) -> None:
        await cache.set("campaign:1", "c1", 60, tags=["workspace:a"])
        await cache.set("campaign:2", "c2", 60, tags=["workspace:a", "campaign:2"])
        await cache.set("campaign:3", "c3", 60, tags=["workspace:b"])
        await cache.set("untagged", "u", 60)

        assert await cache.invalidate_tag("workspace:a") == 2

        assert [await cache.get(k) for k in ("campaign:1", "campaign:2")] == [None, None]
        assert await cache.get("campaign:3") == "c3"
        assert await cache.get("untagged") == "u"

    async def test_a_key_under_two_tags_goes_with_either(self, cache: Cache) -> None:
        await cache.set("report", "r", 60, tags=["campaign:1", "campaign:2"])

        await cache.invalidate_tag("campaign:2")

        assert await cache.get("report") is None

    async def test_a_tag_is_empty_after_invalidation(self, cache: Cache) -> None:
        await cache.set("k", "v", 60, tags=["t"])
        await cache.invalidate_tag("t")
        await cache.set("k", "v2", 60)

        assert await cache.invalidate_tag("t") == 0
        assert await cache.get("k") == "v2"

    async def test_get_or_set_records_its_tags(self, cache: Cache) -> None:
        async def load() -> str:
            return "fresh"

        await cache.get_or_set("k", 60, load, tags=["t"])
        await cache.invalidate_tag("t")

        assert await cache.get("k") is None

    async def test_a_tag_outlives_its_longest_lived_key(
        self, cache: Cache, redis: Redis, namespace: str
    ) -> None:
        await cache.set("long", "v", 600, tags=["t"])
        await cache.set("short", "v", 5, tags=["t"])

        tag_ttl = await redis.pttl(f"{namespace}:cache:t:t")
        key_ttl = await redis.pttl(f"{namespace}:cache:k:long")

        assert tag_ttl >= key_ttl > 5_000

    async def test_invalidating_an_unknown_tag_deletes_nothing(self, cache: Cache) -> None:
        await cache.set("k", "v", 60, tags=["t"])

        assert await cache.invalidate_tag("other") == 0
        assert await cache.get("k") == "v"


class TestSlidingWindow:
    async def test_exactly_limit_hits_are_allowed_then_the_next_is_denied(
        self, limiter: RateLimiter
    ) -> None:
        results = [await limiter.hit("login:a", limit=3, window_seconds=30) for _ in range(4)]

        assert [(r.allowed, r.remaining, r.retry_after) for r in results[:3]] == [
            (True, 2, 0.0),
            (True, 1, 0.0),
            (True, 0, 0.0),
        ]
        denied = results[3]
        assert not denied.allowed
        assert denied.remaining == 0
        assert 0 < denied.retry_after <= 30

    async def test_denied_hits_do_not_use_capacity(self, limiter: RateLimiter) -> None:
        allowed = await limiter.hit("k", limit=3, window_seconds=30, cost=2)
        denied = [await limiter.hit("k", limit=3, window_seconds=30, cost=2) for _ in range(5)]
        last = await limiter.hit("k", limit=3, window_seconds=30)

        assert allowed.allowed
        assert [(d.allowed, d.remaining) for d in denied] == [(False, 1)] * 5
        assert (last.allowed, last.remaining) == (True, 0)

    async def test_waiting_retry_after_is_enough_for_the_next_hit(
        self, limiter: RateLimiter
    ) -> None:
        await limiter.hit("k", limit=1, window_seconds=0.3)
        denied = await limiter.hit("k", limit=1, window_seconds=0.3)
        assert not denied.allowed

        await asyncio.sleep(denied.retry_after + 0.01)

        assert (await limiter.hit("k", limit=1, window_seconds=0.3)).allowed

    async def test_full_capacity_returns_after_the_window(self, limiter: RateLimiter) -> None:
        for _ in range(3):
            await limiter.hit("k", limit=3, window_seconds=0.3)
        assert not (await limiter.hit("k", limit=3, window_seconds=0.3)).allowed

        await asyncio.sleep(0.35)
        after = await limiter.hit("k", limit=3, window_seconds=0.3)

        assert (after.allowed, after.remaining) == (True, 2)

    async def test_a_hit_with_a_cost_uses_that_many_units(self, limiter: RateLimiter) -> None:
        first = await limiter.hit("bulk", limit=10, window_seconds=30, cost=4)
        second = await limiter.hit("bulk", limit=10, window_seconds=30, cost=6)
        third = await limiter.hit("bulk", limit=10, window_seconds=30, cost=1)

        assert (first.remaining, second.remaining) == (6, 0)
        assert first.allowed
        assert second.allowed
        assert not third.allowed

    async def test_a_cost_above_the_limit_is_refused(self, limiter: RateLimiter) -> None:
        with pytest.raises(ValueError, match="cost"):
            await limiter.hit("k", limit=2, window_seconds=30, cost=3)

    async def test_keys_are_limited_separately(self, limiter: RateLimiter) -> None:
        await limiter.hit("token:a", limit=1, window_seconds=30)

        assert (await limiter.hit("token:b", limit=1, window_seconds=30)).allowed
        assert not (await limiter.hit("token:a", limit=1, window_seconds=30)).allowed

    async def test_reset_restores_full_capacity(self, limiter: RateLimiter) -> None:
        await limiter.hit("k", limit=2, window_seconds=30, cost=2)

        await limiter.reset("k")
        after = await limiter.hit("k", limit=2, window_seconds=30)

        assert (after.allowed, after.remaining) == (True, 1)


class TestSharedLimits:
    async def test_two_clients_draw_from_one_limit(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        here = RateLimiter(redis, namespace=namespace)
        there = RateLimiter(other_redis, namespace=namespace)

        await here.hit("login:a", limit=3, window_seconds=30)
        await there.hit("login:a", limit=3, window_seconds=30)
        await here.hit("login:a", limit=3, window_seconds=30)

        assert not (await there.hit("login:a", limit=3, window_seconds=30)).allowed
        assert not (await here.hit("login:a", limit=3, window_seconds=30)).allowed

    async def test_concurrent_hits_from_two_clients_never_exceed_the_limit(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        limiters = [RateLimiter(c, namespace=namespace) for c in (redis, other_redis)]

        results = await asyncio.gather(
            *(limiters[i % 2].hit("burst", limit=7, window_seconds=30) for i in range(20))
        )

        assert sum(r.allowed for r in results) == 7


class TestCheckOrRaise:
    async def test_an_allowed_hit_returns_its_result(self, limiter: RateLimiter) -> None:
        result = await limiter.check_or_raise("k", limit=2, window_seconds=30)

        assert (result.allowed, result.remaining) == (True, 1)

    async def test_a_denied_hit_raises_rate_limited_with_retry_after(
        self, limiter: RateLimiter
    ) -> None:
        await limiter.check_or_raise("k", limit=1, window_seconds=30)

        with pytest.raises(RateLimited) as raised:
            await limiter.check_or_raise("k", limit=1, window_seconds=30, detail="Slow down")

        assert raised.value.detail == "Slow down"
        assert raised.value.status == 429
        assert 0 < raised.value.retry_after <= 30


class TestEventBus:
    async def test_a_subscriber_gets_events_another_client_publishes_for_its_workspace(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        workspace = uuid.uuid4()
        campaign_id = uuid.uuid4()
        subscriber = EventBus(redis, namespace=namespace)
        publisher = EventBus(other_redis, namespace=namespace)

        async with subscriber.subscribe(workspace) as events:
            receivers = await publisher.publish(
                workspace, {"type": "campaign.updated", "campaign_id": campaign_id}
            )
            async with asyncio.timeout(PATIENCE_SECONDS):
                event = await anext(events)

        assert receivers == 1
        assert event["type"] == "campaign.updated"
        assert event["campaign_id"] == str(campaign_id)

    async def test_events_of_another_workspace_are_not_delivered(
        self, redis: Redis, other_redis: Redis, namespace: str
    ) -> None:
        mine, theirs = uuid.uuid4(), uuid.uuid4()
        publisher = EventBus(other_redis, namespace=namespace)

        async with EventBus(redis, namespace=namespace).subscribe(mine) as events:
            # Same publisher connection, so Redis handles these in order: had "theirs" been
            # delivered, it would come out first.
            assert await publisher.publish(theirs, {"type": "for-theirs"}) == 0
            await publisher.publish(mine, {"type": "for-mine"})
            async with asyncio.timeout(PATIENCE_SECONDS):
                event = await anext(events)

        assert event["type"] == "for-mine"

    async def test_events_carry_an_id_and_a_utc_time(self, redis: Redis, namespace: str) -> None:
        bus = EventBus(redis, namespace=namespace)
        workspace = uuid.uuid4()

        async with bus.subscribe(workspace) as events:
            await bus.publish(workspace, {"type": "ping"})
            async with asyncio.timeout(PATIENCE_SECONDS):
                event = await anext(events)

        assert uuid.UUID(event["id"]).version == 4
        at = datetime.fromisoformat(event["at"])
        assert at.utcoffset() is not None
        assert at.utcoffset() == UTC.utcoffset(None)

    async def test_an_id_and_time_given_by_the_publisher_are_kept(
        self, redis: Redis, namespace: str
    ) -> None:
        bus = EventBus(redis, namespace=namespace)
        workspace = uuid.uuid4()
        given = {"type": "t", "id": "evt-1", "at": "2025-01-01T00:00:00+00:00"}

        async with bus.subscribe(workspace) as events:
            await bus.publish(workspace, given)
            async with asyncio.timeout(PATIENCE_SECONDS):
                event = await anext(events)

        assert event == given

    async def test_events_arrive_in_publish_order_through_async_for(
        self, redis: Redis, namespace: str
    ) -> None:
        bus = EventBus(redis, namespace=namespace)
        workspace = uuid.uuid4()
        received: list[int] = []

        async with bus.subscribe(workspace) as events:
            for n in range(3):
                await bus.publish(workspace, {"n": n})
            async with asyncio.timeout(PATIENCE_SECONDS):
                async for event in events:
                    received.append(event["n"])
                    if len(received) == 3:
                        break

        assert received == [0, 1, 2]

    async def test_leaving_the_subscription_unsubscribes(
        self, redis: Redis, namespace: str
    ) -> None:
        bus = EventBus(redis, namespace=namespace)
        workspace = uuid.uuid4()

        async with bus.subscribe(workspace):
            assert await bus.publish(workspace, {"type": "t"}) == 1

        # The server drops the subscription when it handles the UNSUBSCRIBE or the closed
        # connection, which another connection may observe a moment later.
        async def nobody_listens() -> bool:
            return await bus.publish(workspace, {"type": "t"}) == 0

        await wait_until(nobody_listens)

    async def test_reading_before_entering_is_an_error(self, redis: Redis, namespace: str) -> None:
        events = EventBus(redis, namespace=namespace).subscribe(uuid.uuid4())

        with pytest.raises(RuntimeError, match="async with"):
            await anext(events)
