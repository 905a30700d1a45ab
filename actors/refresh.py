"""The artist refresher: keeps the numbers of the artists workspaces track fresh.

An artist is tracked when a workspace watches it or has it in a scheduled, active or paused
campaign (``ArtistRepository.due_for_refresh``). Each round re-reads those last read more than
``CM_REFRESH_INTERVAL_HOURS`` ago, one profile request each through the shared scraper pool,
writes their followers, tracks and verified mark, and leaves a follower snapshot (which moves
their growth).

The refresh only takes what discovery jobs leave: it asks the shared per-host schedule for a
slot that is free now (``FREE_SLOT_SECONDS``), never queues behind a job's requests, and backs
off while the host is busy. Even on an idle host it takes at most ``CM_REFRESH_RATE_SHARE`` of
``CM_SOUNDCLOUD_REQUESTS_PER_SECOND``; with the rate unlimited (0), a few calls in flight
(``CONCURRENCY``) bound it instead. It does not join the pool as a member, so jobs' shares of
the pool are what they would be without it.

One named actor ("artist-refresher") runs rounds forever; :func:`refresh_due` runs one round
without it (tests, a CLI).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import ray

from actors.named import named_actor
from actors.scraper_pool import ScraperPool, Skipped
from core import telemetry
from core.settings import Settings
from storage.database import create_engine, create_sessionmaker
from storage.read_versions import bump_catalogue_version
from storage.redis_client import create_redis
from storage.repositories.artists import ArtistRepository

log = logging.getLogger(__name__)

ACTOR_NAME = "artist-refresher"
POOL_MEMBER = "refresher"
# A request is sent only when the host's next slot is at most this far away: a slot no job is
# waiting for. Further away, the reread comes back Skipped("HostBusy") without a request.
FREE_SLOT_SECONDS = 0.05
# Rereads in flight at once; with a rate set, the rate share spaces their starts as well.
CONCURRENCY = 4
# Artists read per round, and per write (one transaction, one catalogue cache bump).
ROUND_SIZE = 200
WRITE_BATCH = 25
# A busy or failing host: wait before asking again, doubling up to the maximum; a round that
# got nothing through for TROUBLE_SECONDS ends, leaving the rest due for the next one.
BACKOFF_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 4.0
TROUBLE_SECONDS = 20.0
# Reads of one artist a round tries while its host is failing (a busy host is not counted: no
# request was sent).
TRIES_PER_ROUND = 2
# The longest a round reads for (what it read by then is written).
ROUND_SECONDS = 300.0
# Extra time a round has to write, past its reading, before the actor abandons it.
WRITE_BOUND_SECONDS = 60.0
# Statements of the refresher's sessions never wait longer than this.
STATEMENT_SECONDS = 30.0
# Pauses between the actor's rounds: again soon when a full round left more artists due, a
# while when the host was busy, and otherwise until new artists may have become due.
AGAIN_SECONDS = 1.0
TROUBLE_PAUSE_SECONDS = 15.0
IDLE_SECONDS = 60.0
# Readers' answers that say the host is down or overloaded (the artist stays due), as opposed
# to answers about this one artist (gone, malformed: it is not read again before its interval).
_HOST_TROUBLE = frozenset({"HostBusy", "HostDown", "ClientIdUnavailable", "DisallowedHost"})


@dataclass
class RefreshReport:
    """What one round did."""

    due: int = 0  # tracked artists found due (at most the round's limit)
    refreshed: int = 0  # numbers written
    snapshots: int = 0  # follower snapshots added
    unreadable: int = 0  # answered for but not readable (404, malformed): marked read, no snapshot
    failed: int = 0  # tries that met a failing host (5xx, no answer, ...): left due
    busy: int = 0  # tries that found no free request slot: left due
    requests: int = 0  # HTTP requests the round's rereads made
    reasons: Counter[str] = field(default_factory=Counter)  # unreadable and failed, by why

    @property
    def left_due(self) -> bool:
        """Whether the round ended with artists it found due still unread."""
        return self.refreshed + self.unreadable < self.due


@dataclass(frozen=True, slots=True)
class _Read:
    artist_id: UUID
    at: datetime
    numbers: dict[str, Any] | None  # None: unreadable, marked read only


class _Starts:
    """Spaces the starts of rereads ``interval`` seconds apart, and holds them all back while
    the host is busy."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            wait = self._next - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(self._next, loop.time()) + self._interval

    def hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._next = max(self._next, loop.time() + seconds)


def start_interval(settings: Settings) -> float:
    """Seconds between the starts of two rereads: the rate share of the SoundCloud rate, or 0
    when the rate is unlimited (then ``CONCURRENCY`` alone bounds the refresh)."""
    rate = settings.soundcloud_requests_per_second
    if rate <= 0:
        return 0.0
    return 1.0 / (rate * settings.refresh_rate_share)


def classify(value: Any) -> tuple[str, str | None]:
    """``("read" | "unreadable" | "trouble", reason)`` for a reread's answer."""
    if isinstance(value, dict):
        return "read", None
    if not isinstance(value, Skipped):
        return "trouble", type(value).__name__
    if value.reason in _HOST_TROUBLE:
        return "trouble", value.reason
    if value.reason == "FetchError":
        reason = f"FetchError_{value.status or 'no_answer'}"
        return ("trouble" if value.host_failing else "unreadable"), reason
    return "unreadable", value.reason


class Refresher:
    """Rounds of rereads, with the database, Redis and scraper pool they need (made once and
    reused; nothing is connected before the first round)."""

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("the refresher needs CM_DATABASE_URL and CM_REDIS_URL resolved")
        self.settings = settings
        self._engine = create_engine(
            settings.database_url, pool_size=2, statement_seconds=STATEMENT_SECONDS
        )
        self._sessions = create_sessionmaker(self._engine)
        self._redis = create_redis(settings.redis_url)
        # Not joined: a member would take a share of the pool from the jobs.
        self._pool = ScraperPool(settings, member=POOL_MEMBER)

    async def round(self, *, limit: int = ROUND_SIZE) -> RefreshReport:
        """Re-read up to ``limit`` tracked artists that are due, least recently read first."""
        older_than = datetime.now(UTC) - timedelta(hours=self.settings.refresh_interval_hours)
        async with self._sessions() as session:
            due = await ArtistRepository(session).due_for_refresh(
                older_than=older_than, limit=limit
            )
        report = RefreshReport(due=len(due))
        if not due:
            return report
        requests_before = self._pool.stats.requests
        pending: deque[tuple[UUID, int]] = deque(due)
        reads: list[_Read] = []
        starts = _Starts(start_interval(self.settings))
        loop = asyncio.get_running_loop()
        trouble = _Trouble()
        tries: Counter[UUID] = Counter()

        async def reader() -> None:
            while pending and not trouble.given_up(loop.time()):
                await starts.turn()
                if not pending or trouble.given_up(loop.time()):
                    return
                artist_id, soundcloud_id = pending.popleft()
                value = await self._reread(soundcloud_id)
                kind, reason = classify(value)
                if kind == "trouble":
                    if reason == "HostBusy":  # nothing was sent: its turn comes again first
                        report.busy += 1
                        pending.appendleft((artist_id, soundcloud_id))
                    else:
                        report.failed += 1
                        report.reasons[reason or "unknown"] += 1
                        tries[artist_id] += 1
                        # Tried again after the others, and not endlessly: an artist the host
                        # always fails on must not take the round's requests.
                        if tries[artist_id] < TRIES_PER_ROUND:
                            pending.append((artist_id, soundcloud_id))
                    starts.hold(trouble.backoff(loop.time()))
                    continue
                trouble.cleared()
                if kind == "unreadable":
                    report.reasons[reason or "unknown"] += 1
                reads.append(_Read(artist_id, datetime.now(UTC), value if kind == "read" else None))
                if len(reads) >= WRITE_BATCH:
                    batch = reads[:]
                    reads.clear()
                    await self._write(batch, report)

        try:
            async with asyncio.timeout(ROUND_SECONDS), asyncio.TaskGroup() as readers:
                for _ in range(min(CONCURRENCY, len(due))):
                    readers.create_task(reader())
        except TimeoutError:
            log.info("a refresh round read for %.0f s; the rest waits for the next", ROUND_SECONDS)
        except BaseExceptionGroup as failed:
            # One reader's write failed (the others were stopped): say what, not that a group did.
            raise failed.exceptions[0] from None
        finally:
            report.requests = self._pool.stats.requests - requests_before
        if reads:
            await self._write(reads, report)
        return report

    async def _reread(self, soundcloud_id: int) -> Any:
        try:
            return await self._pool.call("reread", soundcloud_id, FREE_SLOT_SECONDS)
        except Exception as exc:  # an actor dead for good, Ray away: the artist stays due
            log.warning("rereading artist %s failed: %r", soundcloud_id, exc)
            return exc

    async def _write(self, reads: list[_Read], report: RefreshReport) -> None:
        """Numbers and snapshots of the artists read, and the unreadable ones marked read, in
        one transaction; then catalogue reads everywhere go stale."""
        numbers = [
            {**read.numbers, "artist_id": read.artist_id, "fetched_at": read.at}
            for read in reads
            if read.numbers is not None
        ]
        unreadable = [read.artist_id for read in reads if read.numbers is None]
        async with self._sessions.begin() as session:
            artists = ArtistRepository(session)
            refreshed = await artists.refresh_numbers(numbers)
            if unreadable:
                await artists.mark_fetched(unreadable, at=datetime.now(UTC))
            snapshots = await artists.add_snapshots(
                {
                    "artist_id": row["artist_id"],
                    "followers": row["followers"],
                    "tracks": row["tracks"],
                    "captured_at": row["fetched_at"],
                }
                for row in numbers
            )
        report.refreshed += refreshed
        report.snapshots += snapshots
        report.unreadable += len(unreadable)
        try:
            await bump_catalogue_version(self._redis)
        except Exception:  # the write stands; cached catalogue reads catch up on the next one
            log.exception("making catalogue reads stale after a refresh failed")

    async def close(self) -> None:
        try:
            await self._pool.close()
        finally:
            await self._redis.aclose()
            await self._engine.dispose()


class _Trouble:
    """How long a round has got nothing through, and how long to wait before asking again."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._backoff = BACKOFF_SECONDS

    def backoff(self, now: float) -> float:
        if self._since is None:
            self._since = now
        wait = self._backoff
        self._backoff = min(self._backoff * 2, BACKOFF_MAX_SECONDS)
        return wait

    def cleared(self) -> None:
        self._since = None
        self._backoff = BACKOFF_SECONDS

    def given_up(self, now: float) -> bool:
        return self._since is not None and now - self._since >= TROUBLE_SECONDS


async def refresh_due(settings: Settings, *, limit: int = ROUND_SIZE) -> RefreshReport:
    """One round of the refresher's work, without its actor."""
    refresher = Refresher(settings)
    try:
        return await refresher.round(limit=limit)
    finally:
        await refresher.close()


def pause_after(report: RefreshReport, *, limit: int = ROUND_SIZE) -> float:
    """Seconds before the next round, from what this one did."""
    if report.left_due and (report.busy or report.failed):
        return TROUBLE_PAUSE_SECONDS
    if report.due >= limit:
        return AGAIN_SECONDS
    return IDLE_SECONDS


@ray.remote
class RefresherActor:
    """Runs refresh rounds forever from construction, so a restart by Ray resumes them."""

    def __init__(self, settings: Settings) -> None:
        telemetry.setup(settings, "refresher")
        self._settings = settings
        self._last: RefreshReport | None = None
        self._task = asyncio.get_event_loop().create_task(self._run())

    async def _run(self) -> None:
        refresher = Refresher(self._settings)
        try:
            while True:
                pause = IDLE_SECONDS
                try:
                    async with asyncio.timeout(ROUND_SECONDS + WRITE_BOUND_SECONDS):
                        self._last = await refresher.round()
                    pause = pause_after(self._last)
                except Exception:
                    log.exception("a refresh round failed; the next one tries again")
                await asyncio.sleep(pause)
        finally:
            await refresher.close()

    async def ping(self) -> bool:
        return not self._task.done()

    async def last_report(self) -> RefreshReport | None:
        return self._last


def start_refresher(settings: Settings) -> Any:
    """Start the cluster's artist refresher (or find the one already running)."""
    return named_actor(RefresherActor, ACTOR_NAME, settings)
