"""The fetcher's response cache against the fixture site: a fresh answer is read again without
a request, whatever the client id; a stale one is fetched again, or revalidated with its ETag."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import pytest

from scraping.errors import FetchError
from scraping.fetcher import Fetcher
from scraping.fixture import FixtureGraph, FixtureSite
from scraping.response_cache import ResponseCache
from scraping.soundcloud import SoundCloudClient
from tests.integration.scraping.conftest import FAST_RETRIES, SiteFactory, endpoints_of

pytestmark = pytest.mark.integration


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def client_with_cache(
    site: FixtureSite, http: aiohttp.ClientSession, cache: ResponseCache
) -> SoundCloudClient:
    endpoints = endpoints_of(site)
    fetcher = Fetcher(http, allowed_hosts=endpoints.hosts(), retry=FAST_RETRIES, cache=cache)
    return SoundCloudClient(fetcher, endpoints, client_id=site.client_id)


def requests_for(site: FixtureSite, path: str) -> list[int]:
    return [entry.status for entry in site.log if entry.path == path]


class TestFreshAnswers:
    async def test_reading_a_fresh_profile_again_sends_no_request(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_with_cache(site, http, ResponseCache(300))
        user = graph.users[0]
        first = await client.profile(user.permalink)
        again = await client.profile(user.permalink)
        assert first == again
        assert requests_for(site, f"/{user.permalink}") == [200]
        assert client.fetcher.stats.counters["cache_hits"] == 1
        assert client.fetcher.stats.requests == 1

    async def test_another_client_id_still_hits(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_with_cache(site, http, ResponseCache(300))
        user = graph.users[0]
        await client.user(user.id)
        old = await client.client_id()
        site.expire_client_id()
        # The home page, where the new id is read, is never answered from the cache.
        assert await client.refresh_client_id() != old
        assert (await client.user(user.id)).id == user.id
        assert requests_for(site, f"/users/{user.id}") == [200]
        assert client.fetcher.stats.counters["cache_hits"] == 1

    async def test_an_expired_answer_is_fetched_again(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site(etags=False)
        clock = Clock()
        client = client_with_cache(site, http, ResponseCache(300, clock=clock))
        user = graph.users[0]
        await client.user(user.id)
        clock.now += 301
        await client.user(user.id)
        assert requests_for(site, f"/users/{user.id}") == [200, 200]
        assert client.fetcher.stats.counters["cache_hits"] == 0

    async def test_a_stale_answer_with_an_etag_is_revalidated_with_a_304(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        clock = Clock()
        client = client_with_cache(site, http, ResponseCache(300, clock=clock))
        user = graph.users[0]
        first = await client.user(user.id)
        clock.now += 301
        assert await client.user(user.id) == first
        assert await client.user(user.id) == first  # fresh again after the 304
        assert requests_for(site, f"/users/{user.id}") == [200, 304]
        counters = client.fetcher.stats.counters
        assert (counters["cache_revalidated"], counters["cache_hits"]) == (1, 1)

    async def test_a_ttl_of_zero_turns_the_cache_off(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        client = client_with_cache(site, http, ResponseCache(0))
        user = graph.users[0]
        await client.user(user.id)
        await client.user(user.id)
        assert requests_for(site, f"/users/{user.id}") == [200, 200]

    async def test_error_answers_are_never_kept(
        self, start_site: SiteFactory, http: aiohttp.ClientSession
    ) -> None:
        site = await start_site()
        endpoints = endpoints_of(site)
        fetcher = Fetcher(
            http, allowed_hosts=endpoints.hosts(), retry=FAST_RETRIES, cache=ResponseCache(300)
        )
        for _ in range(2):
            with pytest.raises(FetchError, match="404"):
                await fetcher.get_bytes(f"{site.web_url}/no-such-artist-anywhere/x/y")
        assert len(requests_for(site, "/no-such-artist-anywhere/x/y")) == 2
