"""A paced scraper against a fixture site that answers 502 to about one API request in six:
it finishes its reads by retrying, its domain is never slowed down for the trickle, and the
site never sees more than the limit in any second, with either pacer."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from redis.asyncio import Redis

from core.pacing import PacingPolicy
from scraping.fetcher import Fetcher, Pacer, RetryPolicy, domain_of
from scraping.fixture import FixtureGraph
from scraping.pacing import LocalPacer
from scraping.soundcloud import SoundCloudClient
from storage.pacing import RedisPacer
from tests.integration.scraping.conftest import SiteFactory, endpoints_of

pytestmark = pytest.mark.integration

LIMIT = 20
ARTISTS = 40
ERROR_RATE = 1 / 6
# Eight tries: with one answer in six failing, some read would give up after four about once
# in thirty runs; after eight, about once in four million.
RETRIES = RetryPolicy(attempts=8, base_delay=0.05, max_delay=0.2)
PATIENCE_SECONDS = 60.0


@pytest.fixture(params=["local", "redis"])
def pacer(request: pytest.FixtureRequest, redis: Redis, namespace: str) -> Pacer:
    policy = PacingPolicy(default_rate=LIMIT)
    if request.param == "local":
        return LocalPacer(policy)
    return RedisPacer(redis, policy, namespace=namespace)


class TestAStreamOf502s:
    async def test_every_read_finishes_within_the_limit_and_the_pace_is_not_collapsed(
        self,
        start_site: SiteFactory,
        graph: FixtureGraph,
        http: aiohttp.ClientSession,
        pacer: Pacer,
        redis: Redis,
        namespace: str,
    ) -> None:
        site = await start_site(rate_limit=LIMIT, error_rate=ERROR_RATE, error_scope="all")
        endpoints = endpoints_of(site)
        fetcher = Fetcher(http, pacer=pacer, allowed_hosts=endpoints.hosts(), retry=RETRIES)
        client = SoundCloudClient(fetcher, endpoints)
        wanted = [user.id for user in graph.users[:ARTISTS]]

        async with asyncio.timeout(PATIENCE_SECONDS):
            users = await asyncio.gather(*(client.user(user_id) for user_id in wanted))

        assert [user.id for user in users] == wanted
        counts = site.counts()["api"]
        assert counts[502] > 0
        assert counts[429] == 0
        assert fetcher.stats.retries == counts[502]
        assert site.max_in_window("api") <= LIMIT
        # The trickle of 502s never counted as "too fast": the rate was never lowered.
        api = domain_of(site.api_url)
        if isinstance(pacer, LocalPacer):
            assert pacer._domains[api].factor == 1.0
        else:
            assert await redis.exists(f"{namespace}:pace:{api}") == 1
            assert await redis.hget(f"{namespace}:pace:{api}", "factor") is None
