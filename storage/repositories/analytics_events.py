"""Analytics events: recorded by the app and its actors, listed and counted per workspace."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from storage.models import AnalyticsEvent
from storage.repositories.base import Page, ScopedRepository


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
