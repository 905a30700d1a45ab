"""A write's side effects: its audit row lives and dies with the writer's transaction; its event
and stale cached reads follow the commit, and a rolled-back write publishes nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.activity import Activity
from storage.database import create_sessionmaker
from storage.events import EventBus, EventSubscription
from storage.models import AuditLogEntry
from storage.read_versions import CATALOGUE_VERSION_KEY, version_key
from tests.factories import make_user, make_workspace

# How long a test waits for an event it expects (a bound, not a timing assertion).
EVENT_WAIT_SECONDS = 10.0


async def committed_workspace(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    """``(workspace_id, owner_id)`` of a new, committed workspace."""
    async with create_sessionmaker(engine).begin() as session:
        owner = await make_user(session)
        workspace = await make_workspace(session, owner=owner)
        return workspace.id, owner.id


async def audit_rows(engine: AsyncEngine, workspace_id: uuid.UUID) -> list[AuditLogEntry]:
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.workspace_id == workspace_id)
            .order_by(AuditLogEntry.id)
        )
        return list(rows)


async def no_event_left(events: EventSubscription, redis: Redis, workspace_id: uuid.UUID) -> Any:
    """The first event after a marker this test publishes itself: proves nothing came before."""
    await EventBus(redis).publish(workspace_id, {"type": "marker"})
    return await asyncio.wait_for(anext(events), EVENT_WAIT_SECONDS)


async def version(redis: Redis, key: str) -> int:
    return int(await redis.get(key) or 0)


class TestAUsersWrite:
    async def test_leaves_its_audit_row_in_the_callers_transaction(
        self, session: AsyncSession, redis: Redis
    ) -> None:
        owner = await make_user(session)
        workspace = await make_workspace(session, owner=owner)
        activity = Activity(session, redis, workspace.id, user_id=owner.id, request_id="req-1")
        await activity.record("campaign.create", "campaign", uuid.uuid4(), {"name": "Spring"})

        count = select(func.count()).select_from(AuditLogEntry)
        where = AuditLogEntry.workspace_id == workspace.id
        # Visible inside the transaction, before any commit...
        [row] = (await session.scalars(select(AuditLogEntry).where(where))).all()
        assert (row.actor_user_id, row.action, row.data, row.request_id) == (
            owner.id,
            "campaign.create",
            {"name": "Spring"},
            "req-1",
        )
        # ...and gone with it when it rolls back.
        await session.rollback()
        assert await session.scalar(count.where(where)) == 0

    async def test_publishes_its_event_and_makes_reads_stale_only_after_commit(
        self, engine: AsyncEngine, redis: Redis
    ) -> None:
        workspace_id, owner_id = await committed_workspace(engine)
        campaign_id = uuid.uuid4()
        before = await version(redis, version_key(workspace_id, "campaign"))
        async with EventBus(redis).subscribe(workspace_id) as events:
            async with create_sessionmaker(engine).begin() as session:
                activity = Activity(session, redis, workspace_id, user_id=owner_id)
                await activity.record("campaign.create", "campaign", campaign_id, {"name": "S"})
            # Committed, but not yet published: the edge publishes after commit.
            assert (await no_event_left(events, redis, workspace_id))["type"] == "marker"
            assert await version(redis, version_key(workspace_id, "campaign")) == before

            await activity.after_commit()
            event = await asyncio.wait_for(anext(events), EVENT_WAIT_SECONDS)
        assert await version(redis, version_key(workspace_id, "campaign")) == before + 1
        assert {k: event[k] for k in ("type", "entity_type", "entity_id", "actor_id")} == {
            "type": "campaign.create",
            "entity_type": "campaign",
            "entity_id": str(campaign_id),
            "actor_id": str(owner_id),
        }
        assert (event["actor"], event["data"]) == ("user", {"name": "S"})
        assert len(await audit_rows(engine, workspace_id)) == 1


class TestASystemWrite:
    async def test_is_audited_without_a_user_and_signed_with_its_label(
        self, engine: AsyncEngine, redis: Redis
    ) -> None:
        workspace_id, _ = await committed_workspace(engine)
        job_id = uuid.uuid4()
        catalogue = await version(redis, CATALOGUE_VERSION_KEY)
        async with EventBus(redis).subscribe(workspace_id) as events:
            sessions = create_sessionmaker(engine)
            async with Activity.transaction(
                sessions, redis, workspace_id, system="discovery"
            ) as activity:
                await activity.record("discovery_job.running", "discovery_job", job_id, {"n": 1})
                activity.announce("discovery_job.progress", "discovery_job", job_id, {"kept": 2})
                activity.invalidate_catalogue()
            running = await asyncio.wait_for(anext(events), EVENT_WAIT_SECONDS)
            progress = await asyncio.wait_for(anext(events), EVENT_WAIT_SECONDS)

        [row] = await audit_rows(engine, workspace_id)  # the progress tick is not audited
        assert (row.actor_user_id, row.action, row.data) == (
            None,
            "discovery_job.running",
            {"n": 1, "system": "discovery"},
        )
        assert (running["actor_id"], running["actor"], running["data"]) == (
            None,
            "system",
            {"n": 1},
        )
        assert (progress["type"], progress["data"]) == ("discovery_job.progress", {"kept": 2})
        assert await version(redis, CATALOGUE_VERSION_KEY) == catalogue + 1

    def test_names_exactly_one_actor(self, session: AsyncSession, redis: Redis) -> None:
        with pytest.raises(ValueError, match="either a user's"):
            Activity(session, redis, uuid.uuid4())
        with pytest.raises(ValueError, match="either a user's"):
            Activity(session, redis, uuid.uuid4(), user_id=uuid.uuid4(), system="discovery")


async def failing_step(engine: AsyncEngine, redis: Redis, workspace_id: uuid.UUID) -> None:
    """An actor step that records a write, then fails before its transaction commits."""
    async with Activity.transaction(
        create_sessionmaker(engine), redis, workspace_id, system="discovery"
    ) as activity:
        await activity.record("discovery_job.failed", "discovery_job", uuid.uuid4())
        raise LookupError("the step failed after recording")


class TestAWriteThatRollsBack:
    async def test_publishes_nothing_and_leaves_no_audit_row(
        self, engine: AsyncEngine, redis: Redis
    ) -> None:
        workspace_id, _ = await committed_workspace(engine)
        before = await version(redis, version_key(workspace_id, "discovery_job"))
        async with EventBus(redis).subscribe(workspace_id) as events:
            with pytest.raises(LookupError):
                await failing_step(engine, redis, workspace_id)
            assert (await no_event_left(events, redis, workspace_id))["type"] == "marker"
        assert await audit_rows(engine, workspace_id) == []
        assert await version(redis, version_key(workspace_id, "discovery_job")) == before
