"""Outreach campaigns (a template sent from one sender, optionally for a campaign) and queueing
their recipients. Sending, and with it every status change, belongs to the outreach actors.

Reads here are not cached: the actors that send will change these rows outside the API.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from core.enums import OutreachStatus
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, SessionDep
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.outreach import (
    OutreachCampaignCreate,
    OutreachCampaignRead,
    OutreachCampaignUpdate,
    RecipientsAdd,
    RecipientsQueued,
)
from storage.models import OutreachCampaign
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.outreach_campaigns import OutreachCampaignRepository
from storage.repositories.suppressions import SuppressionRepository

router = APIRouter(prefix="/outreach-campaigns", tags=["outreach"])

OutreachSort = Annotated[
    str,
    Query(pattern=r"^-?(created_at|updated_at|name)$", description="Field, '-' for descending."),
]


@router.get("", response_model=Page[OutreachCampaignRead])
async def list_outreach_campaigns(
    principal: CurrentPrincipal,
    session: SessionDep,
    status_: Annotated[OutreachStatus | None, Query(alias="status")] = None,
    campaign_id: Annotated[uuid.UUID | None, Query(description="Only this campaign's.")] = None,
    sort: OutreachSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """List the workspace's outreach campaigns, filtered and sorted, a page at a time."""
    where = []
    if status_ is not None:
        where.append(OutreachCampaign.status == status_)
    if campaign_id is not None:
        where.append(OutreachCampaign.campaign_id == campaign_id)
    page = await OutreachCampaignRepository(session, principal.workspace_id).list(
        where=where, sort=sort, limit=limit, cursor=cursor
    )
    return page_of(page, OutreachCampaignRead)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OutreachCampaignRead)
async def create_outreach_campaign(
    body: OutreachCampaignCreate, principal: Editor, session: SessionDep, activity: ActivityDep
) -> OutreachCampaignRead:
    """Create an outreach campaign (a draft) from a template of the workspace."""
    outreach = await OutreachCampaignRepository(session, principal.workspace_id).create(
        **body.model_dump()
    )
    await activity.record(
        "outreach_campaign.create", "outreach_campaign", outreach.id, {"name": outreach.name}
    )
    return OutreachCampaignRead.model_validate(outreach)


@router.get("/{outreach_campaign_id}", response_model=OutreachCampaignRead)
async def get_outreach_campaign(
    outreach_campaign_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> OutreachCampaignRead:
    """One outreach campaign."""
    outreach = await OutreachCampaignRepository(session, principal.workspace_id).get(
        outreach_campaign_id
    )
    return OutreachCampaignRead.model_validate(outreach)


@router.patch("/{outreach_campaign_id}", response_model=OutreachCampaignRead)
async def update_outreach_campaign(
    outreach_campaign_id: uuid.UUID,
    body: OutreachCampaignUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> OutreachCampaignRead:
    """Change an outreach campaign's settings; its status is not settable (sending moves it)."""
    changes = body.model_dump(exclude_unset=True)
    outreach = await OutreachCampaignRepository(session, principal.workspace_id).update(
        outreach_campaign_id, changes
    )
    await activity.record(
        "outreach_campaign.update",
        "outreach_campaign",
        outreach_campaign_id,
        body.model_dump(mode="json", exclude_unset=True),
    )
    return OutreachCampaignRead.model_validate(outreach)


@router.delete("/{outreach_campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_outreach_campaign(
    outreach_campaign_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Delete an outreach campaign and its email records."""
    await OutreachCampaignRepository(session, principal.workspace_id).delete(outreach_campaign_id)
    await activity.record("outreach_campaign.delete", "outreach_campaign", outreach_campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{outreach_campaign_id}/recipients", response_model=RecipientsQueued)
async def queue_recipients(
    outreach_campaign_id: uuid.UUID,
    body: RecipientsAdd,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> RecipientsQueued:
    """Queue recipients, skipping suppressed addresses and ones already queued."""
    await OutreachCampaignRepository(session, principal.workspace_id).get(outreach_campaign_id)
    suppressed = await SuppressionRepository(session, principal.workspace_id).suppressed_among(
        r.to_email for r in body.recipients
    )
    wanted = [r for r in body.recipients if r.to_email not in suppressed]
    queued = await EmailRecordRepository(session, principal.workspace_id).enqueue(
        outreach_campaign_id, [r.model_dump() for r in wanted]
    )
    outcome = RecipientsQueued(
        queued=queued,
        skipped_suppressed=len(body.recipients) - len(wanted),
        skipped_duplicates=len(wanted) - queued,
    )
    await activity.record(
        "outreach_campaign.recipients_add",
        "outreach_campaign",
        outreach_campaign_id,
        outcome.model_dump(),
    )
    return outcome
