"""The workspace's audit log: every write, who made it and when. Owners and admins only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.enums import Role
from serve.dependencies import CurrentPrincipal, SessionDep
from serve.schemas.analytics import AuditLogEntryRead
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, page_of
from serve.security import Principal
from storage.repositories.audit_log import AuditLogRepository

router = APIRouter(prefix="/audit-log", tags=["audit log"])


async def _auditor(principal: CurrentPrincipal) -> Principal:
    principal.require(Role.ADMIN, "read the audit log")
    return principal


Auditor = Annotated[Principal, Depends(_auditor)]


@router.get("", response_model=Page[AuditLogEntryRead])
async def list_audit_log(
    principal: Auditor,
    session: SessionDep,
    entity_type: Annotated[str | None, Query(max_length=60)] = None,
    entity_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=100, examples=["campaign.create"])] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """The workspace's audit log, newest first, a page at a time."""
    page = await AuditLogRepository(session, principal.workspace_id).search(
        entity_type=entity_type,
        entity_id=entity_id,
        actor_user_id=actor_user_id,
        action=action,
        limit=limit,
        cursor=cursor,
    )
    return page_of(page, AuditLogEntryRead)
