"""Outreach campaigns (a template sent from one sender, optionally for a campaign), their
follow-up steps, queueing their recipients and a preview of when they would go. Sending, and
with it every status change, belongs to the outreach actors.

Status changes go to the outreach's actor, its single writer (``serve/outreach_runs.py``).
Reads here are not cached: the actors that send change these rows outside the API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from core import outreach_rules
from core.enums import OutreachStatus
from core.outreach_rules import Command
from core.send_plan import plan_sends
from serve import outreach_runs
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.outreach import (
    MAX_RECIPIENTS,
    CampaignRecipientsQueued,
    OutreachCampaignCreate,
    OutreachCampaignRead,
    OutreachCampaignUpdate,
    OutreachProgressRead,
    OutreachStepCreate,
    OutreachStepRead,
    PlanDayRead,
    RecipientsAdd,
    RecipientsFromCampaign,
    RecipientsQueued,
    SendPlanRead,
)
from storage.models import OutreachCampaign
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.outreach_campaigns import OutreachCampaignRepository
from storage.repositories.outreach_steps import OutreachStepRepository
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
    repo = OutreachCampaignRepository(session, principal.workspace_id)
    if "mailbox_id" in changes:
        outreach_rules.require_mailbox_changeable((await repo.lock(outreach_campaign_id)).status)
    outreach = await repo.update(outreach_campaign_id, changes)
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
    """Delete an outreach campaign and its email records; one still running is a 409 (cancel
    it first)."""
    repo = OutreachCampaignRepository(session, principal.workspace_id)
    outreach_rules.require_deletable((await repo.lock(outreach_campaign_id)).status)
    await repo.delete(outreach_campaign_id)
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
    """Queue recipients, skipping suppressed addresses and ones already queued; 409 once the
    outreach has ended."""
    # Locked: the outreach's actor completes it under the same lock, so a recipient is never
    # queued into an outreach that has just finished.
    outreach = await OutreachCampaignRepository(session, principal.workspace_id).lock(
        outreach_campaign_id
    )
    outreach_rules.require_takes_recipients(outreach.status)
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


@router.post(
    "/{outreach_campaign_id}/recipients/from-campaign", response_model=CampaignRecipientsQueued
)
async def queue_campaign_artists(
    outreach_campaign_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
    body: RecipientsFromCampaign | None = None,
) -> CampaignRecipientsQueued:
    """Queue every artist of a campaign at their best usable address, skipping suppressed
    addresses, withdrawn consent and ones already queued; at most 1,000 a call."""
    outreach = await OutreachCampaignRepository(session, principal.workspace_id).lock(
        outreach_campaign_id
    )
    outreach_rules.require_takes_recipients(outreach.status)
    campaign_id = outreach_rules.campaign_to_draw_from(
        body.campaign_id if body else None, outreach.campaign_id
    )
    found = await ArtistContactRepository(session, principal.workspace_id).recipients_for_campaign(
        campaign_id, outreach.id, limit=MAX_RECIPIENTS
    )
    queued = await EmailRecordRepository(session, principal.workspace_id).enqueue(
        outreach.id, [{"to_email": email, "artist_id": artist} for artist, email in found.chosen]
    )
    outcome = CampaignRecipientsQueued(
        queued=queued,
        skipped_suppressed=found.suppressed,
        skipped_no_contact=found.no_contact,
        skipped_withdrawn_consent=found.withdrawn_consent,
        # Two artists sharing one address: the second finds it queued by the first.
        skipped_duplicates=found.duplicates + len(found.chosen) - queued,
        remaining=found.remaining,
    )
    await activity.record(
        "outreach_campaign.recipients_add",
        "outreach_campaign",
        outreach.id,
        {"campaign_id": str(campaign_id), **outcome.model_dump()},
    )
    return outcome


@router.get("/{outreach_campaign_id}/steps", response_model=list[OutreachStepRead])
async def list_outreach_steps(
    outreach_campaign_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> list[OutreachStepRead]:
    """The outreach's follow-up steps, first to last."""
    steps = await OutreachStepRepository(session, principal.workspace_id).for_outreach(
        outreach_campaign_id
    )
    return [OutreachStepRead.model_validate(step) for step in steps]


@router.post(
    "/{outreach_campaign_id}/steps",
    status_code=status.HTTP_201_CREATED,
    response_model=OutreachStepRead,
)
async def add_outreach_step(
    outreach_campaign_id: uuid.UUID,
    body: OutreachStepCreate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> OutreachStepRead:
    """Add a follow-up step after the last one; only a draft outreach's steps change (409)."""
    step = await OutreachStepRepository(session, principal.workspace_id).append(
        outreach_campaign_id, template_id=body.template_id, delay_days=body.delay_days
    )
    await activity.record(
        "outreach_campaign.step_add",
        "outreach_campaign",
        outreach_campaign_id,
        {"step_id": str(step.id), "position": step.position},
    )
    return OutreachStepRead.model_validate(step)


@router.delete("/{outreach_campaign_id}/steps/{step_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_outreach_step(
    outreach_campaign_id: uuid.UUID,
    step_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
) -> Response:
    """Remove a follow-up step of a draft outreach (409 once it has left draft)."""
    await OutreachStepRepository(session, principal.workspace_id).remove(
        outreach_campaign_id, step_id
    )
    await activity.record(
        "outreach_campaign.step_delete",
        "outreach_campaign",
        outreach_campaign_id,
        {"step_id": str(step_id)},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{outreach_campaign_id}/plan", response_model=SendPlanRead)
async def preview_send_plan(
    outreach_campaign_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> SendPlanRead:
    """When the queued messages would go, given the mailbox's limits and each recipient's
    sending window, from now or the schedule."""
    repo = OutreachCampaignRepository(session, principal.workspace_id)
    outreach = await repo.get(outreach_campaign_id)
    inputs = await repo.plan_inputs(outreach, limit=MAX_RECIPIENTS)
    now = datetime.now(UTC)
    start = max(now, outreach.scheduled_at) if outreach.scheduled_at else now
    plan = plan_sends(inputs.zones, inputs.pace, start)
    return SendPlanRead(
        mailbox_id=outreach.mailbox_id,
        start_at=start,
        queued=inputs.queued,
        planned=plan.messages,
        first_send_at=plan.first_send_at,
        last_send_at=plan.last_send_at,
        days_needed=plan.days_needed,
        days=[PlanDayRead(day=d.day, messages=d.messages) for d in plan.days],
        days_truncated=plan.days_truncated,
    )


async def _command(
    what: Command,
    outreach_campaign_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    resources: ResourcesDep,
) -> OutreachCampaignRead:
    repo = OutreachCampaignRepository(session, principal.workspace_id)
    await repo.get(outreach_campaign_id)
    # The actor writes in its own transaction: this one must not hold anything it waits for.
    await session.rollback()
    await outreach_runs.command(
        resources.settings, principal.workspace_id, outreach_campaign_id, what, principal.user_id
    )
    return OutreachCampaignRead.model_validate(await repo.get(outreach_campaign_id))


@router.post("/{outreach_campaign_id}/launch", response_model=OutreachCampaignRead)
async def launch_outreach(
    outreach_campaign_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    resources: ResourcesDep,
) -> OutreachCampaignRead:
    """Start sending (or wait for the schedule); 409 saying what is missing: recipients, a
    usable template, a mailbox or the outbox."""
    return await _command(Command.LAUNCH, outreach_campaign_id, principal, session, resources)


@router.post("/{outreach_campaign_id}/pause", response_model=OutreachCampaignRead)
async def pause_outreach(
    outreach_campaign_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    resources: ResourcesDep,
) -> OutreachCampaignRead:
    """Stop taking new messages; those already handed to the server finish."""
    return await _command(Command.PAUSE, outreach_campaign_id, principal, session, resources)


@router.post("/{outreach_campaign_id}/resume", response_model=OutreachCampaignRead)
async def resume_outreach(
    outreach_campaign_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    resources: ResourcesDep,
) -> OutreachCampaignRead:
    """Go on from where it paused (also the confirm a long-past schedule waits for); nothing
    already sent is sent again."""
    return await _command(Command.RESUME, outreach_campaign_id, principal, session, resources)


@router.post("/{outreach_campaign_id}/cancel", response_model=OutreachCampaignRead)
async def cancel_outreach(
    outreach_campaign_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    resources: ResourcesDep,
) -> OutreachCampaignRead:
    """Stop for good; queued messages are never sent."""
    return await _command(Command.CANCEL, outreach_campaign_id, principal, session, resources)


@router.get("/{outreach_campaign_id}/progress", response_model=OutreachProgressRead)
async def outreach_progress(
    outreach_campaign_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> OutreachProgressRead:
    """The outreach's status and its messages counted by status."""
    outreach = await OutreachCampaignRepository(session, principal.workspace_id).get(
        outreach_campaign_id
    )
    counts = await EmailRecordRepository(session, principal.workspace_id).count_by_status(
        outreach_campaign_id
    )
    return OutreachProgressRead(
        status=outreach.status,
        pause_reason=outreach.pause_reason,
        counts=counts,
        total=sum(counts.values()),
    )
