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
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ray

from actors.named import NAMESPACE, named_actor
from actors.scraper_pool import (
    ArtistDetails,
    ArtistLead,
    LeadSource,
    ScraperPool,
    Skipped,
    Visit,
)
from core.discovery import Candidate, DiscoveryQuery, score
from core.enums import DiscoveryJobStatus
from core.settings import Settings
from storage.activity import Activity
from storage.database import create_engine, create_sessionmaker
from storage.redis_client import create_redis
from storage.repositories.artists import ArtistRepository
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.discovery_jobs import DiscoveryJobRepository

log = logging.getLogger(__name__)

# Leads read per seed source, and neighbours per artist and list.
LEADS_PER_SOURCE = 200
NEIGHBOURS_PER_LIST = 50
EXIT_DELAY_SECONDS = 2.0
# A walk commits what it kept this often, reading on meanwhile.
COMMIT_EVERY_SECONDS = 0.5
COMMIT_EVERY_ARTISTS = 64
# Error text kept on a failed job.
MAX_ERROR_CHARS = 500
# How a job's own writes are signed in the audit log and on the live channel (no user made them).
SYSTEM_ACTOR = "discovery"


_OWNED: set[ray.ObjectRef[str]] = set()


def actor_name(job_id: uuid.UUID) -> str:
    return f"discovery-job-{job_id}"


class _Stopped(Exception):
    """The job was cancelled (or otherwise finished) by someone else."""


@dataclass
class WalkState:
    """Where a walk is: what it has seen, what is left to read (a heap), what it counted."""

    seeded: bool = False
    frontier: list[tuple[float, int, int]] = field(default_factory=list)  # (-priority, id, depth)
    seen: set[int] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)
    # What the last skipped page said: the reason a job that could read nothing fails with.
    last_skip: str | None = None

    def push(self, lead: ArtistLead, depth: int, *, now: datetime) -> bool:
        if lead.soundcloud_id in self.seen:
            return False
        self.seen.add(lead.soundcloud_id)
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
        heapq.heappush(self.frontier, (-priority, lead.soundcloud_id, depth))
        return True

    def checkpoint(self, reading: Iterable[tuple[float, int, int]] = ()) -> dict[str, Any]:
        """The state to resume from if nothing after this moment is committed: artists being
        read go back to the frontier."""
        return {
            "seeded": self.seeded,
            "frontier": [list(entry) for entry in (*self.frontier, *reading)],
            "seen": sorted(self.seen),
            "counters": dict(self.counters),
            "last_skip": self.last_skip,
        }

    @classmethod
    def from_checkpoint(cls, data: dict[str, Any]) -> WalkState:
        state = cls(
            seeded=bool(data.get("seeded")),
            frontier=[(float(p), int(i), int(d)) for p, i, d in data.get("frontier", [])],
            seen={int(i) for i in data.get("seen", [])},
            counters=Counter({str(k): int(v) for k, v in data.get("counters", {}).items()}),
            last_skip=data.get("last_skip"),
        )
        heapq.heapify(state.frontier)
        return state

    def nothing_read(self) -> str | None:
        """Why the walk failed, when pages failed and not one artist could be read (SoundCloud
        unreachable, every answer an error): such a job has not completed. ``None`` when an
        artist was read, or nothing failed (a search that found no one)."""
        if self.counters["read"] or not self.counters["skipped"]:
            return None
        return f"no artist could be read: {self.counters['skipped']} pages failed" + (
            f" (last: {self.last_skip})" if self.last_skip else ""
        )


def catalogue_record(details: ArtistDetails, fetched_at: datetime) -> dict[str, Any]:
    """The artist's catalogue row, cut to the columns' sizes."""
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
        "fetched_at": fetched_at,
    }


class DiscoveryWalk:
    """One job's walk. ``run`` is idempotent: it resumes from the stored checkpoint."""

    def __init__(self, settings: Settings, job_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("resolve CM_DATABASE_URL and CM_REDIS_URL before running a job")
        self.settings = settings
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
            try:
                await self._walk()
            except Exception as exc:
                # Whatever went wrong, a job must not stay "running" with nothing behind it.
                log.exception("discovery job %s failed", self.job_id)
                await self._fail(_describe(exc))
            return await self._final_status()
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
        pool = ScraperPool(self.settings)
        limit = self.settings.discovery_job_max_seconds
        # From the job's first start: a restarted job does not get its time again.
        deadline = started_at.timestamp() + limit
        try:
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
            log.exception("discovery job %s failed", self.job_id)
            await self._finish(state, pool, DiscoveryJobStatus.FAILED, error=_describe(exc))
        finally:
            await pool.close()

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
            leads: list[ArtistLead] | None = self._usable(state, answer)
            self._push_all(query, state, leads or [], 0, now)
        state.seeded = True
        await self._commit(state, [], self._snapshot(state, []), pool=pool)

    async def _stream(self, pool: ScraperPool, query: DiscoveryQuery, state: WalkState) -> None:
        """Visit artists with up to ``pool.parallelism`` calls in flight, refilling as each one
        answers, and commit what is kept every ``COMMIT_EVERY_SECONDS`` (or
        ``COMMIT_EVERY_ARTISTS``) while visiting goes on."""
        visiting: dict[asyncio.Future[Any], tuple[float, int, int]] = {}
        kept: list[tuple[ArtistDetails, float, int]] = []

        def wanted() -> int:
            return query.max_artists - state.counters["kept"] - len(kept)

        # Commits run beside the walk (one at a time), so visits go on while one is written.
        committing: asyncio.Future[None] | None = None
        last_commit = time.monotonic()
        try:
            while wanted() > 0:
                # Some visits end up filtered out or skipped: read ahead, but not far beyond
                # what can still be kept.
                while (
                    state.frontier
                    and len(visiting) < pool.parallelism
                    and len(visiting) < 2 * wanted()
                ):
                    entry = heapq.heappop(state.frontier)
                    call = pool.call("visit", entry[1], entry[2], query, NEIGHBOURS_PER_LIST)
                    visiting[asyncio.ensure_future(call)] = entry
                if not visiting:
                    break
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
                    _, _, depth = visiting.pop(future)
                    visit: Visit = self._usable(state, future.exception() or future.result())
                    state.counters["examined"] += 1
                    details: ArtistDetails | None = self._usable(state, visit.details)
                    if details is None:
                        continue
                    state.counters["read"] += 1
                    state.counters.update(f"skipped_{reason}" for reason in details.unread_pages)
                    if visit.matched and wanted() > 0:
                        kept.append((details, visit.score, depth))
                    else:
                        state.counters["filtered"] += 1
                    if visit.leads is not None:
                        found: list[ArtistLead] | None = self._usable(state, visit.leads)
                        self._push_all(query, state, found or [], depth + 1, now)
                if committing is None and (
                    len(kept) >= COMMIT_EVERY_ARTISTS
                    or time.monotonic() - last_commit >= COMMIT_EVERY_SECONDS
                ):
                    checkpoint = self._snapshot(state, kept, visiting.values())
                    committing = asyncio.ensure_future(
                        self._commit(state, kept, checkpoint, pool=pool)
                    )
                    kept = []
                    last_commit = time.monotonic()
            if committing is not None:
                await committing
                committing = None
            await self._commit(state, kept, self._snapshot(state, kept), pool=pool)
        finally:
            for future in (*visiting, *([committing] if committing else [])):
                future.cancel()

    def _push_all(
        self,
        query: DiscoveryQuery,
        state: WalkState,
        leads: Iterable[ArtistLead],
        depth: int,
        now: datetime,
    ) -> None:
        for lead in leads:
            if _outside_followers(query, lead):
                if lead.soundcloud_id not in state.seen:
                    state.counters["filtered_early"] += 1
                    state.seen.add(lead.soundcloud_id)
                continue
            state.push(lead, depth, now=now)

    def _snapshot(
        self,
        state: WalkState,
        kept: list[tuple[ArtistDetails, float, int]],
        reading: Iterable[tuple[float, int, int]] = (),
    ) -> dict[str, Any]:
        """The checkpoint that goes with committing ``kept``: taken now, while the walk goes on
        (artists being visited go back to the frontier in it)."""
        state.counters["kept"] += len(kept)
        return state.checkpoint(reading)

    async def _commit(
        self,
        state: WalkState,
        kept: list[tuple[ArtistDetails, float, int]],
        checkpoint: dict[str, Any],
        *,
        pool: ScraperPool | None = None,
    ) -> None:
        """Write what was kept, and the checkpoint taken with it, in one transaction; stop if
        the job was cancelled meanwhile."""
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
            state.counters.update(written)
            counters = Counter(checkpoint["counters"])
            counters.update(written)
            checkpoint["counters"] = dict(counters)
            progress: dict[str, Any] = {**counters, "frontier": len(checkpoint["frontier"])}
            if pool is not None:
                progress["scraper"] = await pool.stats()
            await jobs.save_progress(self.job_id, progress, checkpoint)
            # The job's row keeps its progress: a tick is announced live, not audited.
            activity.announce("discovery_job.progress", "discovery_job", self.job_id, progress)

    async def _write_artists(
        self,
        session: Any,
        jobs: DiscoveryJobRepository,
        kept: list[tuple[ArtistDetails, float, int]],
        fetched_at: datetime,
    ) -> Counter[str]:
        """Write the kept artists and everything found with them; returns what was written."""
        written: Counter[str] = Counter()
        artists = ArtistRepository(session)
        upserted = await artists.upsert_many(catalogue_record(d, fetched_at) for d, _, _ in kept)
        written["inserted"] += upserted.inserted
        written["updated"] += upserted.updated
        ids = upserted.ids
        written["profiles"] += await artists.upsert_social_profiles(
            {"artist_id": ids[d.user.id], "platform": platform, "url": url[:1000], "username": name}
            for d, _, _ in kept
            for platform, url, name in d.profiles
        )
        await artists.add_snapshots(
            {
                "artist_id": ids[d.user.id],
                "followers": d.user.followers_count or 0,
                "tracks": d.user.track_count or 0,
                "captured_at": fetched_at,
            }
            for d, _, _ in kept
        )
        written["contacts"] += await ArtistContactRepository(session, self.workspace_id).add_found(
            [
                {"artist_id": ids[d.user.id], "email": email, "source": source}
                for d, _, _ in kept
                for email, source in d.emails
            ]
        )
        await jobs.record_results(
            self.job_id, [(ids[d.user.id], points, depth) for d, points, depth in kept]
        )
        return written

    async def _progress(self, state: WalkState, pool: ScraperPool) -> dict[str, Any]:
        return {**state.counters, "frontier": len(state.frontier), "scraper": await pool.stats()}

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
        progress = await self._progress(state, pool)
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

    async def _final_status(self) -> DiscoveryJobStatus:
        async with self._sessions() as session:
            job = await DiscoveryJobRepository(session, self.workspace_id).get(self.job_id)
            return job.status


def _outside_followers(query: DiscoveryQuery, lead: ArtistLead) -> bool:
    """A lead whose known follower count already rules it out (saves reading it)."""
    if lead.followers is None:
        return False
    if query.min_followers is not None and lead.followers < query.min_followers:
        return True
    return query.max_followers is not None and lead.followers > query.max_followers


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


@ray.remote
class DiscoveryJobActor:
    """Runs one job. Detached and restarted by Ray after a crash; ``run`` then runs again
    (``max_task_retries``) and resumes from the checkpoint."""

    def __init__(self, settings: Settings, job_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        self._walk = DiscoveryWalk(settings, job_id, workspace_id)
        self._running: asyncio.Task[DiscoveryJobStatus] | None = None

    async def run(self) -> str:
        """The walk's final status. Calling it again joins the walk already under way."""
        if self._running is None:
            self._running = asyncio.create_task(self._walk.run())
            self._running.add_done_callback(_exit_soon)
        status = await asyncio.shield(self._running)
        return str(status)


def _exit_soon(_: object) -> None:
    """A detached actor outlives its creator: end it once its walk is over, after the callers
    of ``run`` have had their answer."""
    me = ray.get_runtime_context().current_actor
    asyncio.get_running_loop().call_later(EXIT_DELAY_SECONDS, lambda: ray.kill(me, no_restart=True))


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
    ref: ray.ObjectRef[str] = actor.run.remote()
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
    status = asyncio.run(DiscoveryWalk(load_settings(), job_id, workspace_id).run())
    print(f"discovery job {job_id}: {status}")


if __name__ == "__main__":
    main()
