"""Scraper actors: each holds one HTTP session, a SoundCloud client and (lazily) a headless
Chromium, and does the fetching and parsing a discovery job fans out to it.

Every actor paces its requests through the same Redis schedule (``storage.pacing.RedisPacer``),
so the per-host rate holds across the whole cluster however many actors and nodes there are.
Answers are small picklable records; nothing here touches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import aiohttp
import ray

from actors.named import named_actor
from core import metrics, telemetry
from core.discovery import Candidate, DiscoveryQuery, matches, score
from core.pacing import FailureBreaker, PacingPolicy
from core.settings import Settings
from scraping.browser import BrowserUnavailable, LinkRenderer
from scraping.contacts import (
    ContactFindings,
    contacts_from_link_in_bio,
    contacts_from_profile,
    links_from_html,
)
from scraping.errors import FetchError, HostBusy, ScrapeError
from scraping.fetcher import (
    Fetcher,
    FetchStats,
    RetryPolicy,
    call_stats,
    domain_of,
    pacing_wait_limit,
)
from scraping.objects import SoundCloudTrack, SoundCloudUser, UserLead
from scraping.response_cache import ResponseCache
from scraping.robots import RobotsPolicy
from scraping.soundcloud import SoundCloudClient, SoundCloudEndpoints
from storage.pacing import RedisPacer
from storage.redis_client import create_redis

T = TypeVar("T")
LeadSource = Literal["term", "genre", "tag", "seed"]
# Link-in-bio pages read per artist: the first one or two carry everything.
MAX_LINK_IN_BIO_PAGES = 2
# Link-in-bio hosts are optional: the walk goes on at SoundCloud's pace whatever they do. A page
# whose pacing slot is more than this many seconds away is skipped (and counted) ...
LINK_IN_BIO_MAX_WAIT_SECONDS = 5.0
# ... one that does not answer is tried twice, each try within this bound (and within the
# artist's CM_LINK_IN_BIO_BUDGET_SECONDS in all) ...
LINK_IN_BIO_REQUEST_SECONDS = 10.0
LINK_IN_BIO_RETRIES = RetryPolicy(attempts=2, base_delay=0.5, max_delay=2.0)
# ... and a host that failed this many times in a row is left alone for the cool-down, in each
# scraper actor.
LINK_IN_BIO_FAILURES = 3
LINK_IN_BIO_COOLDOWN_SECONDS = 60.0
# Pool members (jobs) refresh their presence this often, and stop counting this long after
# their last heartbeat (a job whose process died).
HEARTBEAT_SECONDS = 2.0
MEMBER_TTL_SECONDS = 15.0
# A call whose actor died for good goes to its replacement, this many tries in all, waiting a
# little longer each time (the dead actor's name must be released first).
CALL_ATTEMPTS = 4
REPLACE_DELAY_SECONDS = 0.25
# How often an idle actor looks at its clock.
IDLE_CHECK_SECONDS = 5.0
# The settings a scraper actor is built from: callers that agree on all of them share actors.
SCRAPER_SETTINGS = (
    "redis_url",
    "soundcloud_web_url",
    "soundcloud_api_url",
    "soundcloud_link_in_bio_hosts",
    "soundcloud_client_id",
    "soundcloud_requests_per_second",
    "link_in_bio_requests_per_second",
    "scraper_concurrency",
    "scraper_idle_seconds",
    "scraper_robots_txt",
    "scraper_cache_seconds",
    "link_in_bio_budget_seconds",
    "chromium_path",
)

log = logging.getLogger(__name__)
# Tracks read per artist for its genres and last activity.
TRACKS_PER_ARTIST = 10


@dataclass(frozen=True)
class Skipped:
    """A page that could not be read or parsed: counted by the job, never fatal to it.

    Returned rather than raised: scraping's exceptions carry arguments that do not survive the
    trip between processes, and a skip is an expected outcome, not a failure of the call.
    """

    reason: str  # the ScrapeError's class name: FetchError, MalformedPage, DisallowedHost ...
    detail: str
    status: int | None = None  # a FetchError's last HTTP status (None: none, or no answer)
    host_failing: bool = False  # a FetchError that says the host, not the page, failed


@dataclass(frozen=True)
class ArtistDetails:
    """One artist fully read: profile, genres and activity from its tracks, contacts found."""

    user: SoundCloudUser
    genres: list[str]
    last_track_at: datetime | None
    emails: list[tuple[str, str]] = field(default_factory=list)  # (address, ContactSource)
    profiles: list[tuple[str, str, str | None]] = field(default_factory=list)  # platform, url, user
    # Why each link-in-bio page that was not read was left: link_in_bio_busy, _host_down,
    # _timeout or _failed (the walk counts them as skipped_<reason>).
    unread_pages: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Found:
    """An artist that matched the query: exactly what the job writes for it."""

    record: dict[str, Any]  # the catalogue row (see ``catalogue_record``), without fetched_at
    emails: list[tuple[str, str]]
    profiles: list[tuple[str, str, str | None]]
    score: float


@dataclass(frozen=True, slots=True)
class Visit:
    """One artist read and judged, and (when the walk goes on from it) its neighbours: all a
    walk needs from reading one artist, and no more (a filtered-out artist carries no profile)."""

    soundcloud_id: int
    depth: int
    outcome: Found | Skipped | None  # None: read, and filtered out by the query
    unread_pages: tuple[str, ...] = ()
    leads: list[UserLead] | Skipped | None = None  # None: not expanded


@dataclass(frozen=True, slots=True)
class Reply(Generic[T]):
    """A scraper actor's answer and what answering it cost in requests (the caller's own
    counters: the actor serves several jobs at once)."""

    value: T
    stats: FetchStats


def pacing_policy(settings: Settings) -> PacingPolicy:
    """Per-host rates from settings: SoundCloud's two hosts and the link-in-bio hosts."""
    endpoints = endpoints_of(settings)
    rates: dict[str, float | None] = dict.fromkeys(
        settings.link_in_bio_hosts, settings.link_in_bio_requests_per_second or None
    )
    for host in endpoints.hosts():
        rates[host] = settings.soundcloud_requests_per_second or None
    return PacingPolicy(rates=rates)


def endpoints_of(settings: Settings) -> SoundCloudEndpoints:
    return SoundCloudEndpoints(
        web_url=settings.soundcloud_web_url, api_url=settings.soundcloud_api_url
    )


def candidate_of(details: ArtistDetails) -> Candidate:
    """What the query's filters and the score look at."""
    user = details.user
    return Candidate(
        followers=user.followers_count,
        tracks=user.track_count,
        verified=user.verified,
        has_email=bool(details.emails),
        has_profiles=bool(details.profiles),
        last_track_at=details.last_track_at,
        city=user.city,
        country=user.country_code,
    )


def catalogue_record(details: ArtistDetails) -> dict[str, Any]:
    """The artist's catalogue row, cut to the columns' sizes (the writer adds ``fetched_at``)."""
    user = details.user
    name = user.username or user.full_name or user.permalink
    return {
        "soundcloud_id": user.id,
        "name": name[:300],
        "soundcloud_username": user.username[:300] if user.username else None,
        "permalink": user.permalink[:300],
        "permalink_url": user.permalink_url[:500] if user.permalink_url else None,
        "description": user.description,
        "genres": details.genres,
        "city": user.city[:200] if user.city else None,
        "country": user.country_code,
        "followers": user.followers_count or 0,
        "tracks": user.track_count or 0,
        "verified": user.verified,
        "avatar_url": user.avatar_url if user.avatar_url and len(user.avatar_url) <= 500 else None,
    }


def _top_genres(tracks: Sequence[SoundCloudTrack], limit: int = 3) -> list[str]:
    counts: dict[str, int] = {}
    for track in tracks:
        if track.genre:
            key = " ".join(track.genre.split()).lower()
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda genre: -counts[genre])[:limit]


class Scraper:
    """The work of one scraper actor, usable without Ray (tests, the benchmark)."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url is None:
            raise ValueError("a scraper needs CM_REDIS_URL resolved (its pacing is kept there)")
        self.settings = settings
        self.stats = FetchStats()
        self._redis = create_redis(settings.redis_url)
        self._pacer = RedisPacer(self._redis, pacing_policy(settings))
        self._endpoints = endpoints_of(settings)
        self._session: aiohttp.ClientSession | None = None
        self._client: SoundCloudClient | None = None
        self._fetcher: Fetcher | None = None
        self._links_fetcher: Fetcher | None = None
        # One robots.txt reading and one response cache for both fetchers.
        self._robots = RobotsPolicy() if settings.scraper_robots_txt == "obey" else None
        self._cache = ResponseCache(settings.scraper_cache_seconds)
        self._link_hosts = FailureBreaker(LINK_IN_BIO_FAILURES, LINK_IN_BIO_COOLDOWN_SECONDS)
        self._renderer: LinkRenderer | None = None
        self._started = asyncio.Lock()

    async def _ready(self) -> tuple[SoundCloudClient, Fetcher]:
        """The SoundCloud client and the link-in-bio fetcher, made on first use."""
        async with self._started:
            if self._client is None or self._links_fetcher is None:
                connector = aiohttp.TCPConnector(limit=self.settings.scraper_concurrency * 2)
                self._session = aiohttp.ClientSession(
                    connector=connector, trace_configs=[telemetry.client_trace_config()]
                )
                self._fetcher = Fetcher(
                    self._session,
                    pacer=self._pacer,
                    allowed_hosts=self._endpoints.hosts(),
                    stats=self.stats,
                    robots=self._robots,
                    cache=self._cache,
                    host_class=metrics.HOST_SOUNDCLOUD,
                )
                self._client = SoundCloudClient(
                    self._fetcher, self._endpoints, client_id=self.settings.soundcloud_client_id
                )
                # A fetcher of its own: short retries, bounded turns, so that waiting on an
                # optional host never takes the time SoundCloud's requests need.
                self._links_fetcher = Fetcher(
                    self._session,
                    pacer=self._pacer,
                    allowed_hosts=self.settings.link_in_bio_hosts,
                    retry=LINK_IN_BIO_RETRIES,
                    stats=self.stats,
                    timeout=min(
                        LINK_IN_BIO_REQUEST_SECONDS, self.settings.link_in_bio_budget_seconds
                    ),
                    max_pacing_wait=LINK_IN_BIO_MAX_WAIT_SECONDS,
                    robots=self._robots,
                    cache=self._cache,
                    host_class=metrics.HOST_LINK_IN_BIO,
                )
            return self._client, self._links_fetcher

    async def leads(self, source: LeadSource, value: str, limit: int) -> list[UserLead]:
        """Artists to start from: users matching a term, makers of tracks in a genre or with a
        tag, or one seed profile."""
        client, _ = await self._ready()
        if source == "seed":
            return [UserLead.of(await client.profile(value))]
        found: dict[int, UserLead] = {}
        if source == "term":
            async for user in client.search_users(value, limit=limit):
                found.setdefault(user.id, UserLead.of(user))
            return list(found.values())
        tracks = (
            client.search_tracks("*", genre_or_tag=value, limit=limit)
            if source == "genre"
            else client.recent_tracks(value, limit=limit)
        )
        async for track in tracks:
            if track.user is not None:
                found.setdefault(track.user.id, UserLead.of(track.user))
            elif track.user_id is not None:
                found.setdefault(track.user_id, UserLead(track.user_id, None, False))
        return list(found.values())

    async def neighbours(
        self, soundcloud_id: int, expand: Sequence[str], limit: int
    ) -> list[UserLead]:
        """Artists one step away: related artists and followings, each read only as far as
        ranking it needs (id, followers, verified)."""
        client, _ = await self._ready()
        found: dict[int, UserLead] = {}
        for list_name in expand:
            async for lead in client.neighbour_leads(soundcloud_id, list_name, limit=limit):
                if lead.id != soundcloud_id:
                    found.setdefault(lead.id, lead)
        return list(found.values())

    async def visit(
        self, soundcloud_id: int, depth: int, query: DiscoveryQuery, limit: int
    ) -> Visit:
        """Read an artist and judge it; read its neighbours too when the walk goes on from it:
        always from a seed (depth 0), from later artists only when they matched (their
        neighbourhood is the query's)."""
        details = await _or_skipped(self.details(soundcloud_id))
        if isinstance(details, Skipped):
            return Visit(soundcloud_id, depth, details)
        now = datetime.now(UTC)
        candidate = candidate_of(details)
        matched = matches(query, candidate, now=now)
        leads: list[UserLead] | Skipped | None = None
        if depth < query.max_depth and query.expand and (matched or depth == 0):
            leads = await _or_skipped(self.neighbours(soundcloud_id, query.expand, limit))
        found = (
            Found(
                catalogue_record(details),
                details.emails,
                details.profiles,
                score(candidate, now=now),
            )
            if matched
            else None
        )
        return Visit(soundcloud_id, depth, found, tuple(details.unread_pages), leads)

    async def details(self, soundcloud_id: int) -> ArtistDetails:
        """Read one artist: profile, tracks, web profiles and link-in-bio pages.

        Raises:
            ScrapeError: the profile itself could not be read (counted by the caller).
        """
        client, _ = await self._ready()
        user = await client.user(soundcloud_id)
        tracks: list[SoundCloudTrack] = []
        if user.track_count != 0:
            tracks = [t async for t in client.user_tracks(user.id, limit=TRACKS_PER_ARTIST)]
        web_profiles = await client.web_profiles(user.id)
        findings = contacts_from_profile(
            user.description, web_profiles, link_in_bio_hosts=self.settings.link_in_bio_hosts
        )
        extra, unread = await self._link_in_bio_pages(
            findings.link_in_bio_urls[:MAX_LINK_IN_BIO_PAGES]
        )
        emails = [(e.email, str(e.source)) for f in (findings, *extra) for e in f.emails]
        profiles = [
            (str(p.platform), p.url, p.username) for f in (findings, *extra) for p in f.profiles
        ]
        dates = [t.created_at for t in tracks if t.created_at is not None]
        return ArtistDetails(
            user=user,
            genres=_top_genres(tracks),
            last_track_at=max(dates, default=None),
            emails=list(dict.fromkeys(emails)),
            profiles=list({url: (p, url, name) for p, url, name in profiles}.values()),
            unread_pages=unread,
        )

    async def reread(self, soundcloud_id: int) -> dict[str, Any]:
        """An artist's numbers as their profile shows them now (one request): what a refresh
        writes and snapshots.

        Raises:
            ScrapeError: the profile could not be read.
        """
        client, _ = await self._ready()
        user = await client.user(soundcloud_id)
        return {
            "soundcloud_id": user.id,
            "followers": user.followers_count or 0,
            "tracks": user.track_count or 0,
            "verified": user.verified,
        }

    async def _link_in_bio_pages(
        self, urls: Sequence[str]
    ) -> tuple[list[ContactFindings], list[str]]:
        """What an artist's link-in-bio pages show, read within the artist's budget for them;
        and, for each page left unread, why (never an error: enrichment is optional)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.link_in_bio_budget_seconds
        found: list[ContactFindings] = []
        unread: list[str] = []
        for url in urls:
            host = domain_of(url)
            remaining = deadline - loop.time()
            if remaining <= 0:
                unread.append("link_in_bio_timeout")
                continue
            if not self._link_hosts.allows(host, time.monotonic()):
                unread.append("link_in_bio_host_down")
                continue
            try:
                async with asyncio.timeout(remaining):
                    found.append(await self._link_in_bio(url))
            except HostBusy:
                unread.append("link_in_bio_busy")
            except TimeoutError:
                self._link_hosts.failed(host, time.monotonic())
                unread.append("link_in_bio_timeout")
            except ScrapeError as exc:
                if _host_failing(exc):
                    self._link_hosts.failed(host, time.monotonic())
                else:
                    self._link_hosts.succeeded(host)
                unread.append("link_in_bio_failed")
            else:
                self._link_hosts.succeeded(host)
        return found, unread

    async def _link_in_bio(self, url: str) -> ContactFindings:
        """Links on a link-in-bio page: plain HTTP first, the browser only when that shows none.

        Raises:
            ScrapeError: the page could not be read (``HostBusy``: not even tried).
        """
        _, fetcher = await self._ready()
        links = links_from_html(await fetcher.get_text(url), url)
        if not links and self.settings.chromium_path:
            links = await self._rendered_links(url)
        return contacts_from_link_in_bio(links, link_in_bio_hosts=self.settings.link_in_bio_hosts)

    async def _rendered_links(self, url: str) -> list[str]:
        if self._renderer is None:
            self._renderer = LinkRenderer(
                executable_path=self.settings.chromium_path,
                pacer=self._pacer,
                allowed_hosts=self.settings.link_in_bio_hosts,
                max_pacing_wait=LINK_IN_BIO_MAX_WAIT_SECONDS,
            )
        try:
            links = await self._renderer.links(url)
        except BrowserUnavailable:
            self.stats.count("browser_unavailable")
            return []
        self.stats.count("pages_rendered")
        return links

    async def close(self) -> None:
        if self._renderer is not None:
            await self._renderer.aclose()
        if self._session is not None:
            await self._session.close()
        await self._redis.aclose()


def _host_failing(exc: ScrapeError) -> bool:
    return isinstance(exc, FetchError) and exc.host_failing


async def _or_skipped(work: Awaitable[T]) -> T | Skipped:
    try:
        return await work
    except ScrapeError as exc:
        status = exc.status if isinstance(exc, FetchError) else None
        return Skipped(type(exc).__name__, str(exc)[:300], status, _host_failing(exc))


async def _measured(work: Awaitable[T], max_wait: float | None = None) -> Reply[T]:
    """``work``'s value and the requests it made, its requests sent only when their slot is at
    most ``max_wait`` seconds away. (At module level: an actor class is pickled by value, and a
    context variable cannot be.)"""
    stats = FetchStats()
    counting = call_stats.set(stats)
    bounded = pacing_wait_limit.set(max_wait)
    try:
        value = await work
    finally:
        pacing_wait_limit.reset(bounded)
        call_stats.reset(counting)
    return Reply(value, stats)


def pool_key(settings: Settings) -> str:
    """What a pool's actors were built for: jobs whose scraping settings agree share actors;
    a job aimed at another site (a test's fixture site, say) gets actors of its own."""
    shared = {name: getattr(settings, name) for name in SCRAPER_SETTINGS}
    digest = hashlib.blake2b(json.dumps(shared, sort_keys=True).encode(), digest_size=5)
    return digest.hexdigest()


def actor_name(key: str, index: int) -> str:
    return f"scraper-{key}-{index}"


@ray.remote
class ScraperActor:
    """A ``Scraper`` in its own process, shared by every job of its pool; an async actor, so
    many calls (from any number of jobs) run at once. One that is not resident ends itself
    after ``scraper_idle_seconds`` without a call."""

    def __init__(self, settings: Settings) -> None:
        telemetry.setup(settings, "scraper")
        self._scraper = Scraper(settings)
        self._idle_seconds = settings.scraper_idle_seconds
        self._resident = False
        self._busy = 0
        self._last_call = time.monotonic()
        self._idle_watch: asyncio.Task[None] | None = None
        # Each actor counts itself, so the sum over processes is the pool's size.
        self._pool = pool_key(settings)
        metrics.SCRAPER_ACTORS.set(1, pool=self._pool)

    async def stay(self, carrier: dict[str, str] | None = None) -> None:
        """Keep this actor for good (the service's own pool), however idle it gets."""
        self._resident = True

    async def leads(
        self, source: LeadSource, value: str, limit: int, carrier: dict[str, str] | None = None
    ) -> Reply[Any]:
        with telemetry.continued(carrier, "ScraperActor.leads"):
            return await self._measured(_or_skipped(self._scraper.leads(source, value, limit)))

    async def visit_many(
        self,
        entries: list[tuple[int, int]],
        query: DiscoveryQuery,
        limit: int,
        carrier: dict[str, str] | None = None,
    ) -> Reply[list[Visit]]:
        """Visit ``(soundcloud_id, depth)`` artists at once (see ``Scraper.visit``)."""
        with telemetry.continued(carrier, "ScraperActor.visit_many"):
            return await self._measured(self._visit_all(entries, query, limit))

    async def _visit_all(
        self, entries: list[tuple[int, int]], query: DiscoveryQuery, limit: int
    ) -> list[Visit]:
        # A coroutine, so that its tasks start inside the measured call and count in it.
        return await asyncio.gather(
            *(self._scraper.visit(artist, depth, query, limit) for artist, depth in entries)
        )

    async def reread(
        self,
        soundcloud_id: int,
        max_wait: float | None = None,
        carrier: dict[str, str] | None = None,
    ) -> Reply[dict[str, Any] | Skipped]:
        """The artist's profile numbers again (one request), or why it could not be read; with
        ``max_wait``, only if a request slot is free within that many seconds (else
        ``Skipped("HostBusy", ...)``), so that a refresh never makes a job wait."""
        with telemetry.continued(carrier, "ScraperActor.reread"):
            return await self._measured(_or_skipped(self._scraper.reread(soundcloud_id)), max_wait)

    async def _measured(self, work: Awaitable[T], max_wait: float | None = None) -> Reply[T]:
        self._busy += 1
        metrics.SCRAPER_CALLS_IN_FLIGHT.set(self._busy, pool=self._pool)
        self._last_call = time.monotonic()
        if self._idle_watch is None:
            self._idle_watch = asyncio.create_task(self._end_when_idle())
        try:
            return await _measured(work, max_wait)
        finally:
            self._busy -= 1
            metrics.SCRAPER_CALLS_IN_FLIGHT.set(self._busy, pool=self._pool)
            self._last_call = time.monotonic()

    async def _end_when_idle(self) -> None:
        while True:
            await asyncio.sleep(min(self._idle_seconds, IDLE_CHECK_SECONDS))
            quiet = time.monotonic() - self._last_call
            if not self._resident and self._busy == 0 and quiet >= self._idle_seconds:
                await self._scraper.close()
                await asyncio.to_thread(telemetry.flush)  # ray.kill skips atexit
                # A caller that reaches it now gets ActorDiedError, and the pool starts another.
                ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
                return


class ScraperPool:
    """One caller's view of the shared scraper actors (those of its ``pool_key``).

    The actors are named and detached: the first caller (the service at start-up, or a job) starts
    them and every later one finds them warm. Callers that ``join`` are counted in Redis; the pool
    grows with them (``scraper_actors`` per member, up to ``scraper_actors_max``), and each gets an
    equal share of the calls in flight, so jobs from different workspaces split each host's rate
    evenly (the Redis pacer hands out slots in the order they are asked for). A call whose actor
    died for good is sent again to the actor started in its place.
    """

    def __init__(self, settings: Settings, member: str) -> None:
        if settings.redis_url is None:
            raise ValueError("a scraper pool needs CM_REDIS_URL resolved")
        self.settings = settings
        self.member = member
        self.key = pool_key(settings)
        self.stats = FetchStats()
        self.size = settings.scraper_actors
        self.parallelism = self.size * settings.scraper_concurrency
        self._members_key = f"cm:scrapers:{self.key}:members"
        self._redis = create_redis(settings.redis_url)
        self._handles: dict[int, Any] = {}
        self._turn = itertools.count()
        self._heartbeat: asyncio.Task[None] | None = None

    async def join(self) -> None:
        """Count this caller among the pool's members until ``close`` (a heartbeat in Redis:
        a caller that died stops counting after ``MEMBER_TTL_SECONDS``)."""
        await self._beat()
        self._heartbeat = asyncio.create_task(self._beat_forever())

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._beat()
            except Exception:  # Redis away for a moment: keep the last share, try again
                log.warning("scraper pool heartbeat failed", exc_info=True)

    async def _beat(self) -> None:
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._members_key, {self.member: now})
            pipe.zremrangebyscore(self._members_key, "-inf", now - MEMBER_TTL_SECONDS)
            pipe.zcard(self._members_key)
            pipe.expire(self._members_key, int(MEMBER_TTL_SECONDS * 4))
            answers = await pipe.execute()
        self.resize(max(int(answers[2]), 1))

    def resize(self, members: int) -> None:
        """Size the pool for ``members`` callers and take this caller's share of it."""
        settings = self.settings
        self.size = max(
            settings.scraper_actors,
            min(settings.scraper_actors_max, settings.scraper_actors * members),
        )
        self.parallelism = max(
            settings.scraper_concurrency, self.size * settings.scraper_concurrency // members
        )

    def actor(self, index: int) -> Any:
        """The pool's actor ``index``, found by name or started."""
        handle = self._handles.get(index)
        if handle is None:
            handle = named_actor(
                ScraperActor,
                actor_name(self.key, index),
                self.settings,
                max_concurrency=self.settings.scraper_concurrency * 4,
                # A crashed scraper comes back, and the calls it held are sent again: reads are
                # safe to repeat.
                max_task_retries=3,
                # Over the cluster's nodes, not packed on the caller's: losing a node loses
                # only its share of the pool (Ray restarts those elsewhere).
                scheduling_strategy="SPREAD",
            )
            self._handles[index] = handle
        return handle

    async def warm(self) -> None:
        """Start the pool's resident actors now and keep them (the service does this)."""
        await asyncio.gather(
            *(
                self.actor(index).stay.remote(carrier=telemetry.carry())
                for index in range(self.settings.scraper_actors)
            )
        )

    async def call(self, method: str, *args: Any) -> Any:
        """Call ``method`` on the next actor in turn; returns its answer's value, adding what
        it cost to ``stats``.

        Raises:
            ray.exceptions.RayActorError: the actor died and so did its replacements.
        """
        for attempt in range(1, CALL_ATTEMPTS + 1):
            index = next(self._turn) % self.size
            metrics.SCRAPER_CALLS.inc(pool=self.key, method=method)
            ref = getattr(self.actor(index), method).remote(*args, carrier=telemetry.carry())
            try:
                reply: Reply[Any] = await ref
            except asyncio.CancelledError:
                # The caller gave up (a cancelled job): the actor stops too, and sends no more.
                ray.cancel(ref)
                raise
            except ray.exceptions.RayActorError:
                # Ended for good (killed, or idle and gone): the name is free for a new one.
                self._handles.pop(index, None)
                self.stats.count("scrapers_replaced")
                metrics.SCRAPER_REPLACEMENTS.inc()
                if attempt == CALL_ATTEMPTS:
                    raise
                await asyncio.sleep(REPLACE_DELAY_SECONDS * attempt)
                continue
            self._add(reply.stats)
            return reply.value
        raise AssertionError("unreachable")

    def _add(self, spent: FetchStats) -> None:
        total = self.stats
        total.requests += spent.requests
        total.retries += spent.retries
        total.failures += spent.failures
        total.received_bytes += spent.received_bytes
        total.latency_total += spent.latency_total
        total.statuses.update(spent.statuses)
        total.counters.update(spent.counters)

    async def close(self) -> None:
        """Leave the pool (its actors stay, for the next caller)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        try:
            await self._redis.zrem(self._members_key, self.member)
        finally:
            await self._redis.aclose()
