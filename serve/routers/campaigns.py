"""Campaigns and the artists in them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.reads import cached
from serve.schemas.campaigns import (
    CampaignArtistAdd,
    CampaignArtistRead,
    CampaignArtistUpdate,
    CampaignArtistWithArtist,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    StatusChange,
)
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from storage.models import Campaign
from storage.repositories.campaigns import CampaignRepository

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

CampaignSort = Annotated[
    str,
    Query(
        pattern=r"^-?(created_at|updated_at|name|budget)$", description="Field, '-' for descending."
    ),
]


async def _reads(repo: CampaignRepository, campaigns: Sequence[Campaign]) -> list[CampaignRead]:
    """The reads of ``campaigns`` with what each has spent (one query for all of them)."""
    spending = await repo.spending([campaign.id for campaign in campaigns])
    # A campaign deleted since it was read has spent nothing any more.
    return [
        CampaignRead.of(c, spending[c.id].spent_minor if c.id in spending else 0) for c in campaigns
    ]


@router.get("", response_model=Page[CampaignRead])
async def list_campaigns(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    status_: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    type_: Annotated[CampaignType | None, Query(alias="type")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the name.")] = None,
    sort: CampaignSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List the workspace's campaigns, filtered and sorted, a page at a time."""

    async def load() -> dict[str, object]:
        repo = CampaignRepository(session, principal.workspace_id)
        page = await repo.search(
            status=status_, type=type_, q=q, sort=sort, limit=limit, cursor=cursor
        )
        items = [read.model_dump(mode="json") for read in await _reads(repo, page.items)]
        return {"items": items, "next_cursor": page.next_cursor}

    key = f"list:{status_}:{type_}:{q}:{sort}:{limit}:{cursor}"
    return await cached(resources, principal, "campaign", key, load)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignRead)
async def create_campaign(
    body: CampaignCreate, principal: Editor, session: SessionDep, activity: ActivityDep
) -> CampaignRead:
    """Create a campaign (it starts as a draft)."""
    campaign = await CampaignRepository(session, principal.workspace_id).create(
        **body.model_dump(), created_by=principal.user_id
    )
    await activity.record("campaign.create", "campaign", campaign.id, {"name": campaign.name})
    return CampaignRead.of(campaign, spent_minor=0)  # no transaction can name it yet


@router.get("/{campaign_id}", response_model=CampaignRead)
async def get_campaign(
    campaign_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> Any:
    """One campaign."""

    async def load() -> dict[str, object]:
        repo = CampaignRepository(session, principal.workspace_id)
        [read] = await _reads(repo, [await repo.get(campaign_id)])
        return read.model_dump(mode="json")

    return await cached(resources, principal, "campaign", f"one:{campaign_id}", load)


@router.patch("/{campaign_id}", response_model=CampaignRead)
async def update_campaign(
    campaign_id: uuid.UUID,
    body: CampaignUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> CampaignRead:
    """Change some fields of a campaign (status changes go through /status)."""
    changes = body.model_dump(exclude_unset=True)
    repo = CampaignRepository(session, principal.workspace_id)
    campaign = await repo.update(campaign_id, changes)
    await activity.record("campaign.update", "campaign", campaign_id, changes)
    [read] = await _reads(repo, [campaign])
    return read


@router.post("/{campaign_id}/status", response_model=CampaignRead)
async def change_status(
    campaign_id: uuid.UUID,
    body: StatusChange,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> CampaignRead:
    """Move a campaign through draft -> scheduled -> active <-> paused -> completed | cancelled."""
    repo = CampaignRepository(session, principal.workspace_id)
    campaign = await repo.transition(campaign_id, body.status)
    await activity.record("campaign.status", "campaign", campaign_id, {"status": body.status})
    [read] = await _reads(repo, [campaign])
    return read


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_campaign(
    campaign_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Delete a campaign and its artist list (its transactions are kept, unlinked)."""
    await CampaignRepository(session, principal.workspace_id).delete(campaign_id)
    await activity.record("campaign.delete", "campaign", campaign_id)
    activity.invalidate("transaction")  # its transactions were unlinked
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{campaign_id}/artists", response_model=Page[CampaignArtistWithArtist])
async def list_campaign_artists(
    campaign_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    status_: Annotated[CampaignArtistStatus | None, Query(alias="status")] = None,
    sort: Annotated[str, Query(pattern=r"^-?added_at$")] = "-added_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """Artists in a campaign, with their status."""
    page = await CampaignRepository(session, principal.workspace_id).list_artists(
        campaign_id, status=status_, sort=sort, limit=limit, cursor=cursor
    )
    return page_of(page, CampaignArtistWithArtist)


@router.post(
    "/{campaign_id}/artists", status_code=status.HTTP_201_CREATED, response_model=CampaignArtistRead
)
async def add_campaign_artist(
    campaign_id: uuid.UUID,
    body: CampaignArtistAdd,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> CampaignArtistRead:
    """Add an artist from the catalogue to a campaign."""
    entry = await CampaignRepository(session, principal.workspace_id).add_artist(
        campaign_id, body.artist_id, body.status
    )
    await activity.record(
        "campaign.artist_add", "campaign", campaign_id, {"artist_id": str(body.artist_id)}
    )
    return CampaignArtistRead.model_validate(entry)


@router.patch("/{campaign_id}/artists/{artist_id}", response_model=CampaignArtistRead)
async def update_campaign_artist(
    campaign_id: uuid.UUID,
    artist_id: uuid.UUID,
    body: CampaignArtistUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> CampaignArtistRead:
    """Change an artist's status in a campaign."""
    entry = await CampaignRepository(session, principal.workspace_id).set_artist_status(
        campaign_id, artist_id, body.status
    )
    await activity.record(
        "campaign.artist_update",
        "campaign",
        campaign_id,
        {"artist_id": str(artist_id), "status": body.status},
    )
    return CampaignArtistRead.model_validate(entry)


@router.delete("/{campaign_id}/artists/{artist_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_campaign_artist(
    campaign_id: uuid.UUID,
    artist_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> Response:
    """Take an artist out of a campaign."""
    await CampaignRepository(session, principal.workspace_id).remove_artist(campaign_id, artist_id)
    await activity.record(
        "campaign.artist_remove", "campaign", campaign_id, {"artist_id": str(artist_id)}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
