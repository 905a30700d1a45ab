"""Discovery jobs: start a walk over SoundCloud, follow it, read what it found, cancel it.

A job runs in its own Ray actor (``actors/discovery.py``), started once the job's row is
committed; progress arrives on the workspace's live channel and in ``progress``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from actors.discovery import launch
from core.discovery import DiscoveryQuery
from core.enums import DiscoveryJobStatus
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.schemas.artists import ArtistRead
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.discovery import DiscoveryJobRead, DiscoveryResultRead
from storage.models import DiscoveryJob
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from storage.repositories.watched_artists import WatchedArtistRepository

router = APIRouter(prefix="/discovery-jobs", tags=["discovery"])

JobSort = Annotated[
    str, Query(pattern=r"^-?(created_at|updated_at)$", description="Field, '-' for descending.")
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DiscoveryJobRead)
async def start_discovery_job(
    body: DiscoveryQuery,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
    resources: ResourcesDep,
) -> DiscoveryJobRead:
    """Start a discovery job from a query; it runs on the cluster and reports as it goes."""
    # A workspace runs CM_DISCOVERY_JOBS_PER_WORKSPACE jobs at a time (each holds an actor and
    # its scrapers' memory): one more is a 429, decided under the repository's workspace lock.
    body.seed_permalinks(resources.settings.soundcloud_web_url)
    repo = DiscoveryJobRepository(session, principal.workspace_id)
    job = await repo.submit(
        query=body.model_dump(mode="json"),
        created_by=principal.user_id,
        limit=resources.settings.discovery_jobs_per_workspace,
    )
    await activity.record("discovery_job.create", "discovery_job", job.id, {"query": job.query})
    # The actor reads the job's row: it must be committed first.
    await session.commit()
    try:
        await asyncio.to_thread(launch, resources.settings, job.id, principal.workspace_id)
    except Exception as exc:  # Ray unreachable: the job is kept, marked failed, and says why.
        job = await repo.set_status(
            job.id, DiscoveryJobStatus.FAILED, error=f"could not start the job: {exc}"[:500]
        )
    return DiscoveryJobRead.model_validate(job)


@router.get("", response_model=Page[DiscoveryJobRead])
async def list_discovery_jobs(
    principal: CurrentPrincipal,
    session: SessionDep,
    status_: Annotated[DiscoveryJobStatus | None, Query(alias="status")] = None,
    sort: JobSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """List the workspace's discovery jobs, newest first."""
    where = [] if status_ is None else [DiscoveryJob.status == status_]
    page = await DiscoveryJobRepository(session, principal.workspace_id).list(
        where=where, sort=sort, limit=limit, cursor=cursor
    )
    return page_of(page, DiscoveryJobRead)


@router.get("/{job_id}", response_model=DiscoveryJobRead)
async def get_discovery_job(
    job_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> DiscoveryJobRead:
    """A job's status, counters and error."""
    job = await DiscoveryJobRepository(session, principal.workspace_id).get(job_id)
    return DiscoveryJobRead.model_validate(job)


@router.get("/{job_id}/artists", response_model=Page[DiscoveryResultRead])
async def list_discovery_results(
    job_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """The artists a job kept so far, best score first."""
    page, artists = await DiscoveryJobRepository(session, principal.workspace_id).results(
        job_id, limit=limit, cursor=cursor
    )
    watched = await WatchedArtistRepository(session, principal.workspace_id).watched_among(artists)
    items = [
        DiscoveryResultRead(
            artist=ArtistRead.of(artists[row.artist_id], watched=row.artist_id in watched),
            score=row.score,
            depth=row.depth,
            found_at=row.found_at,
        ).model_dump(mode="json")
        for row in page.items
    ]
    return {"items": items, "next_cursor": page.next_cursor}


@router.post("/{job_id}/cancel", response_model=DiscoveryJobRead)
async def cancel_discovery_job(
    job_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> DiscoveryJobRead:
    """Cancel a queued or running job (409 once it has finished); what it kept stays."""
    job = await DiscoveryJobRepository(session, principal.workspace_id).set_status(
        job_id, DiscoveryJobStatus.CANCELLED
    )
    await activity.record("discovery_job.cancel", "discovery_job", job_id)
    return DiscoveryJobRead.model_validate(job)
