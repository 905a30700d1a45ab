"""The robots.txt policy through the fetcher: read once per host and kept, obeyed without a
request for what it disallows, and what a missing or failing robots.txt means."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from scraping.errors import FetchError, RobotsDisallowed
from scraping.fetcher import Fetcher, RetryPolicy
from scraping.fixture import FixtureGraph
from scraping.robots import RobotsPolicy
from scraping.soundcloud import SoundCloudClient
from tests.integration.scraping.conftest import SiteFactory, endpoints_of

pytestmark = pytest.mark.integration

FAST_RETRIES = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.001)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RobotsSite:
    """A server whose robots.txt answer the test sets; every request is counted by path."""

    robots_status: int = 200
    robots_body: str = "User-agent: *\nDisallow: /private\n"
    host: str = ""
    hits: Counter[str] = field(default_factory=Counter)

    @property
    def base(self) -> str:
        return f"http://{self.host}"


@pytest.fixture
async def robots_site() -> AsyncIterator[RobotsSite]:
    state = RobotsSite()

    async def robots(request: web.Request) -> web.Response:
        state.hits[request.path] += 1
        return web.Response(status=state.robots_status, text=state.robots_body)

    async def page(request: web.Request) -> web.Response:
        state.hits[request.path] += 1
        return web.Response(text="page")

    app = web.Application()
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/{path:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state.host = f"127.0.0.1:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()


def fetcher_for(
    http: aiohttp.ClientSession, site: RobotsSite, robots: RobotsPolicy | None
) -> Fetcher:
    return Fetcher(http, allowed_hosts=[site.host], retry=FAST_RETRIES, robots=robots)


class TestObeyingTheFixtureSite:
    async def test_a_disallowed_profile_is_skipped_without_a_request(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        hidden, shown = graph.users[0], graph.users[1]
        site = await start_site(robots_disallowed={"web": [f"/{hidden.permalink}"]})
        endpoints = endpoints_of(site)
        fetcher = Fetcher(http, allowed_hosts=endpoints.hosts(), robots=RobotsPolicy())
        client = SoundCloudClient(fetcher, endpoints, client_id=site.client_id)

        with pytest.raises(RobotsDisallowed):
            await client.profile(hidden.permalink)
        assert (await client.profile(shown.permalink)).id == shown.id
        assert (await client.user(shown.id)).id == shown.id

        paths = [(entry.listener, entry.path) for entry in site.log]
        assert ("web", f"/{hidden.permalink}") not in paths
        assert paths.count(("web", "/robots.txt")) == 1
        assert paths.count(("api", "/robots.txt")) == 1
        assert fetcher.stats.counters["robots_disallowed"] == 1

    async def test_without_a_policy_robots_txt_is_neither_read_nor_obeyed(
        self, start_site: SiteFactory, graph: FixtureGraph, http: aiohttp.ClientSession
    ) -> None:
        hidden = graph.users[0]
        site = await start_site(robots_disallowed={"web": [f"/{hidden.permalink}"]})
        endpoints = endpoints_of(site)
        client = SoundCloudClient(Fetcher(http, allowed_hosts=endpoints.hosts()), endpoints)

        assert (await client.profile(hidden.permalink)).id == hidden.id
        assert all(entry.path != "/robots.txt" for entry in site.log)


class TestReadingRobotsTxt:
    async def test_it_is_read_once_for_many_requests_at_once_and_kept_until_its_ttl(
        self, http: aiohttp.ClientSession, robots_site: RobotsSite
    ) -> None:
        clock = Clock()
        fetcher = fetcher_for(http, robots_site, RobotsPolicy(ttl=3600, clock=clock))
        pages = [f"{robots_site.base}/page/{n}" for n in range(10)]
        await asyncio.gather(*(fetcher.get_bytes(url) for url in pages))
        assert robots_site.hits["/robots.txt"] == 1

        robots_site.robots_body = "User-agent: *\nDisallow: /page/3\n"
        await fetcher.get_bytes(f"{robots_site.base}/page/3")  # the old rules still hold
        clock.now += 3601
        with pytest.raises(RobotsDisallowed):
            await fetcher.get_bytes(f"{robots_site.base}/page/3")
        assert robots_site.hits["/robots.txt"] == 2

    async def test_rules_for_other_agents_do_not_apply_to_ours(
        self, http: aiohttp.ClientSession, robots_site: RobotsSite
    ) -> None:
        robots_site.robots_body = (
            "User-agent: OtherBot\nDisallow: /\n\nUser-agent: CampaignManager\nDisallow: /mine\n"
        )
        fetcher = fetcher_for(http, robots_site, RobotsPolicy())
        assert await fetcher.get_bytes(f"{robots_site.base}/page") == b"page"
        with pytest.raises(RobotsDisallowed):
            await fetcher.get_bytes(f"{robots_site.base}/mine/1")
        assert robots_site.hits["/mine/1"] == 0

    async def test_query_strings_are_matched_too(
        self, http: aiohttp.ClientSession, robots_site: RobotsSite
    ) -> None:
        robots_site.robots_body = "User-agent: *\nDisallow: /list?secret\n"
        fetcher = fetcher_for(http, robots_site, RobotsPolicy())
        with pytest.raises(RobotsDisallowed):
            await fetcher.get_bytes(f"{robots_site.base}/list", {"secret": "1"})
        assert await fetcher.get_bytes(f"{robots_site.base}/list", {"open": "1"}) == b"page"

    @pytest.mark.parametrize("status", [401, 403, 404, 410])
    async def test_a_client_error_means_there_are_no_rules(
        self, http: aiohttp.ClientSession, robots_site: RobotsSite, status: int
    ) -> None:
        robots_site.robots_status = status
        fetcher = fetcher_for(http, robots_site, RobotsPolicy())
        assert await fetcher.get_bytes(f"{robots_site.base}/private") == b"page"
        await fetcher.get_bytes(f"{robots_site.base}/private")
        assert robots_site.hits["/robots.txt"] == 1

    async def test_a_failing_robots_txt_allows_for_now_and_is_read_again_soon(
        self, http: aiohttp.ClientSession, robots_site: RobotsSite
    ) -> None:
        robots_site.robots_status = 503
        clock = Clock()
        policy = RobotsPolicy(ttl=3600, retry_after=60, clock=clock)
        fetcher = fetcher_for(http, robots_site, policy)
        assert await fetcher.get_bytes(f"{robots_site.base}/private") == b"page"
        reads = robots_site.hits["/robots.txt"]  # the fetcher's retries included

        robots_site.robots_status = 200
        await fetcher.get_bytes(f"{robots_site.base}/private")
        assert robots_site.hits["/robots.txt"] == reads
        clock.now += 61
        with pytest.raises(RobotsDisallowed):
            await fetcher.get_bytes(f"{robots_site.base}/private")
        assert robots_site.hits["/robots.txt"] == reads + 1

    async def test_rules_read_before_keep_applying_while_robots_txt_fails(
        self, http: aiohttp.ClientSession, robots_site: RobotsSite
    ) -> None:
        clock = Clock()
        fetcher = fetcher_for(http, robots_site, RobotsPolicy(ttl=3600, clock=clock))
        with pytest.raises(RobotsDisallowed):
            await fetcher.get_bytes(f"{robots_site.base}/private")
        robots_site.robots_status = 502
        clock.now += 3601
        with pytest.raises(RobotsDisallowed):
            await fetcher.get_bytes(f"{robots_site.base}/private")
        assert robots_site.hits["/private"] == 0

    async def test_an_unreachable_host_is_not_held_against_it(
        self, http: aiohttp.ClientSession
    ) -> None:
        # Nothing listens: robots.txt cannot be read, the page cannot either; the error the
        # caller sees is about the page, not a refusal.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            host = f"127.0.0.1:{sock.getsockname()[1]}"
        fetcher = Fetcher(http, allowed_hosts=[host], retry=FAST_RETRIES, robots=RobotsPolicy())
        with pytest.raises(FetchError, match="no answer") as caught:
            await fetcher.get_bytes(f"http://{host}/page")
        assert not isinstance(caught.value, RobotsDisallowed)
        assert fetcher.stats.counters["robots_disallowed"] == 0
