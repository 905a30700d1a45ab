"""Email records, one per message of an outreach campaign: read here; sending changes them, and
a user marks a reply or asks to send an unknown or failed one again.

Not cached: the actors that send change these rows outside the API.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from core.enums import EmailStatus
from serve import outreach_runs
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.outreach import EmailRecordRead
from storage.models import EmailRecord
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.email_records import EmailRecordRepository

router = APIRouter(prefix="/email-records", tags=["outreach"])

RecordSort = Annotated[
    str, Query(pattern=r"^-?(created_at|updated_at)$", description="Field, '-' for descending.")
]


@router.get("", response_model=Page[EmailRecordRead])
async def list_email_records(
    principal: CurrentPrincipal,
    session: SessionDep,
    outreach_campaign_id: Annotated[
        uuid.UUID | None, Query(description="Only this outreach campaign's.")
    ] = None,
    status_: Annotated[EmailStatus | None, Query(alias="status")] = None,
    sort: RecordSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """List the workspace's email records, filtered, a page at a time."""
    where = []
    if outreach_campaign_id is not None:
        where.append(EmailRecord.outreach_campaign_id == outreach_campaign_id)
    if status_ is not None:
        where.append(EmailRecord.status == status_)
    page = await EmailRecordRepository(session, principal.workspace_id).list(
        where=where, sort=sort, limit=limit, cursor=cursor
    )
    return page_of(page, EmailRecordRead)


@router.get("/{email_record_id}", response_model=EmailRecordRead)
async def get_email_record(
    email_record_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> EmailRecordRead:
    """One email record."""
    record = await EmailRecordRepository(session, principal.workspace_id).get(email_record_id)
    return EmailRecordRead.model_validate(record)


@router.post("/{email_record_id}/reply", response_model=EmailRecordRead)
async def mark_replied(
    email_record_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> EmailRecordRead:
    """Record that the recipient answered this message: no follow-up goes to them after it."""
    record, skipped = await EmailRecordRepository(session, principal.workspace_id).mark_replied(
        email_record_id
    )
    data = {"outreach_campaign_id": str(record.outreach_campaign_id), "skipped": skipped}
    await AnalyticsEventRepository(session, principal.workspace_id).record(
        entity_type="email_record", entity_id=record.id, event_type="email.replied", data=data
    )
    await activity.record("email_record.reply", "email_record", record.id, data)
    return EmailRecordRead.model_validate(record)


@router.post("/{email_record_id}/resend", response_model=EmailRecordRead)
async def resend_email(
    email_record_id: uuid.UUID,
    principal: Editor,
    session: SessionDep,
    resources: ResourcesDep,
) -> EmailRecordRead:
    """Send an ``unknown`` or ``failed`` message again. An unknown one may have arrived: the
    recipient may get it twice, which is why only a user can ask for it."""
    repo = EmailRecordRepository(session, principal.workspace_id)
    outreach_id = (await repo.get(email_record_id)).outreach_campaign_id
    await session.rollback()
    await outreach_runs.resend(
        resources.settings,
        principal.workspace_id,
        outreach_id,
        email_record_id,
        principal.user_id,
    )
    return EmailRecordRead.model_validate(await repo.get(email_record_id))
