"""Analytics events, their counts over time, the workspace dashboard overview, and the audit
log entries that record every write."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from core.enums import CampaignStatus, EmailStatus
from serve.schemas.common import ReadModel, UtcDatetime
from serve.schemas.finance import MoneyTotals

Interval = Literal["day", "week", "month"]
NAME_PATTERN = r"^[a-z0-9_.-]{1,60}$"
MAX_DATA_BYTES = 16 * 1024


class AnalyticsEventCreate(BaseModel):
    entity_type: str = Field(pattern=NAME_PATTERN, examples=["campaign"])
    entity_id: uuid.UUID | None = None
    event_type: str = Field(pattern=NAME_PATTERN, examples=["release.premiered"])
    data: dict[str, Any] = Field(default_factory=dict, description="Any JSON object, up to 16 KiB.")
    occurred_at: UtcDatetime | None = Field(default=None, description="Default: now.")

    @field_validator("data")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, separators=(",", ":"))) > MAX_DATA_BYTES:
            raise ValueError(f"must be at most {MAX_DATA_BYTES} bytes of JSON")
        return value


class AnalyticsEventRead(ReadModel):
    id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID | None
    event_type: str
    data: dict[str, Any]
    occurred_at: datetime


class EventBucketRead(ReadModel):
    start: datetime = Field(description="Start of the interval, UTC (weeks start on Monday).")
    counts: dict[str, int] = Field(description="Events per event type.")


class AnalyticsSummary(BaseModel):
    total: int
    counts: dict[str, int] = Field(description="Events per event type over the whole range.")
    interval: Interval | None
    buckets: list[EventBucketRead] = Field(
        description="Counts per interval, oldest first, when an interval was asked for; "
        "intervals without events are left out."
    )


class WorkspaceOverview(ReadModel):
    campaigns_by_status: dict[CampaignStatus, int]
    email_records_by_status: dict[EmailStatus, int]
    transactions_by_currency: list[MoneyTotals] = Field(
        description="Income, expense and net per currency, all time."
    )
    members: int


class AuditLogEntryRead(ReadModel):
    id: uuid.UUID
    actor_user_id: uuid.UUID | None = Field(
        description=(
            "Null for system writes (`data.system` names the part) and once the user is deleted."
        )
    )
    action: str = Field(examples=["campaign.create"])
    entity_type: str
    entity_id: uuid.UUID | None
    data: dict[str, Any]
    request_id: str | None
    created_at: datetime
