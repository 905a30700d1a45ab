"""Discovery jobs: a query, its status, live counters and the checkpoint a resumed job starts
from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.enums import DiscoveryJobStatus
from storage.models.base import Base, IdMixin, TimestampMixin, WorkspaceScopedMixin, text_enum


class DiscoveryJob(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "discovery_jobs"

    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    query: Mapped[dict[str, Any]]
    status: Mapped[DiscoveryJobStatus] = mapped_column(
        text_enum(DiscoveryJobStatus, "discovery_job_status"), default=DiscoveryJobStatus.QUEUED
    )
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
