"""Discovery jobs: the query, status, live counters and the checkpoint a resumed job reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from core.enums import DiscoveryJobStatus
from core.errors import Conflict, NotFound
from storage.models import DiscoveryJob
from storage.repositories.base import ScopedRepository, write_guard


class DiscoveryJobRepository(ScopedRepository[DiscoveryJob]):
    model = DiscoveryJob
    noun = "discovery job"
    sortable = {"created_at": "created_at", "updated_at": "updated_at"}

    async def submit(self, *, query: dict[str, Any], created_by: uuid.UUID | None) -> DiscoveryJob:
        return await self.create(query=query, created_by=created_by, progress={}, checkpoint={})

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
        return job

    async def save_progress(
        self, job_id: uuid.UUID, progress: dict[str, Any], checkpoint: dict[str, Any] | None = None
    ) -> DiscoveryJob:
        """Store counters (and the resume checkpoint) in one write, so they never disagree."""
        job = await self._locked(job_id)
        async with write_guard(self.session, self.noun):
            job.progress = progress
            if checkpoint is not None:
                job.checkpoint = checkpoint
        return job

    async def _locked(self, job_id: uuid.UUID) -> DiscoveryJob:
        job = await self.session.scalar(
            select(DiscoveryJob)
            .where(DiscoveryJob.workspace_id == self.workspace_id, DiscoveryJob.id == job_id)
            .with_for_update()
        )
        if job is None:
            raise NotFound(f"discovery job {job_id} not found")
        return job
