"""Analytics: events recorded by the app or by callers, their counts, the dashboard overview."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, SessionDep
from serve.schemas.analytics import (
    NAME_PATTERN,
    AnalyticsEventCreate,
    AnalyticsEventRead,
    AnalyticsSummary,
    EventBucketRead,
    Interval,
    WorkspaceOverview,
)
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, UtcDatetime, page_of
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.dashboard import DashboardRepository

router = APIRouter(prefix="/analytics", tags=["analytics"])

EntityType = Annotated[str | None, Query(pattern=NAME_PATTERN)]
Since = Annotated[UtcDatetime | None, Query(description="At or after (no offset: UTC).")]
Until = Annotated[UtcDatetime | None, Query(description="Before (no offset: UTC).")]


@router.get("/events", response_model=Page[AnalyticsEventRead])
async def list_events(
    principal: CurrentPrincipal,
    session: SessionDep,
    entity_type: EntityType = None,
    entity_id: uuid.UUID | None = None,
    event_type: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, object]:
    """The workspace's analytics events, newest first, a page at a time."""
    page = await AnalyticsEventRepository(session, principal.workspace_id).search(
        entity_type=entity_type,
        entity_id=entity_id,
        event_type=event_type,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return page_of(page, AnalyticsEventRead)


@router.post("/events", status_code=status.HTTP_201_CREATED, response_model=AnalyticsEventRead)
async def record_event(
    body: AnalyticsEventCreate, principal: Editor, session: SessionDep, activity: ActivityDep
) -> AnalyticsEventRead:
    """Record a custom analytics event."""
    event = await AnalyticsEventRepository(session, principal.workspace_id).record(
        **body.model_dump()
    )
    await activity.record(
        "analytics_event.create",
        "analytics_event",
        event.id,
        {"event_type": event.event_type, "entity_type": event.entity_type},
    )
    return AnalyticsEventRead.model_validate(event)


@router.get("/summary", response_model=AnalyticsSummary)
async def summarize_events(
    principal: CurrentPrincipal,
    session: SessionDep,
    interval: Annotated[Interval | None, Query(description="Also count per interval.")] = None,
    entity_type: EntityType = None,
    entity_id: uuid.UUID | None = None,
    since: Since = None,
    until: Until = None,
) -> AnalyticsSummary:
    """Event counts by type, optionally per day, week or month."""
    # Not cached: actors record events without going through the activity log.
    repo = AnalyticsEventRepository(session, principal.workspace_id)
    filters: dict[str, Any] = {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "since": since,
        "until": until,
    }
    counts = await repo.count_by_type(**filters)
    buckets = [] if interval is None else await repo.count_by_interval(interval, **filters)
    return AnalyticsSummary(
        total=sum(counts.values()),
        counts=dict(sorted(counts.items())),
        interval=interval,
        buckets=[EventBucketRead.model_validate(bucket) for bucket in buckets],
    )


@router.get("/overview", response_model=WorkspaceOverview)
async def overview(principal: CurrentPrincipal, session: SessionDep) -> WorkspaceOverview:
    """Dashboard counts: campaigns and email records by status, money per currency, members."""
    # Not cached: it spans several entity types and email statuses change outside requests.
    found = await DashboardRepository(session, principal.workspace_id).overview()
    return WorkspaceOverview.model_validate(found)
