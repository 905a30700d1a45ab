"""The fetcher against a real HTTP server on loopback: retries, redirects, allowed hosts, stats
and pacing, seen from the server's side where it matters (what arrived, and when)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from core.pacing import PacingPolicy
from scraping.errors import DisallowedHost, FetchError, HostBusy, MalformedPage
from scraping.fetcher import (
    USER_AGENT,
    Fetcher,
    FetchStats,
    RetryPolicy,
    call_stats,
    pacing_wait_limit,
)
from scraping.pacing import LocalPacer
from tests.integration.scraping.conftest import RecordingPacer

pytestmark = pytest.mark.integration

# Tiny delays: the retry logic is under test, not the waiting.
FAST_RETRIES = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.01)


@dataclass
class Site:
    """A server that logs every request it receives, by path."""

    host: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    arrivals: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    user_agents: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{self.host}"


def build_app(site: Site) -> web.Application:
    @web.middleware
    async def log_request(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        site.arrivals[request.path].append(time.monotonic())
        site.hits[request.path] += 1
        site.user_agents.append(request.headers.get("User-Agent", ""))
        return await handler(request)

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "path": request.path})

    async def flaky(request: web.Request) -> web.Response:
        # /flaky/{key}/{status}/{times}: `status` for the first `times` requests, then 200.
        status, times = int(request.match_info["status"]), int(request.match_info["times"])
        if site.hits[request.path] <= times:
            body = "Please slow down." if status == 429 else "try again"
            return web.Response(status=status, text=body)
        return web.json_response({"ok": True})

    async def always(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["status"]), text="no")

    async def retry_after_zero(request: web.Request) -> web.Response:
        if site.hits[request.path] == 1:
            return web.Response(status=503, text="busy", headers={"Retry-After": "0"})
        return web.json_response({"ok": True})

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def loop(request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": request.path})

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>not an API answer</body></html>")

    app = web.Application(middlewares=[log_request])
    app.router.add_get("/ok", ok)
    app.router.add_get("/landing", ok)
    app.router.add_get("/paced/{key}", ok)
    app.router.add_get("/flaky/{key}/{status}/{times}", flaky)
    app.router.add_get("/status/{key}/{status}", always)
    app.router.add_get("/retry-after/{key}", retry_after_zero)
    app.router.add_get("/redirect/{key}", redirect)
    app.router.add_get("/loop/{key}", loop)
    app.router.add_get("/not-json", not_json)
    return app


async def start(site: Site) -> web.AppRunner:
    runner = web.AppRunner(build_app(site))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.host = "{}:{}".format(*runner.addresses[0][:2])
    return runner


@pytest.fixture(scope="module")
async def site() -> AsyncIterator[Site]:
    site = Site()
    runner = await start(site)
    yield site
    await runner.cleanup()


@pytest.fixture(scope="module")
async def outside() -> AsyncIterator[Site]:
    """Another server, not on the allowed list: nothing may ever reach it."""
    site = Site()
    runner = await start(site)
    yield site
    await runner.cleanup()


@pytest.fixture
def key() -> str:
    """A path segment of this test's own, so tests sharing the module's server never meet."""
    return uuid.uuid4().hex


@pytest.fixture
def pacer() -> RecordingPacer:
    return RecordingPacer()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def fetcher(session: aiohttp.ClientSession, pacer: RecordingPacer, site: Site) -> Fetcher:
    return Fetcher(session, pacer=pacer, allowed_hosts=[site.host], retry=FAST_RETRIES)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s)."""
    times = sorted(times)
    return max(
        sum(1 for later in times[i:] if later - start < 1.0) for i, start in enumerate(times)
    )


class TestSuccess:
    async def test_a_json_answer_is_parsed_and_counted(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site
    ) -> None:
        assert await fetcher.get_json(f"{site.base}/ok") == {"ok": True, "path": "/ok"}
        assert (fetcher.stats.requests, fetcher.stats.retries, fetcher.stats.failures) == (1, 0, 0)
        assert fetcher.stats.statuses == {"200": 1}
        assert pacer.calls == [("wait_turn", site.host)]

    async def test_requests_carry_the_scrapers_user_agent(
        self, fetcher: Fetcher, site: Site
    ) -> None:
        await fetcher.get_text(f"{site.base}/landing")
        assert site.user_agents[-1] == USER_AGENT

    async def test_the_snapshot_is_a_json_ready_summary(
        self, fetcher: Fetcher, site: Site, key: str
    ) -> None:
        await fetcher.get_json(f"{site.base}/flaky/{key}/502/1")
        fetcher.stats.count("artists", 3)
        snapshot = json.loads(json.dumps(fetcher.stats.snapshot()))
        assert {k: snapshot[k] for k in ("requests", "retries", "failures", "artists")} == {
            "requests": 2,
            "retries": 1,
            "failures": 0,
            "artists": 3,
        }
        assert snapshot["statuses"] == {"502": 1, "200": 1}
        assert snapshot["received_bytes"] > 0
        assert snapshot["mean_latency_ms"] is not None


class TestRetries:
    async def test_two_429s_are_retried_and_then_succeed(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str
    ) -> None:
        path = f"/flaky/{key}/429/2"
        assert await fetcher.get_json(site.base + path) == {"ok": True}
        assert site.hits[path] == 3
        stats = fetcher.stats
        assert (stats.requests, stats.retries, stats.failures) == (3, 2, 0)
        assert stats.statuses == {"429": 2, "200": 1}

    async def test_the_pacer_is_asked_before_every_attempt_and_slowed_on_each_429(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str
    ) -> None:
        await fetcher.get_json(f"{site.base}/flaky/{key}/429/2")
        assert pacer.calls == [
            ("wait_turn", site.host),
            ("slow_down", site.host),
            ("wait_turn", site.host),
            ("slow_down", site.host),
            ("wait_turn", site.host),
        ]

    async def test_the_pacer_is_told_each_status_so_it_can_tell_too_fast_from_failed(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str
    ) -> None:
        await fetcher.get_json(f"{site.base}/flaky/{key}/502/2")
        await fetcher.get_json(f"{site.base}/flaky/{key}-b/503/1")
        assert pacer.statuses == [502, 502, 503]

    async def test_a_408_is_retried(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str
    ) -> None:
        assert await fetcher.get_json(f"{site.base}/flaky/{key}/408/1") == {"ok": True}
        assert fetcher.stats.statuses == {"408": 1, "200": 1}
        assert (pacer.count("wait_turn"), pacer.count("slow_down")) == (2, 1)

    async def test_a_server_that_always_answers_502_fails_after_the_last_attempt(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str
    ) -> None:
        path = f"/status/{key}/502"
        with pytest.raises(FetchError, match="gave up after 3 attempts") as caught:
            await fetcher.get_bytes(site.base + path)
        assert caught.value.status == 502
        assert site.hits[path] == 3
        stats = fetcher.stats
        assert (stats.requests, stats.retries, stats.failures) == (3, 2, 1)
        assert stats.statuses == {"502": 3}
        assert (pacer.count("wait_turn"), pacer.count("slow_down")) == (3, 3)

    async def test_a_retry_after_header_is_honoured_over_a_long_backoff(
        self, session: aiohttp.ClientSession, pacer: RecordingPacer, site: Site, key: str
    ) -> None:
        # The backoff alone would wait 30 to 60 s; "Retry-After: 0" means retry now.
        slow_backoff = RetryPolicy(attempts=3, base_delay=60.0, max_delay=60.0)
        fetcher = Fetcher(session, pacer=pacer, allowed_hosts=[site.host], retry=slow_backoff)
        async with asyncio.timeout(20):
            assert await fetcher.get_json(f"{site.base}/retry-after/{key}") == {"ok": True}
        assert fetcher.stats.statuses == {"503": 1, "200": 1}
        assert pacer.count("slow_down") == 1

    async def test_an_unreachable_server_fails_with_no_status_after_every_attempt(
        self, session: aiohttp.ClientSession, pacer: RecordingPacer
    ) -> None:
        host = f"127.0.0.1:{closed_port()}"
        fetcher = Fetcher(session, pacer=pacer, allowed_hosts=[host], retry=FAST_RETRIES)
        with pytest.raises(FetchError, match="no answer") as caught:
            await fetcher.get_bytes(f"http://{host}/ok")
        assert caught.value.status is None
        stats = fetcher.stats
        assert (stats.requests, stats.retries, stats.failures) == (3, 2, 1)
        assert stats.statuses == {"error": 3}
        assert (pacer.count("wait_turn"), pacer.count("slow_down")) == (3, 3)


class TestAnswersThatAreNotRetried:
    @pytest.mark.parametrize("status", [401, 403, 404])
    async def test_a_client_error_fails_at_once_without_slowing_the_domain(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str, status: int
    ) -> None:
        path = f"/status/{key}/{status}"
        with pytest.raises(FetchError, match=f"HTTP {status}") as caught:
            await fetcher.get_bytes(site.base + path)
        assert caught.value.status == status
        assert site.hits[path] == 1
        stats = fetcher.stats
        assert (stats.requests, stats.retries, stats.failures) == (1, 0, 1)
        assert stats.statuses == {str(status): 1}
        assert pacer.calls == [("wait_turn", site.host)]

    async def test_a_body_that_is_not_json_is_a_malformed_page(
        self, fetcher: Fetcher, site: Site
    ) -> None:
        with pytest.raises(MalformedPage, match="not JSON"):
            await fetcher.get_json(f"{site.base}/not-json")
        assert fetcher.stats.snapshot()["malformed"] == 1
        assert (fetcher.stats.requests, fetcher.stats.retries) == (1, 0)


class TestRedirects:
    @pytest.mark.parametrize("target", ["/landing", "{base}/landing"])
    async def test_a_redirect_within_the_allowed_hosts_is_followed(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, key: str, target: str
    ) -> None:
        location = target.format(base=site.base)
        answer = await fetcher.get_json(f"{site.base}/redirect/{key}", {"to": location})
        assert answer == {"ok": True, "path": "/landing"}
        assert fetcher.stats.statuses == {"302": 1, "200": 1}
        assert pacer.count("wait_turn") == 2

    async def test_a_redirect_to_another_host_is_refused_and_never_followed(
        self, fetcher: Fetcher, site: Site, outside: Site, key: str
    ) -> None:
        with pytest.raises(DisallowedHost):
            await fetcher.get_bytes(
                f"{site.base}/redirect/{key}", {"to": f"{outside.base}/landing"}
            )
        assert site.hits[f"/redirect/{key}"] == 1
        assert outside.hits == {}

    async def test_a_redirect_to_another_name_for_the_same_server_is_refused(
        self, fetcher: Fetcher, site: Site, key: str
    ) -> None:
        port = site.host.rsplit(":", 1)[1]
        with pytest.raises(DisallowedHost):
            await fetcher.get_bytes(
                f"{site.base}/redirect/{key}", {"to": f"http://localhost:{port}/{key}"}
            )
        assert site.hits[f"/{key}"] == 0

    async def test_a_redirect_loop_ends_in_a_fetch_error(
        self, fetcher: Fetcher, site: Site, key: str
    ) -> None:
        with pytest.raises(FetchError, match="redirects"):
            await fetcher.get_bytes(f"{site.base}/loop/{key}")
        assert site.hits[f"/loop/{key}"] == 6


class TestAllowedHosts:
    @pytest.mark.parametrize(
        "url",
        [
            "http://soundcloud.evil.example/ok",
            "http://{other}/ok",
            "http://user@{host}/ok",
            "ftp://{host}/ok",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "//{host}/ok",
            "http:///ok",
        ],
    )
    async def test_a_url_outside_the_allowed_hosts_is_refused_before_any_request(
        self, fetcher: Fetcher, pacer: RecordingPacer, site: Site, outside: Site, url: str
    ) -> None:
        before = sum(site.hits.values())
        with pytest.raises(DisallowedHost):
            await fetcher.get_bytes(url.format(host=site.host, other=outside.host))
        assert pacer.calls == []
        assert fetcher.stats.requests == 0
        assert sum(site.hits.values()) == before
        assert outside.hits == {}

    async def test_allowed_hosts_match_without_regard_to_case(
        self, session: aiohttp.ClientSession, site: Site
    ) -> None:
        fetcher = Fetcher(session, allowed_hosts=[site.host.upper()], retry=FAST_RETRIES)
        assert (await fetcher.get_json(f"{site.base}/ok"))["ok"] is True


class TestPacing:
    async def test_the_server_never_sees_more_than_the_rate_in_any_second(
        self, session: aiohttp.ClientSession, site: Site, key: str
    ) -> None:
        rate = 20
        fetcher = Fetcher(
            session,
            pacer=LocalPacer(PacingPolicy(default_rate=rate)),
            allowed_hosts=[site.host],
            retry=FAST_RETRIES,
        )
        path = f"/paced/{key}"
        await asyncio.gather(*(fetcher.get_bytes(site.base + path) for _ in range(30)))
        arrivals = site.arrivals[path]
        assert len(arrivals) == 30
        # 30 requests at once, but spread out: no second of the server's clock holds more
        # than 20 of them (so they were not all sent at once).
        assert busiest_second(arrivals) <= rate


class TestPerCallStats:
    async def test_a_call_with_its_own_stats_sees_its_requests_and_counters_only(
        self, fetcher: Fetcher, site: Site, key: str
    ) -> None:
        async def call(path: str) -> FetchStats:
            mine = FetchStats()
            call_stats.set(mine)  # in this task's context only
            with contextlib.suppress(MalformedPage):
                await fetcher.get_json(site.base + path)
            fetcher.stats.count("artists")  # as SoundCloudClient and the scraper count
            return mine

        flaky, broken = await asyncio.gather(
            asyncio.create_task(call(f"/flaky/{key}/502/1")),
            asyncio.create_task(call("/not-json")),
        )
        assert (flaky.requests, flaky.retries, flaky.failures) == (2, 1, 0)
        assert flaky.statuses == {"502": 1, "200": 1}
        assert flaky.counters == {"artists": 1}
        assert (broken.requests, broken.retries) == (1, 0)
        assert broken.counters == {"malformed": 1, "artists": 1}
        # The fetcher's own stats still hold everything.
        assert fetcher.stats.requests == 3
        assert fetcher.stats.counters == {"malformed": 1, "artists": 2}

    async def test_a_failure_is_counted_for_the_call(
        self, fetcher: Fetcher, site: Site, key: str
    ) -> None:
        mine = FetchStats()
        token = call_stats.set(mine)
        try:
            with pytest.raises(FetchError):
                await fetcher.get_bytes(f"{site.base}/status/{key}/404")
        finally:
            call_stats.reset(token)
        assert (mine.requests, mine.failures) == (1, 1)
        await fetcher.get_bytes(f"{site.base}/ok")
        assert mine.requests == 1


class TestPerCallWaitBound:
    async def test_a_slot_further_away_than_the_calls_bound_is_not_taken(
        self, session: aiohttp.ClientSession, site: Site, key: str
    ) -> None:
        # One request per 100 s: after the first, the next slot is far away.
        fetcher = Fetcher(
            session,
            pacer=LocalPacer(PacingPolicy(default_rate=0.01)),
            allowed_hosts=[site.host],
            retry=FAST_RETRIES,
        )
        path = f"/paced/{key}"
        await fetcher.get_bytes(site.base + path)
        token = pacing_wait_limit.set(0.5)
        try:
            with pytest.raises(HostBusy):
                await fetcher.get_bytes(site.base + path)
        finally:
            pacing_wait_limit.reset(token)
        assert site.hits[path] == 1
        assert fetcher.stats.counters["pacing_busy"] == 1

    @pytest.mark.parametrize(
        ("own", "per_call", "asked"),
        [(None, None, None), (5.0, None, 5.0), (None, 0.1, 0.1), (5.0, 0.1, 0.1), (0.1, 5.0, 0.1)],
    )
    async def test_the_bound_is_the_smaller_of_the_fetchers_and_the_calls(
        self,
        session: aiohttp.ClientSession,
        pacer: RecordingPacer,
        site: Site,
        own: float | None,
        per_call: float | None,
        asked: float | None,
    ) -> None:
        fetcher = Fetcher(session, pacer=pacer, allowed_hosts=[site.host], max_pacing_wait=own)
        token = pacing_wait_limit.set(per_call)
        try:
            await fetcher.get_bytes(f"{site.base}/ok")
        finally:
            pacing_wait_limit.reset(token)
        assert pacer.max_waits == [asked]
