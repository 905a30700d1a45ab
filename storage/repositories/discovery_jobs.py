"""Discovery jobs: the query, status, live counters and the checkpoint a resumed job reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, BigInteger, any_, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import DiscoveryJobStatus
from core.errors import Conflict, NotFound, RateLimited
from storage.models import Artist, DiscoveryJob, DiscoveryJobArtist, DiscoveryJobLead
from storage.repositories.base import (
    Page,
    ScopedRepository,
    SortOrder,
    paginate,
    write_guard,
)

UNFINISHED = (DiscoveryJobStatus.QUEUED, DiscoveryJobStatus.RUNNING)
# One statement for a whole batch of leads, however many: four arrays, unnested.
_ADD_LEADS = text(
    "INSERT INTO discovery_job_leads (job_id, soundcloud_id, priority, depth, visited) "
    "SELECT :job_id, lead.* FROM unnest("
    "CAST(:ids AS bigint[]), CAST(:priorities AS float8[]), CAST(:depths AS smallint[]), "
    "CAST(:visited AS boolean[])) AS lead "
    "ON CONFLICT DO NOTHING RETURNING soundcloud_id"
)


class Lead(NamedTuple):
    """An artist a walk has seen and may read: ``ruled_out`` ones (the list they were seen in
    already shows them outside the query) are only remembered, never read."""

    soundcloud_id: int
    priority: float
    depth: int
    ruled_out: bool = False


# What a refused submission suggests as Retry-After: jobs take minutes, not seconds.
JOB_SLOT_RETRY_SECONDS = 60.0


class DiscoveryJobRepository(ScopedRepository[DiscoveryJob]):
    model = DiscoveryJob
    noun = "discovery job"
    sortable = {"created_at": "created_at", "updated_at": "updated_at"}

    async def submit(
        self, *, query: dict[str, Any], created_by: uuid.UUID | None, limit: int | None = None
    ) -> DiscoveryJob:
        """A queued job; with ``limit``, only while the workspace has fewer unfinished jobs.

        The count and the insert happen under a lock per workspace held until the caller's
        transaction ends, so two submissions at once cannot both take the last place.

        Raises:
            RateLimited: the workspace already has ``limit`` jobs queued or running.
        """
        if limit is not None:
            await self.session.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended(self._lock_key, 0)))
            )
            unfinished = await self.session.scalar(
                select(func.count())
                .select_from(DiscoveryJob)
                .where(
                    DiscoveryJob.workspace_id == self.workspace_id,
                    DiscoveryJob.status.in_(UNFINISHED),
                )
            )
            if (unfinished or 0) >= limit:
                raise RateLimited(
                    f"this workspace already has {unfinished} discovery jobs queued or running, "
                    f"the limit is {limit} at a time (CM_DISCOVERY_JOBS_PER_WORKSPACE): wait for "
                    "one to finish or cancel one",
                    retry_after=JOB_SLOT_RETRY_SECONDS,
                )
        return await self.create(query=query, created_by=created_by, progress={}, checkpoint={})

    @property
    def _lock_key(self) -> str:
        return f"discovery_jobs:{self.workspace_id}"

    async def set_status(
        self, job_id: uuid.UUID, status: DiscoveryJobStatus, *, error: str | None = None
    ) -> DiscoveryJob:
        job = await self._locked(job_id)
        if job.status.is_final:
            raise Conflict(f"discovery job {job_id} already {job.status}")
        now = datetime.now(UTC)
        async with write_guard(self.session, self.noun):
            job.status = status
            if status is DiscoveryJobStatus.RUNNING and job.started_at is None:
                job.started_at = now
            if status.is_final:
                job.finished_at = now
            job.error = error
        # updated_at is set by the database: load it now rather than lazily later.
        await self.session.refresh(job)
        return job

    async def save_progress(
        self, job_id: uuid.UUID, progress: dict[str, Any], checkpoint: dict[str, Any] | None = None
    ) -> None:
        """Store counters (and the resume checkpoint) in one write, so they never disagree.

        One UPDATE, no read first: the runner writes these several times a second.
        """
        values: dict[str, Any] = {"progress": progress}
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
        result = await self.session.execute(
            update(DiscoveryJob)
            .where(DiscoveryJob.workspace_id == self.workspace_id, DiscoveryJob.id == job_id)
            .values(**values)
            .returning(DiscoveryJob.id)
        )
        if result.first() is None:
            raise NotFound(f"discovery job {job_id} not found")

    async def locked(self, job_id: uuid.UUID) -> DiscoveryJob:
        """The job, locked until the transaction ends (the runner's write lock; cancel waits)."""
        return await self._locked(job_id)

    async def lock_status(self, job_id: uuid.UUID) -> DiscoveryJobStatus:
        """The job's status, its row locked until the transaction ends; nothing else is read
        (the checkpoint can be large)."""
        status = await self.session.scalar(
            select(DiscoveryJob.status)
            .where(DiscoveryJob.workspace_id == self.workspace_id, DiscoveryJob.id == job_id)
            .with_for_update()
        )
        if status is None:
            raise NotFound(f"discovery job {job_id} not found")
        return status

    async def record_results(
        self, job_id: uuid.UUID, results: list[tuple[uuid.UUID, float, int]]
    ) -> int:
        """Add ``(artist_id, score, depth)`` rows to the job's result list; known ones are kept."""
        if not results:
            return 0
        rows = {
            artist_id: {
                "job_id": job_id,
                "artist_id": artist_id,
                "workspace_id": self.workspace_id,
                "score": score,
                "depth": depth,
            }
            for artist_id, score, depth in results
        }
        # Rows as parameters: one compiled statement, however many rows.
        inserted = await self.session.execute(
            insert(DiscoveryJobArtist)
            .on_conflict_do_nothing()
            .returning(DiscoveryJobArtist.artist_id),
            list(rows.values()),
        )
        return len(inserted.all())

    async def results(
        self, job_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[Page[DiscoveryJobArtist], dict[uuid.UUID, Artist]]:
        """The artists the job kept, best score first, and their catalogue rows by id."""
        await self.get(job_id)
        page = await paginate(
            self.session,
            select(DiscoveryJobArtist).where(
                DiscoveryJobArtist.workspace_id == self.workspace_id,
                DiscoveryJobArtist.job_id == job_id,
            ),
            id_column=DiscoveryJobArtist.artist_id,
            order=SortOrder(key="score", column=DiscoveryJobArtist.score, descending=True),
            limit=limit,
            cursor=cursor,
        )
        ids = [row.artist_id for row in page.items]
        artists = await self.session.scalars(select(Artist).where(Artist.id.in_(ids)))
        return page, {artist.id: artist for artist in artists}

    async def add_leads(self, job_id: uuid.UUID, leads: Sequence[Lead]) -> list[Lead]:
        """Add leads the job has not seen before; returns those that were new (the others, seen
        in an earlier batch, are left as they were: first sight decides the depth)."""
        if not leads:
            return []
        added = await self.session.execute(
            _ADD_LEADS,
            {
                "job_id": job_id,
                "ids": [lead.soundcloud_id for lead in leads],
                "priorities": [lead.priority for lead in leads],
                "depths": [lead.depth for lead in leads],
                "visited": [lead.ruled_out for lead in leads],
            },
        )
        new = set(added.scalars())
        return [lead for lead in leads if lead.soundcloud_id in new]

    async def mark_visited(self, job_id: uuid.UUID, soundcloud_ids: Sequence[int]) -> None:
        """Take artists off the job's frontier: read (kept, filtered or skipped)."""
        if soundcloud_ids:
            await self.session.execute(
                update(DiscoveryJobLead)
                .where(
                    DiscoveryJobLead.job_id == job_id,
                    DiscoveryJobLead.soundcloud_id
                    == any_(bindparam("ids", list(soundcloud_ids), type_=ARRAY(BigInteger))),
                )
                .values(visited=True)
            )

    async def frontier(self, job_id: uuid.UUID, limit: int) -> list[Lead]:
        """The ``limit`` most promising leads the job has yet to read."""
        rows = await self.session.execute(
            select(
                DiscoveryJobLead.soundcloud_id, DiscoveryJobLead.priority, DiscoveryJobLead.depth
            )
            .where(DiscoveryJobLead.job_id == job_id, DiscoveryJobLead.visited.is_(False))
            .order_by(DiscoveryJobLead.priority.desc())
            .limit(limit)
        )
        return [Lead(soundcloud_id, priority, depth) for soundcloud_id, priority, depth in rows]

    async def frontier_size(self, job_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    DiscoveryJobLead.job_id == job_id, DiscoveryJobLead.visited.is_(False)
                )
            )
            or 0
        )

    async def forget_leads(self, job_id: uuid.UUID) -> int:
        """Drop a finished job's frontier and seen set (its results stay)."""
        result = await self.session.execute(
            delete(DiscoveryJobLead).where(DiscoveryJobLead.job_id == job_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    async def workspace_of(session: AsyncSession, job_id: uuid.UUID) -> uuid.UUID:
        """The workspace a job belongs to (for the operator's CLI and the job runner)."""
        workspace_id = await session.scalar(
            select(DiscoveryJob.workspace_id).where(DiscoveryJob.id == job_id)
        )
        if workspace_id is None:
            raise NotFound(f"discovery job {job_id} not found")
        return workspace_id

    @staticmethod
    async def unfinished(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """``(workspace_id, job_id)`` of every queued or running job, in all workspaces (for
        resuming them when the service starts)."""
        statement = select(DiscoveryJob.workspace_id, DiscoveryJob.id).where(
            DiscoveryJob.status.in_(UNFINISHED)
        )
        return [(w, j) for w, j in (await session.execute(statement.order_by(DiscoveryJob.id)))]

    async def _locked(self, job_id: uuid.UUID) -> DiscoveryJob:
        job = await self.session.scalar(
            select(DiscoveryJob)
            .where(DiscoveryJob.workspace_id == self.workspace_id, DiscoveryJob.id == job_id)
            .with_for_update()
        )
        if job is None:
            raise NotFound(f"discovery job {job_id} not found")
        return job
