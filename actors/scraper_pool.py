"""Scraper actors: each holds one HTTP session, a SoundCloud client and (lazily) a headless
Chromium, and does the fetching and parsing a discovery job fans out to it.

Every actor paces its requests through the same Redis schedule (``storage.pacing.RedisPacer``),
so the per-host rate holds across the whole cluster however many actors and nodes there are.
Answers are small picklable records; nothing here touches the database.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import aiohttp
import ray

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
from scraping.fetcher import Fetcher, FetchStats, RetryPolicy, domain_of
from scraping.objects import SoundCloudTrack, SoundCloudUser
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
# How long the pool waits for an actor's counters or its clean close before going on without.
ACTOR_ANSWER_SECONDS = 10.0
# Tracks read per artist for its genres and last activity.
TRACKS_PER_ARTIST = 10


@dataclass(frozen=True)
class ArtistLead:
    """An artist seen in a list (search, followings ...): the short form, enough to rank it."""

    soundcloud_id: int
    followers: int | None
    verified: bool


@dataclass(frozen=True)
class Skipped:
    """A page that could not be read or parsed: counted by the job, never fatal to it.

    Returned rather than raised: scraping's exceptions carry arguments that do not survive the
    trip between processes, and a skip is an expected outcome, not a failure of the call.
    """

    reason: str  # the ScrapeError's class name: FetchError, MalformedPage, DisallowedHost ...
    detail: str


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


@dataclass(frozen=True)
class Visit:
    """One artist read by a scraper, judged against the query, and (when the walk should go on
    from it) its neighbours: everything a walk needs from one call."""

    details: ArtistDetails | Skipped
    matched: bool = False
    score: float = 0.0
    leads: list[ArtistLead] | Skipped | None = None  # None: not expanded


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


def lead_of(user: SoundCloudUser) -> ArtistLead:
    return ArtistLead(user.id, user.followers_count, user.verified)


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
        self._link_hosts = FailureBreaker(LINK_IN_BIO_FAILURES, LINK_IN_BIO_COOLDOWN_SECONDS)
        self._renderer: LinkRenderer | None = None
        self._started = asyncio.Lock()

    async def _ready(self) -> tuple[SoundCloudClient, Fetcher]:
        """The SoundCloud client and the link-in-bio fetcher, made on first use."""
        async with self._started:
            if self._client is None or self._links_fetcher is None:
                connector = aiohttp.TCPConnector(limit=self.settings.scraper_concurrency * 2)
                self._session = aiohttp.ClientSession(connector=connector)
                self._fetcher = Fetcher(
                    self._session,
                    pacer=self._pacer,
                    allowed_hosts=self._endpoints.hosts(),
                    stats=self.stats,
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
                )
            return self._client, self._links_fetcher

    async def leads(self, source: LeadSource, value: str, limit: int) -> list[ArtistLead]:
        """Artists to start from: users matching a term, makers of tracks in a genre or with a
        tag, or one seed profile."""
        client, _ = await self._ready()
        if source == "seed":
            return [lead_of(await client.profile(value))]
        found: dict[int, ArtistLead] = {}
        if source == "term":
            async for user in client.search_users(value, limit=limit):
                found.setdefault(user.id, lead_of(user))
            return list(found.values())
        tracks = (
            client.search_tracks("*", genre_or_tag=value, limit=limit)
            if source == "genre"
            else client.recent_tracks(value, limit=limit)
        )
        async for track in tracks:
            if track.user is not None:
                found.setdefault(track.user.id, lead_of(track.user))
            elif track.user_id is not None:
                found.setdefault(track.user_id, ArtistLead(track.user_id, None, False))
        return list(found.values())

    async def neighbours(
        self, soundcloud_id: int, expand: Sequence[str], limit: int
    ) -> list[ArtistLead]:
        """Artists one step away: related artists and followings."""
        client, _ = await self._ready()
        lists: list[AsyncIterator[SoundCloudUser]] = []
        if "related" in expand:
            lists.append(client.related_artists(soundcloud_id, limit=limit))
        if "followings" in expand:
            lists.append(client.followings(soundcloud_id, limit=limit))
        found: dict[int, ArtistLead] = {}
        for users in lists:
            async for user in users:
                if user.id != soundcloud_id:
                    found.setdefault(user.id, lead_of(user))
        return list(found.values())

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
    """Whether an error says the host is down or overloaded (no answer, 5xx or 429 to the
    end), rather than that it answered about this one page (404, a malformed page)."""
    return isinstance(exc, FetchError) and (
        exc.status is None or exc.status == 429 or exc.status >= 500
    )


async def _or_skipped(work: Awaitable[T]) -> T | Skipped:
    try:
        return await work
    except ScrapeError as exc:
        return Skipped(type(exc).__name__, str(exc)[:300])


@ray.remote
class ScraperActor:
    """A ``Scraper`` in its own process; an async actor, so many calls run at once."""

    def __init__(self, settings: Settings) -> None:
        self._scraper = Scraper(settings)

    async def leads(self, source: LeadSource, value: str, limit: int) -> list[ArtistLead] | Skipped:
        return await _or_skipped(self._scraper.leads(source, value, limit))

    async def visit(
        self, soundcloud_id: int, depth: int, query: DiscoveryQuery, limit: int
    ) -> Visit:
        """Read an artist and judge it; read its neighbours too when the walk goes on from it:
        always from a seed (depth 0), from later artists only when they matched (their
        neighbourhood is the query's)."""
        details = await _or_skipped(self._scraper.details(soundcloud_id))
        if isinstance(details, Skipped):
            return Visit(details)
        now = datetime.now(UTC)
        candidate = candidate_of(details)
        matched = matches(query, candidate, now=now)
        leads: list[ArtistLead] | Skipped | None = None
        if depth < query.max_depth and query.expand and (matched or depth == 0):
            leads = await _or_skipped(self._scraper.neighbours(soundcloud_id, query.expand, limit))
        return Visit(details, matched, score(candidate, now=now), leads)

    async def stats(self) -> dict[str, Any]:
        return self._scraper.stats.snapshot()

    async def close(self) -> None:
        await self._scraper.close()


class ScraperPool:
    """A few scraper actors and a cap on calls in flight; calls go to them in turn."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        size = size or settings.scraper_actors
        self.actors = [
            ScraperActor.options(  # type: ignore[attr-defined]
                num_cpus=0.05,
                max_concurrency=settings.scraper_concurrency * 4,
                # A crashed scraper comes back, and the calls it held are sent again: reads
                # are safe to repeat.
                max_restarts=3,
                max_task_retries=3,
            ).remote(settings)
            for _ in range(size)
        ]
        self._next = itertools.cycle(self.actors)
        self.parallelism = size * settings.scraper_concurrency
        self._slots = asyncio.Semaphore(self.parallelism)

    async def call(self, method: str, *args: Any) -> Any:
        async with self._slots:
            actor = next(self._next)
            return await getattr(actor, method).remote(*args)

    async def stats(self) -> dict[str, Any]:
        """The actors' counters added up (statuses merged); an actor that does not answer in
        time (it died, or hangs) is left out rather than failing or holding up the report."""
        asked = [asyncio.ensure_future(actor.stats.remote()) for actor in self.actors]
        done, late = await asyncio.wait(asked, timeout=ACTOR_ANSWER_SECONDS)
        for future in late:
            future.cancel()
        total: dict[str, Any] = {}
        for future in done:
            if future.exception() is not None:
                continue
            snapshot = future.result()
            for key, value in snapshot.items():
                if key == "statuses":
                    merged = total.setdefault("statuses", {})
                    for status, count in value.items():
                        merged[status] = merged.get(status, 0) + count
                elif isinstance(value, int | float) and key != "mean_latency_ms":
                    total[key] = total.get(key, 0) + value
        return total

    async def close(self) -> None:
        """Let the actors close their sessions and browsers (for a bounded time), then end
        them."""
        closing = [asyncio.ensure_future(actor.close.remote()) for actor in self.actors]
        _, late = await asyncio.wait(closing, timeout=ACTOR_ANSWER_SECONDS)
        for future in late:
            future.cancel()
        for actor in self.actors:
            ray.kill(actor)
