"""The SoundCloud-shaped fixture site for the scraping tests: one graph and one well-behaved
site for the whole session, sites with failure modes switched on per test, and SoundCloud
clients pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from scraping.fetcher import Fetcher, RetryPolicy
from scraping.fixture import FixtureGraph, FixtureSite
from scraping.soundcloud import SoundCloudClient, SoundCloudEndpoints

GRAPH_ARTISTS = 2_000
# Tiny delays: the retry logic is under test, not the waiting.
FAST_RETRIES = RetryPolicy(attempts=4, base_delay=0.005, max_delay=0.02)

SiteFactory = Callable[..., Awaitable[FixtureSite]]


@pytest.fixture(scope="session")
def graph() -> FixtureGraph:
    return FixtureGraph(GRAPH_ARTISTS, seed=7)


@pytest.fixture(scope="session")
async def site(graph: FixtureGraph) -> AsyncIterator[FixtureSite]:
    """A well-behaved site: no rate limit, no 502s, a client id that only changes on demand.

    Shared by the session: a test that reads ``site.log`` or expires the client id starts
    its own site with ``start_site`` instead.
    """
    async with FixtureSite(graph, error_rate=0.0) as running:
        yield running


@pytest.fixture
async def start_site(graph: FixtureGraph) -> AsyncIterator[SiteFactory]:
    """Start a site over the session's graph with the given options; stopped after the
    test."""
    started: list[FixtureSite] = []

    async def start(**options: Any) -> FixtureSite:
        options.setdefault("error_rate", 0.0)
        running = FixtureSite(graph, **options)
        await running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def endpoints_of(site: FixtureSite) -> SoundCloudEndpoints:
    # The fixture serves its JS bundles from the web listener.
    return SoundCloudEndpoints(web_url=site.web_url, api_url=site.api_url, assets_url=site.web_url)


def client_for(
    site: FixtureSite,
    http: aiohttp.ClientSession,
    *,
    client_id: str | None = None,
    page_size: int = 200,
) -> SoundCloudClient:
    """A client on ``site`` with a fetcher of its own (so its stats are the test's alone)."""
    endpoints = endpoints_of(site)
    fetcher = Fetcher(http, allowed_hosts=endpoints.hosts(), retry=FAST_RETRIES)
    return SoundCloudClient(fetcher, endpoints, client_id=client_id, page_size=page_size)


@pytest.fixture
def client(site: FixtureSite, http: aiohttp.ClientSession) -> SoundCloudClient:
    return client_for(site, http)


class RecordingPacer:
    """A pacer that lets everything through and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.max_waits: list[float | None] = []
        """The ``max_wait`` of each turn asked for."""
        self.statuses: list[int | None] = []
        """The status of each slowdown reported."""

    async def wait_turn(self, domain: str, max_wait: float | None = None) -> bool:
        self.calls.append(("wait_turn", domain))
        self.max_waits.append(max_wait)
        return True

    async def slow_down(self, domain: str, status: int | None = 429) -> None:
        self.calls.append(("slow_down", domain))
        self.statuses.append(status)

    def count(self, what: str) -> int:
        return sum(1 for call, _ in self.calls if call == what)

    @property
    def turns(self) -> list[str]:
        """The domains whose turn was asked for, in order."""
        return [domain for call, domain in self.calls if call == "wait_turn"]
