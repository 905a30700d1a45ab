"""Analytics events: what happened to which entity, and when."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, IdMixin, WorkspaceScopedMixin


class AnalyticsEvent(IdMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("ix_analytics_events_workspace_occurred", "workspace_id", "occurred_at"),
        Index("ix_analytics_events_entity", "workspace_id", "entity_type", "entity_id"),
    )

    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[uuid.UUID | None]
    event_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
