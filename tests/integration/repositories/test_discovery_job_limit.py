"""A workspace runs a limited number of discovery jobs at a time, and the limit holds when
submissions race: the count and the insert are one decision per workspace."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.enums import DiscoveryJobStatus
from core.errors import RateLimited
from storage.database import create_sessionmaker
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from tests.factories import make_workspace

QUERY = {"search_terms": ["techno"]}


async def committed_workspace(engine: AsyncEngine) -> uuid.UUID:
    async with create_sessionmaker(engine).begin() as session:
        return (await make_workspace(session)).id


async def submit(engine: AsyncEngine, workspace_id: uuid.UUID, limit: int) -> uuid.UUID:
    async with create_sessionmaker(engine).begin() as session:
        job = await DiscoveryJobRepository(session, workspace_id).submit(
            query=QUERY, created_by=None, limit=limit
        )
        return job.id


class TestJobsAtATime:
    async def test_a_job_past_the_limit_is_refused_naming_it(self, engine: AsyncEngine) -> None:
        workspace_id = await committed_workspace(engine)
        await submit(engine, workspace_id, limit=2)
        await submit(engine, workspace_id, limit=2)
        with pytest.raises(RateLimited, match="CM_DISCOVERY_JOBS_PER_WORKSPACE"):
            await submit(engine, workspace_id, limit=2)
        # Another workspace has places of its own.
        await submit(engine, await committed_workspace(engine), limit=2)

    async def test_finished_jobs_give_their_place_back(self, engine: AsyncEngine) -> None:
        workspace_id = await committed_workspace(engine)
        first = await submit(engine, workspace_id, limit=1)
        async with create_sessionmaker(engine).begin() as session:
            await DiscoveryJobRepository(session, workspace_id).set_status(
                first, DiscoveryJobStatus.CANCELLED
            )
        await submit(engine, workspace_id, limit=1)


class TestRacingSubmissions:
    async def test_two_submissions_at_once_cannot_both_take_the_last_place(
        self, engine: AsyncEngine
    ) -> None:
        workspace_id = await committed_workspace(engine)
        await submit(engine, workspace_id, limit=2)
        async with create_sessionmaker(engine).begin() as first:
            await DiscoveryJobRepository(first, workspace_id).submit(
                query=QUERY, created_by=None, limit=2
            )
            # The second submission starts while the first is not committed yet: it must wait
            # for the first's outcome rather than count without it.
            second = asyncio.ensure_future(submit(engine, workspace_id, limit=2))
            await asyncio.wait({second}, timeout=1.0)
        with pytest.raises(RateLimited):
            await asyncio.wait_for(second, 30)
