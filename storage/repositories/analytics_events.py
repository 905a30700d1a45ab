"""Analytics events: recorded by the app and its actors, listed and counted per workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, func, select

from core.errors import FieldProblem, InvalidInput
from storage.models import AnalyticsEvent
from storage.repositories.base import Page, ScopedRepository

Interval = Literal["day", "week", "month"]


@dataclass(frozen=True)
class EventBucket:
    """Event counts by type within one interval starting at ``start`` (UTC; weeks start on
    Monday)."""

    start: datetime
    counts: dict[str, int]


class AnalyticsEventRepository(ScopedRepository[AnalyticsEvent]):
    model = AnalyticsEvent
    noun = "analytics event"
    sortable = {"occurred_at": "occurred_at"}
    default_sort = "-occurred_at"

    async def record(
        self,
        *,
        entity_type: str,
        event_type: str,
        entity_id: uuid.UUID | None = None,
        data: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> AnalyticsEvent:
        values: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "event_type": event_type,
            "data": data or {},
        }
        if occurred_at is not None:
            values["occurred_at"] = occurred_at
        return await self.create(**values)

    def _filters(
        self,
        entity_type: str | None,
        entity_id: uuid.UUID | None,
        event_type: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if entity_type is not None:
            where.append(AnalyticsEvent.entity_type == entity_type)
        if entity_id is not None:
            where.append(AnalyticsEvent.entity_id == entity_id)
        if event_type is not None:
            where.append(AnalyticsEvent.event_type == event_type)
        if since is not None:
            where.append(AnalyticsEvent.occurred_at >= since)
        if until is not None:
            where.append(AnalyticsEvent.occurred_at < until)
        return where

    async def search(
        self,
        *,
        entity_type: str | None = None,
        entity_id: uuid.UUID | None = None,
        event_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[AnalyticsEvent]:
        where = self._filters(entity_type, entity_id, event_type, since, until)
        return await self.list(where=where, limit=limit, cursor=cursor)

    async def count_by_type(
        self,
        *,
        entity_type: str | None = None,
        entity_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, int]:
        where = self._filters(entity_type, entity_id, None, since, until)
        rows = await self.session.execute(
            select(AnalyticsEvent.event_type, func.count())
            .where(AnalyticsEvent.workspace_id == self.workspace_id, *where)
            .group_by(AnalyticsEvent.event_type)
        )
        return dict(rows.all())

    async def count_by_interval(
        self,
        interval: Interval,
        *,
        entity_type: str | None = None,
        entity_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[EventBucket]:
        """Event counts by type per day, week or month (in UTC), oldest first; intervals
        without events are left out."""
        if interval not in get_args(Interval):
            message = f"interval must be one of day, week, month, got {interval!r}"
            raise InvalidInput(message, [FieldProblem("interval", message)])
        where = self._filters(entity_type, entity_id, None, since, until)
        bucket = func.date_trunc(interval, AnalyticsEvent.occurred_at, "UTC")
        rows = await self.session.execute(
            select(bucket, AnalyticsEvent.event_type, func.count())
            .where(AnalyticsEvent.workspace_id == self.workspace_id, *where)
            .group_by(bucket, AnalyticsEvent.event_type)
            .order_by(bucket, AnalyticsEvent.event_type)
        )
        buckets: dict[datetime, dict[str, int]] = {}
        for start, event_type, count in rows:
            buckets.setdefault(start, {})[event_type] = count
        return [EventBucket(start=start, counts=counts) for start, counts in buckets.items()]
