"""Discovery jobs: a query, its status, live counters and the checkpoint a resumed job starts
from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, SmallInteger, Text, func
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


class DiscoveryJobArtist(Base):
    """An artist a job kept, with its score: the job's result list (one row per artist)."""

    __tablename__ = "discovery_job_artists"
    __table_args__ = (Index("ix_discovery_job_artists_job_score", "job_id", "score"),)

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discovery_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    artist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float]
    depth: Mapped[int]
    found_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DiscoveryJobLead(Base):
    """An artist a job's walk has seen: its frontier (not yet visited) and its seen set (every
    row) in one table, written a batch at a time, so a checkpoint costs what the batch found
    and never what the job saw before it."""

    __tablename__ = "discovery_job_leads"
    __table_args__ = (
        Index(
            "ix_discovery_job_leads_frontier",
            "job_id",
            "priority",
            postgresql_where="NOT visited",
        ),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discovery_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    soundcloud_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    priority: Mapped[float] = mapped_column(Float)
    depth: Mapped[int] = mapped_column(SmallInteger)
    # Read (kept, filtered or skipped), or ruled out from the list it was seen in.
    visited: Mapped[bool] = mapped_column(default=False)
