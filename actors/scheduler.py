"""The scheduler: one named actor that keeps time for the whole service.

Every ``CM_SCHEDULER_TICK_SECONDS`` it moves campaigns on their dates (scheduled -> active on
the start date, active -> completed after the end date; ``storage/repositories/campaigns.py``),
recording each move as the system's write, and makes sure every scheduled or sending outreach
has its actor running (``actors/outreach.py``): after a restart of the service, or an actor that
exited, sending resumes without anyone asking. Each tick is idempotent and bounded, so a second
scheduler (a second service on the same database) only repeats work that is already done.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import ray

from actors.named import named_actor
from actors.outreach import keep_live_outreaches_running
from core import telemetry
from core.settings import Settings
from storage.activity import Activity
from storage.database import create_engine, create_sessionmaker
from storage.redis_client import create_redis
from storage.repositories.campaigns import CampaignRepository

log = logging.getLogger(__name__)

ACTOR_NAME = "scheduler"
SYSTEM_ACTOR = "scheduler"
# A tick that takes longer than this is abandoned (the next one tries again).
TICK_BOUND_SECONDS = 120.0


async def move_campaigns_on_dates(settings: Settings) -> int:
    """Move every campaign its dates make due today (UTC); returns how many moved."""
    assert settings.database_url is not None and settings.redis_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    redis = create_redis(settings.redis_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as session:
            moves = await CampaignRepository.advance_by_dates(session, datetime.now(UTC).date())
            if not moves:
                return 0
            activity = Activity(session, redis, moves[0].workspace_id, system=SYSTEM_ACTOR)
            for move in moves:
                await activity.record(
                    "campaign.status",
                    "campaign",
                    move.campaign_id,
                    {"status": move.new_status.value, "from": move.old_status.value},
                    workspace_id=move.workspace_id,
                )
        await activity.after_commit()
        return len(moves)
    finally:
        await redis.aclose()
        await engine.dispose()


async def tick(settings: Settings) -> dict[str, int]:
    """One round of the scheduler's work."""
    moved = await move_campaigns_on_dates(settings)
    live = await keep_live_outreaches_running(settings)
    return {"campaigns_moved": moved, "live_outreaches": live}


@ray.remote
class SchedulerActor:
    """Runs :func:`tick` forever from construction, so a restart by Ray resumes it."""

    def __init__(self, settings: Settings) -> None:
        telemetry.setup(settings, "scheduler")
        self._settings = settings
        self._task = asyncio.get_event_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(TICK_BOUND_SECONDS):
                    await tick(self._settings)
            except Exception:
                log.exception("a scheduler tick failed; the next one tries again")
            await asyncio.sleep(self._settings.scheduler_tick_seconds)

    async def ping(self) -> bool:
        return not self._task.done()


def start_scheduler(settings: Settings) -> Any:
    """Start the cluster's scheduler (or find the one already running)."""
    return named_actor(SchedulerActor, ACTOR_NAME, settings)
