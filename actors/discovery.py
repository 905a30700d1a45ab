"""Discovery jobs: a walk over SoundCloud from a query, run by one detached actor per job.

The walk starts from what the query names (search terms, genres, tags, seed artists), reads
each artist through the scraper pool, keeps those that pass the query's filters, and goes on to
their related artists and followings, best-scored first, up to ``max_depth`` steps and
``max_artists`` kept. Each batch is written in one transaction: artists, social profiles,
follower snapshots, the workspace's contacts, the job's result rows, its counters and the
checkpoint (frontier and seen set). A job whose actor dies is restarted by Ray and resumes from
the last checkpoint: the batch in flight was not committed, so it is read again and nothing is
written twice. A job is cancelled through the database (``status = cancelled``); the walk stops
at its next batch.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import resource
import time
import uuid
from collections import Counter
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ray

from actors.named import NAMESPACE, named_actor
from actors.scraper_pool import Found, LeadSource, ScraperPool, Skipped, Visit
from core import metrics, telemetry
from core.discovery import Candidate, DiscoveryQuery, score
from core.enums import DiscoveryJobStatus
from core.settings import Settings
from scraping.objects import UserLead
from storage.activity import Activity
from storage.database import create_engine, create_sessionmaker
from storage.outages import RetryBackoff, is_outage, unavailable_part
from storage.redis_client import create_redis
from storage.repositories.artists import ArtistRepository
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.discovery_jobs import DiscoveryJobRepository, Lead

log = logging.getLogger(__name__)

# Leads read per seed source, and neighbours per artist and list.
LEADS_PER_SOURCE = 200
NEIGHBOURS_PER_LIST = 50
EXIT_DELAY_SECONDS = 2.0
# A walk commits what it kept this often, reading on meanwhile.
COMMIT_EVERY_SECONDS = 0.5
COMMIT_EVERY_ARTISTS = 64
# Artists handed to a scraper in one call (fewer calls, the same parallelism).
VISIT_BATCH = 4
# The most promising part of the frontier held in memory; the rest waits in the table.
FRONTIER_IN_MEMORY = 20_000
# Ids remembered as already in the table, so that seeing them again costs no database work.
KNOWN_IN_MEMORY = 200_000
# Error text kept on a failed job.
MAX_ERROR_CHARS = 500
# How a job's own writes are signed in the audit log and on the live channel (no user made them).
SYSTEM_ACTOR = "discovery"


_OWNED: set[ray.ObjectRef[str]] = set()
# Walks running in this process, by kind: its share of cm_discovery_jobs_running.
_RUNNING: Counter[str] = Counter()


def actor_name(job_id: uuid.UUID) -> str:
    return f"discovery-job-{job_id}"


class _Stopped(Exception):
    """The job was cancelled (or otherwise finished) by someone else."""


@dataclass
class WalkState:
    """Where a walk is: what it counted, the best part of its frontier (a heap; the rest waits
    in the table), and what it found and read since its last commit."""

    seeded: bool = False
    counters: Counter[str] = field(default_factory=Counter)
    # What the last skipped page said: the reason a job that could read nothing fails with.
    last_skip: str | None = None
    frontier: list[tuple[float, int, int]] = field(default_factory=list)  # (-priority, id, depth)
    # Unread leads in the table beyond ``frontier`` (it holds FRONTIER_IN_MEMORY at most).
    more_stored: bool = False
    # Unread leads in the table in all: the frontier's size, for progress.
    stored: int = 0
    found: dict[int, Lead] = field(default_factory=dict)  # since the last commit
    read: list[int] = field(default_factory=list)  # since the last commit
    # Ids known to be in the table already: most leads are seen many times, and this spares
    # the database all but the first (bounded; a miss costs one conflicting insert).
    known: dict[int, None] = field(default_factory=dict)

    def offer(self, lead: UserLead, depth: int, query: DiscoveryQuery, *, now: datetime) -> None:
        """Note a lead seen in a list; the table decides at the next commit whether it is new."""
        if lead.id in self.known or lead.id in self.found:
            return
        rough = Candidate(
            followers=lead.followers,
            tracks=None,
            verified=lead.verified,
            has_email=False,
            has_profiles=False,
            last_track_at=None,
        )
        # Nearer artists first at equal promise: they are what the query asked for.
        priority = score(rough, now=now) - 5 * depth
        self.found[lead.id] = Lead(lead.id, priority, depth, _outside_followers(query, lead))

    def unsaved(self) -> bool:
        return bool(self.found or self.read)

    def take(self, kept: int) -> Batch:
        """What goes into the next commit, with the counters as they stand now (``kept`` more
        artists counted as kept)."""
        self.counters["kept"] += kept
        batch = Batch(list(self.found.values()), self.read, Counter(self.counters), self.last_skip)
        self.found, self.read = {}, []
        return batch

    def saved(self, batch: Batch, new: list[Lead], written: Counter[str]) -> None:
        """A batch was committed: its new leads join the frontier (up to the cap)."""
        self.counters.update(written)
        for lead in batch.leads:
            self._know(lead.soundcloud_id)
        pending = [lead for lead in new if not lead.ruled_out]
        self.stored += len(pending) - len(batch.read)
        for lead in pending:
            if len(self.frontier) < FRONTIER_IN_MEMORY:
                heapq.heappush(self.frontier, (-lead.priority, lead.soundcloud_id, lead.depth))
            else:
                self.more_stored = True

    def _know(self, soundcloud_id: int) -> None:
        if len(self.known) >= KNOWN_IN_MEMORY:
            # Forget the oldest quarter: dicts keep insertion order.
            for old in list(itertools.islice(self.known, KNOWN_IN_MEMORY // 4)):
                del self.known[old]
        self.known[soundcloud_id] = None

    def checkpoint(self) -> dict[str, Any]:
        """What a restarted walk resumes from besides the table: small, whatever the job size."""
        return {"seeded": self.seeded, "counters": dict(self.counters), "last_skip": self.last_skip}

    @classmethod
    def from_checkpoint(cls, data: dict[str, Any]) -> WalkState:
        return cls(
            seeded=bool(data.get("seeded")),
            counters=Counter({str(k): int(v) for k, v in data.get("counters", {}).items()}),
            last_skip=data.get("last_skip"),
            # Whatever the table holds is read back into the heap before the walk goes on.
            more_stored=True,
        )

    def nothing_read(self) -> str | None:
        """Why the walk failed, when pages failed and not one artist could be read (SoundCloud
        unreachable, every answer an error): such a job has not completed. ``None`` when an
        artist was read, or nothing failed (a search that found no one)."""
        if self.counters["read"] or not self.counters["skipped"]:
            return None
        return f"no artist could be read: {self.counters['skipped']} pages failed" + (
            f" (last: {self.last_skip})" if self.last_skip else ""
        )


@dataclass(frozen=True)
class Batch:
    """What one commit writes to the frontier and seen set, and the counters that go with it."""

    leads: list[Lead]
    read: list[int]
    counters: Counter[str]
    last_skip: str | None


class DiscoveryWalk:
    """One job's walk. ``run`` is idempotent: it resumes from the stored checkpoint."""

    def __init__(
        self,
        settings: Settings,
        job_id: uuid.UUID,
        workspace_id: uuid.UUID,
        *,
        kind: str = "actor",
    ) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("resolve CM_DATABASE_URL and CM_REDIS_URL before running a job")
        self.settings = settings
        # How the walk runs, for the metrics: "actor" (started by the API) or "ray_job".
        self.kind = kind
        self.job_id = job_id
        self.workspace_id = workspace_id
        self._engine = create_engine(settings.database_url, pool_size=2)
        self._sessions = create_sessionmaker(self._engine)
        self._redis = create_redis(settings.redis_url)

    def _transaction(self) -> AbstractAsyncContextManager[Activity]:
        """One step's transaction: its audit rows in it; its events and stale reads after it
        commits, none if it rolls back."""
        return Activity.transaction(
            self._sessions, self._redis, self.workspace_id, system=SYSTEM_ACTOR
        )

    async def run(self) -> DiscoveryJobStatus:
        """Walk until done, cancelled or failed; returns the job's final status."""
        try:
            backoff = RetryBackoff()
            while True:
                try:
                    await self._walk()
                except Exception as exc:
                    part = unavailable_part(exc)
                    if part is not None:
                        # PostgreSQL or Redis is down: not the job's fault, and the walk resumes
                        # from its last commit once the server is back (within the job's time).
                        delay = backoff.next_delay()
                        log.warning(
                            "discovery job %s: the %s is unavailable (%s); resuming in %.1f s",
                            self.job_id,
                            part,
                            _describe(exc),
                            delay,
                        )
                        await asyncio.sleep(delay)
                        continue
                    # Whatever else went wrong, a job must not stay "running" with nothing
                    # behind it.
                    log.exception("discovery job %s failed", self.job_id)
                    await self._fail(_describe(exc))
                break
            status = await self._final_status()
            if status.is_final:
                metrics.DISCOVERY_JOBS_FINISHED.inc(kind=self.kind, status=str(status))
            return status
        finally:
            await self._redis.aclose()
            await self._engine.dispose()

    async def _fail(self, error: str) -> None:
        """Mark the job failed in a transaction of its own, unless it already ended."""
        async with self._transaction() as activity:
            repo = DiscoveryJobRepository(activity.session, self.workspace_id)
            if not (await repo.lock_status(self.job_id)).is_final:
                await repo.set_status(self.job_id, DiscoveryJobStatus.FAILED, error=error)
                await activity.record(
                    "discovery_job.failed", "discovery_job", self.job_id, {"error": error}
                )

    async def _walk(self) -> None:
        try:
            query, state, started_at = await self._start()
        except _Stopped:
            return
        pool = ScraperPool(self.settings, member=f"job:{self.job_id}")
        _count_running(self.kind, +1)
        limit = self.settings.discovery_job_max_seconds
        # From the job's first start: a restarted job does not get its time again.
        deadline = started_at.timestamp() + limit
        try:
            await pool.join()
            async with asyncio.timeout(deadline - time.time()) as timer:
                if not state.seeded:
                    await self._seed(pool, query, state)
                await self._stream(pool, query, state)
            failure = state.nothing_read()
            if failure is not None:
                await self._finish(state, pool, DiscoveryJobStatus.FAILED, error=failure)
            else:
                await self._finish(state, pool, DiscoveryJobStatus.COMPLETED)
        except _Stopped:
            pass
        except TimeoutError:
            if not timer.expired():
                raise
            log.warning("discovery job %s ran past its time limit", self.job_id)
            await self._finish(
                state,
                pool,
                DiscoveryJobStatus.FAILED,
                error=f"stopped after running {limit:g} s, the limit per job "
                "(CM_DISCOVERY_JOB_MAX_SECONDS); what it kept is kept",
            )
        except Exception as exc:
            if is_outage(exc):
                raise  # not a failure of the job: run() waits and resumes it
            log.exception("discovery job %s failed", self.job_id)
            await self._finish(state, pool, DiscoveryJobStatus.FAILED, error=_describe(exc))
        finally:
            _count_running(self.kind, -1)
            metrics.DISCOVERY_FRONTIER.set(0)
            await pool.close()
            await self._forget_leads()

    async def _start(self) -> tuple[DiscoveryQuery, WalkState, datetime]:
        """The job's query, where its walk is, and when it first started running."""
        async with self._transaction() as activity:
            repo = DiscoveryJobRepository(activity.session, self.workspace_id)
            job = await repo.locked(self.job_id)
            if job.status.is_final:
                raise _Stopped
            if job.status is DiscoveryJobStatus.QUEUED:
                job = await repo.set_status(self.job_id, DiscoveryJobStatus.RUNNING)
            query = DiscoveryQuery.model_validate(job.query)
            state = WalkState.from_checkpoint(job.checkpoint or {})
            state.stored = await repo.frontier_size(self.job_id)
            started_at = job.started_at or datetime.now(UTC)
            if state.counters:
                state.counters["resumed"] += 1
            # Audited on every start, so a restart after a crash shows in the log (``resumed``).
            await activity.record(
                "discovery_job.running", "discovery_job", self.job_id, dict(state.counters)
            )
        return query, state, started_at

    async def _seed(self, pool: ScraperPool, query: DiscoveryQuery, state: WalkState) -> None:
        sources: list[tuple[LeadSource, str]] = [
            *(("term", term) for term in query.search_terms),
            *(("genre", genre) for genre in query.genres),
            *(("tag", tag) for tag in query.tags),
            *(("seed", p) for p in query.seed_permalinks(self.settings.soundcloud_web_url)),
        ]
        answers = await asyncio.gather(
            *(pool.call("leads", source, value, LEADS_PER_SOURCE) for source, value in sources),
            return_exceptions=True,
        )
        now = datetime.now(UTC)
        for answer in answers:
            leads: list[UserLead] | None = self._usable(state, answer)
            for lead in leads or []:
                state.offer(lead, 0, query, now=now)
        state.seeded = True
        await self._commit(state, [], state.take(0), pool)

    async def _stream(self, pool: ScraperPool, query: DiscoveryQuery, state: WalkState) -> None:
        """Visit artists with up to ``pool.parallelism`` in flight (a few per call), refilling
        as calls answer, and commit what is kept every ``COMMIT_EVERY_SECONDS`` (or
        ``COMMIT_EVERY_ARTISTS``) while visiting goes on."""
        visiting: dict[asyncio.Future[Any], int] = {}  # call -> artists in it
        kept: list[tuple[Found, int]] = []

        def wanted() -> int:
            return query.max_artists - state.counters["kept"] - len(kept)

        # Commits run beside the walk (one at a time), so visits go on while one is written.
        committing: asyncio.Future[None] | None = None
        last_commit = time.monotonic()

        def commit() -> asyncio.Future[None]:
            nonlocal kept, last_commit
            batch = state.take(len(kept))
            future = asyncio.ensure_future(self._commit(state, kept, batch, pool))
            kept, last_commit = [], time.monotonic()
            return future

        try:
            while wanted() > 0:
                # Some visits end up filtered out or skipped: read ahead, but not far beyond
                # what can still be kept.
                in_flight = sum(visiting.values())
                room = min(pool.parallelism, 2 * wanted()) - in_flight
                per_call = min(VISIT_BATCH, max(1, pool.parallelism // (2 * pool.size)))
                while state.frontier and room > 0:
                    size = min(room, per_call, len(state.frontier))
                    entries = [heapq.heappop(state.frontier) for _ in range(size)]
                    call = pool.call(
                        "visit_many",
                        [(artist, depth) for _, artist, depth in entries],
                        query,
                        NEIGHBOURS_PER_LIST,
                    )
                    visiting[asyncio.ensure_future(call)] = size
                    room -= size
                if not visiting:
                    # Nothing left in memory to read: what the last visits found joins the
                    # frontier at a commit, and what the table holds beyond the heap is read back.
                    if committing is not None:
                        await committing
                        committing = None
                    elif state.unsaved() or kept:
                        await commit()
                    elif state.more_stored:
                        await self._reload(state)
                    else:
                        break
                    continue
                done, _ = await asyncio.wait(
                    [*visiting, *([committing] if committing else [])],
                    timeout=COMMIT_EVERY_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if committing is not None and committing.done():
                    committing.result()  # a cancelled job or a failed write ends the walk here
                    committing = None
                now = datetime.now(UTC)
                for future in done & visiting.keys():
                    del visiting[future]
                    visits: list[Visit] = future.result()
                    for visit in visits:
                        self._take_in(state, query, visit, kept, wanted() > 0, now)
                if committing is None and (
                    len(kept) >= COMMIT_EVERY_ARTISTS
                    or time.monotonic() - last_commit >= COMMIT_EVERY_SECONDS
                    or (not state.frontier and state.found)
                ):
                    committing = commit()
            if committing is not None:
                await committing
                committing = None
            await commit()
        finally:
            for future in (*visiting, *([committing] if committing else [])):
                future.cancel()

    def _take_in(
        self,
        state: WalkState,
        query: DiscoveryQuery,
        visit: Visit,
        kept: list[tuple[Found, int]],
        keeping: bool,
        now: datetime,
    ) -> None:
        """Count one visit, keep its artist if it matched (and more are wanted), note its leads."""
        state.counters["examined"] += 1
        state.read.append(visit.soundcloud_id)
        if isinstance(visit.outcome, Skipped):
            metrics.DISCOVERY_ARTISTS.inc(outcome="skipped")
            self._usable(state, visit.outcome)
            return
        metrics.DISCOVERY_ARTISTS.inc(outcome="read")
        state.counters["read"] += 1
        state.counters.update(f"skipped_{reason}" for reason in visit.unread_pages)
        if visit.outcome is not None and keeping:
            kept.append((visit.outcome, visit.depth))
        else:
            metrics.DISCOVERY_ARTISTS.inc(outcome="filtered")
            state.counters["filtered"] += 1
        if visit.leads is not None:
            found: list[UserLead] | None = self._usable(state, visit.leads)
            for lead in found or []:
                state.offer(lead, visit.depth + 1, query, now=now)

    async def _reload(self, state: WalkState) -> None:
        """Fill the heap from the table: the best unread leads (nothing is in flight and all
        that was read is committed, so none of them is being read)."""
        async with self._sessions() as session:
            leads = await DiscoveryJobRepository(session, self.workspace_id).frontier(
                self.job_id, FRONTIER_IN_MEMORY
            )
        state.frontier = [(-lead.priority, lead.soundcloud_id, lead.depth) for lead in leads]
        heapq.heapify(state.frontier)
        state.more_stored = len(leads) == FRONTIER_IN_MEMORY

    async def _commit(
        self,
        state: WalkState,
        kept: list[tuple[Found, int]],
        batch: Batch,
        pool: ScraperPool,
    ) -> None:
        """Write what was kept, the leads found and the artists read, with the counters taken
        with them, in one transaction; stop if the job was cancelled meanwhile."""
        fetched_at = datetime.now(UTC)
        async with self._transaction() as activity:
            jobs = DiscoveryJobRepository(activity.session, self.workspace_id)
            if (await jobs.lock_status(self.job_id)).is_final:
                raise _Stopped
            written: Counter[str] = Counter()
            if kept:
                written = await self._write_artists(activity.session, jobs, kept, fetched_at)
                activity.invalidate("artist")
                activity.invalidate_catalogue()
            new = await jobs.add_leads(self.job_id, batch.leads)
            written["filtered_early"] += sum(lead.ruled_out for lead in new)
            await jobs.mark_visited(self.job_id, batch.read)
            counters = Counter(batch.counters)
            counters.update(written)  # (not ``+``: that drops the counters still at 0)
            stored = state.stored + sum(not lead.ruled_out for lead in new) - len(batch.read)
            checkpoint = {
                "seeded": state.seeded,
                "counters": dict(counters),
                "last_skip": batch.last_skip,
            }
            progress = self._progress(counters, stored, pool)
            await jobs.save_progress(self.job_id, progress, checkpoint)
            # The job's row keeps its progress: a tick is announced live, not audited.
            activity.announce("discovery_job.progress", "discovery_job", self.job_id, progress)
        state.saved(batch, new, written)
        metrics.DISCOVERY_ARTISTS.inc(len(kept), outcome="kept")
        metrics.DISCOVERY_FRONTIER.set(state.stored)

    async def _write_artists(
        self,
        session: Any,
        jobs: DiscoveryJobRepository,
        kept: list[tuple[Found, int]],
        fetched_at: datetime,
    ) -> Counter[str]:
        """Write the kept artists and everything found with them; returns what was written."""
        written: Counter[str] = Counter()
        artists = ArtistRepository(session)
        upserted = await artists.upsert_many(
            {**found.record, "fetched_at": fetched_at} for found, _ in kept
        )
        written["inserted"] += upserted.inserted
        written["updated"] += upserted.updated
        rows = [
            (upserted.ids[found.record["soundcloud_id"]], found, depth) for found, depth in kept
        ]
        written["profiles"] += await artists.upsert_social_profiles(
            {"artist_id": artist_id, "platform": platform, "url": url[:1000], "username": name}
            for artist_id, found, _ in rows
            for platform, url, name in found.profiles
        )
        await artists.add_snapshots(
            {
                "artist_id": artist_id,
                "followers": found.record["followers"],
                "tracks": found.record["tracks"],
                "captured_at": fetched_at,
            }
            for artist_id, found, _ in rows
        )
        written["contacts"] += await ArtistContactRepository(session, self.workspace_id).add_found(
            [
                {"artist_id": artist_id, "email": email, "source": source}
                for artist_id, found, _ in rows
                for email, source in found.emails
            ]
        )
        await jobs.record_results(
            self.job_id, [(artist_id, found.score, depth) for artist_id, found, depth in rows]
        )
        return written

    @staticmethod
    def _progress(counters: Counter[str], stored: int, pool: ScraperPool) -> dict[str, Any]:
        return {
            **counters,
            "frontier": stored,
            "scraper": pool.stats.snapshot(),
            # The walk's process at its largest (ru_maxrss is in KiB on Linux).
            "memory_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }

    @staticmethod
    def _usable(state: WalkState, answer: Any) -> Any:
        """A scraper's answer, or ``None`` for a skipped page (counted). A call that failed
        otherwise (a dead actor, a bug) is raised: the job fails and says why."""
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, Skipped):
            state.counters["skipped"] += 1
            state.counters[f"skipped_{answer.reason}"] += 1
            state.last_skip = f"{answer.reason}: {answer.detail}"
            return None
        return answer

    async def _finish(
        self,
        state: WalkState,
        pool: ScraperPool,
        status: DiscoveryJobStatus,
        *,
        error: str | None = None,
    ) -> None:
        progress = self._progress(state.counters, state.stored, pool)
        async with self._transaction() as activity:
            repo = DiscoveryJobRepository(activity.session, self.workspace_id)
            if (await repo.lock_status(self.job_id)).is_final:
                return
            # A failed job keeps the counters of its last commit: the ones in memory may count
            # artists whose write never happened.
            if status is DiscoveryJobStatus.COMPLETED:
                await repo.save_progress(self.job_id, progress, state.checkpoint())
            await repo.set_status(self.job_id, status, error=error)
            await activity.record(
                f"discovery_job.{status}",
                "discovery_job",
                self.job_id,
                progress if error is None else {**progress, "error": error},
            )

    async def _forget_leads(self) -> None:
        """A finished job needs its frontier and seen set no more (one still running, to be
        resumed, keeps them)."""
        async with self._sessions.begin() as session:
            repo = DiscoveryJobRepository(session, self.workspace_id)
            if (await repo.lock_status(self.job_id)).is_final:
                await repo.forget_leads(self.job_id)

    async def _final_status(self) -> DiscoveryJobStatus:
        async with self._sessions() as session:
            job = await DiscoveryJobRepository(session, self.workspace_id).get(self.job_id)
            return job.status


def _outside_followers(query: DiscoveryQuery, lead: UserLead) -> bool:
    """A lead whose known follower count already rules it out (saves reading it)."""
    if lead.followers is None:
        return False
    if query.min_followers is not None and lead.followers < query.min_followers:
        return True
    return query.max_followers is not None and lead.followers > query.max_followers


def _count_running(kind: str, change: int) -> None:
    _RUNNING[kind] += change
    metrics.DISCOVERY_JOBS_RUNNING.set(_RUNNING[kind], kind=kind)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


@ray.remote
class DiscoveryJobActor:
    """Runs one job. Detached and restarted by Ray after a crash or the loss of its node; the
    restarted actor walks on from the checkpoint by itself (Ray re-sends ``run`` only for a
    caller still alive, and the replica that started the job may have gone with the node), and
    a ``run`` sent again joins that walk."""

    def __init__(self, settings: Settings, job_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        telemetry.setup(settings, "discovery")
        self._walk = DiscoveryWalk(settings, job_id, workspace_id)
        self._running: asyncio.Task[DiscoveryJobStatus] | None = None
        if ray.get_runtime_context().was_current_actor_reconstructed:
            self._start()  # an async actor's __init__ runs on its event loop

    def _start(self) -> asyncio.Task[DiscoveryJobStatus]:
        if self._running is None:
            self._running = asyncio.create_task(self._walk.run())
            self._running.add_done_callback(_exit_soon)
        return self._running

    async def run(self, carrier: dict[str, str] | None = None) -> str:
        """The walk's final status. Calling it again joins the walk already under way."""
        with telemetry.continued(carrier, "DiscoveryJobActor.run"):
            status = await asyncio.shield(self._start())
            return str(status)


def _exit_soon(_: object) -> None:
    """A detached actor outlives its creator: end it once its walk is over, after the callers
    of ``run`` have had their answer."""
    me = ray.get_runtime_context().current_actor

    def end() -> None:
        telemetry.flush()  # ray.kill skips atexit: the walk's last spans go first
        ray.kill(me, no_restart=True)

    asyncio.get_running_loop().call_later(EXIT_DELAY_SECONDS, end)


def launch(settings: Settings, job_id: uuid.UUID, workspace_id: uuid.UUID) -> ray.ObjectRef[str]:
    """Start (or find) the job's actor and its walk; returns the walk's final status ref.

    Raises:
        RuntimeError: this process is not connected to Ray.
    """
    if not ray.is_initialized():
        raise RuntimeError("this process is not connected to Ray")
    actor = named_actor(
        DiscoveryJobActor,
        actor_name(job_id),
        settings,
        job_id,
        workspace_id,
        max_task_retries=-1,
    )
    ref: ray.ObjectRef[str] = actor.run.remote(carrier=telemetry.carry())
    # Ray re-sends ``run`` to a restarted actor on behalf of this process, the call's owner:
    # keep the reference alive here until the walk ends, whoever else holds it.
    _OWNED.add(ref)
    ref.future().add_done_callback(lambda _: _OWNED.discard(ref))
    return ref


async def resume_unfinished(settings: Settings) -> int:
    """Start again every job left queued or running (the service stopped under it); returns
    how many. Each resumes from its checkpoint."""
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            unfinished = await DiscoveryJobRepository.unfinished(session)
    finally:
        await engine.dispose()
    for workspace_id, job_id in unfinished:
        await asyncio.to_thread(launch, settings, job_id, workspace_id)
    return len(unfinished)


def main(argv: list[str] | None = None) -> None:
    """Entry point of a submitted Ray Job: ``python -m actors.discovery JOB_ID WORKSPACE_ID``.

    Settings come from the job's environment (``CM_*``); the walk runs in the job's driver and
    fans out to scraper actors on the cluster.
    """
    import sys

    from core.settings import load_settings

    job_id, workspace_id = (uuid.UUID(value) for value in (argv or sys.argv[1:]))
    ray.init(address="auto", namespace=NAMESPACE, log_to_driver=False)
    settings = load_settings()
    telemetry.setup(settings, "job")
    # The job's own trace: the walk, its scraper calls and its writes.
    with telemetry.span("discovery job", kind="consumer", attributes={"job.id": str(job_id)}):
        status = asyncio.run(DiscoveryWalk(settings, job_id, workspace_id, kind="ray_job").run())
    print(f"discovery job {job_id}: {status}")


if __name__ == "__main__":
    main()
