"""Email records, one per recipient of an outreach campaign: read-only here, since only sending
changes them.

Not cached: the actors that send change these rows outside the API.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from core.enums import EmailStatus
from serve.dependencies import CurrentPrincipal, SessionDep
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.schemas.outreach import EmailRecordRead
from storage.models import EmailRecord
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
