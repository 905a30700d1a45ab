"""A discovery job's own transitions are recorded like any write: audit rows signed by the
system, and the live events clients follow, with the shapes they rely on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from scraping.fixture import FixtureSite
from storage.events import EventSubscription
from tests.serve.conftest import Account, register, workspace_events
from tests.serve.test_discovery import JOB_TIMEOUT_SECONDS, JOBS, wait_for_job


async def events_until(events: EventSubscription, last: str) -> list[dict[str, Any]]:
    """The workspace's events up to and including the first of type ``last``."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(JOB_TIMEOUT_SECONDS):
        async for event in events:
            seen.append(event)
            if event["type"] == last:
                return seen
    raise AssertionError(f"the event stream ended before {last}")


@pytest.fixture
async def local_owner(local_api: httpx.AsyncClient) -> Account:
    return await register(local_api)


@pytest.fixture
async def live(redis_url: str, local_owner: Account) -> AsyncIterator[EventSubscription]:
    async with workspace_events(redis_url, local_owner) as events:
        yield events


class TestAFinishedJob:
    async def test_left_audit_rows_for_its_transitions_and_told_the_workspace(
        self,
        ray_cluster: None,
        local_api: httpx.AsyncClient,
        soundcloud_site: FixtureSite,
        local_owner: Account,
        live: EventSubscription,
    ) -> None:
        seed = next(u for u in soundcloud_site.graph.users if not u.malformed)
        started = await local_api.post(
            JOBS,
            json={"seed_artists": [seed.permalink], "max_artists": 1, "max_depth": 0},
            headers=local_owner.headers,
        )
        assert started.status_code == 201, started.text
        job_id = started.json()["id"]
        events = await events_until(live, "discovery_job.completed")
        job = await wait_for_job(local_api, local_owner, job_id)
        assert job["status"] == "completed", job

        audit = await local_api.get(
            "/api/v1/audit-log",
            params={"entity_type": "discovery_job", "entity_id": job_id},
            headers=local_owner.headers,
        )
        rows = list(reversed(audit.json()["items"]))  # oldest first
        assert [(r["action"], r["actor_user_id"]) for r in rows] == [
            ("discovery_job.create", local_owner.user_id),
            ("discovery_job.running", None),
            ("discovery_job.completed", None),
        ]
        assert [r["data"].get("system") for r in rows] == [None, "discovery", "discovery"]
        assert rows[-1]["data"]["kept"] == 1

        mine = [e for e in events if e.get("entity_id") == job_id]
        assert [e["type"] for e in mine][:2] == ["discovery_job.create", "discovery_job.running"]
        progress = [e for e in mine if e["type"] == "discovery_job.progress"]
        assert progress, mine
        for event in progress:
            assert (event["entity_type"], event["actor_id"], event["actor"]) == (
                "discovery_job",
                None,
                "system",
            )
            assert {"kept", "frontier"} <= event["data"].keys()
        assert mine[-1]["data"]["kept"] == 1
