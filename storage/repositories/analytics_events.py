"""Analytics events: recorded by the app and its actors, listed and counted per workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, func, insert, select

from core.errors import FieldProblem, InvalidInput, NotFound
from core.ids import new_id
from storage.models import (
    AnalyticsEvent,
    Artist,
    ArtistContact,
    ArtistNote,
    Base,
    Campaign,
    DiscoveryJob,
    EmailRecord,
    EmailTemplate,
    Invitation,
    Membership,
    OutreachCampaign,
    Suppression,
    Transaction,
)
from storage.repositories.base import Page, ScopedRepository, chunks

Interval = Literal["day", "week", "month"]

# Bound values an event takes in an insert (the keys of ``record_many``'s rows).
_VALUES_PER_EVENT = 7

# The entity types the app keeps per workspace, named as the audit log names them: an event's
# ``entity_id`` of one of these types must be a row of the event's own workspace. Other types
# (and "artist", "workspace", "user", checked apart) are the caller's own vocabulary.
WORKSPACE_ENTITIES: dict[str, type[Base]] = {
    "analytics_event": AnalyticsEvent,
    "campaign": Campaign,
    "contact": ArtistContact,
    "discovery_job": DiscoveryJob,
    "email_record": EmailRecord,
    "email_template": EmailTemplate,
    "invitation": Invitation,
    "member": Membership,
    "note": ArtistNote,
    "outreach_campaign": OutreachCampaign,
    "suppression": Suppression,
    "transaction": Transaction,
}


@dataclass(frozen=True)
class NewEvent:
    """One event for :meth:`AnalyticsEventRepository.record_many`; ``occurred_at`` ``None``
    is the moment it is recorded."""

    entity_type: str
    event_type: str
    entity_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None


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
        """Record an event; one about an entity the app keeps must name an entity of this
        workspace (or a catalogue artist), like every other reference.

        Raises:
            NotFound: ``entity_id`` names no such entity here.
        """
        if entity_id is not None:
            await self._require_entity(entity_type, entity_id)
        values: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "event_type": event_type,
            "data": data or {},
        }
        if occurred_at is not None:
            values["occurred_at"] = occurred_at
        return await self.create(**values)

    async def record_many(self, events: Iterable[NewEvent]) -> int:
        """Record events in one insert of many rows (a few for a very large batch); returns how
        many. For the app's own writers, about rows they hold in this workspace: unlike
        :meth:`record`, the entities are not looked up again."""
        now = datetime.now(UTC)
        rows = [
            {
                "id": new_id(),
                "workspace_id": self.workspace_id,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "event_type": event.event_type,
                "data": event.data,
                "occurred_at": event.occurred_at or now,
            }
            for event in events
        ]
        for chunk in chunks(rows, values_per_item=_VALUES_PER_EVENT):
            await self.session.execute(insert(AnalyticsEvent), list(chunk))
        return len(rows)

    async def _require_entity(self, entity_type: str, entity_id: uuid.UUID) -> None:
        noun = entity_type.replace("_", " ")
        model = WORKSPACE_ENTITIES.get(entity_type)
        if model is not None:
            await self.require(model, entity_id, noun)
            return
        if entity_type == "artist":
            found = await self.session.scalar(select(Artist.id).where(Artist.id == entity_id))
        elif entity_type == "workspace":
            found = entity_id if entity_id == self.workspace_id else None
        elif entity_type == "user":
            found = await self.session.scalar(
                select(Membership.id).where(
                    Membership.workspace_id == self.workspace_id, Membership.user_id == entity_id
                )
            )
        else:
            return
        if found is None:
            raise NotFound(f"{noun} {entity_id} not found")

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
