"""Discovery jobs over the API: the query is ``core.discovery.DiscoveryQuery`` itself."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from core.enums import DiscoveryJobStatus
from serve.schemas.artists import ArtistRead
from serve.schemas.common import ReadModel


class DiscoveryJobRead(ReadModel):
    id: uuid.UUID
    status: DiscoveryJobStatus
    query: dict[str, Any]
    progress: dict[str, Any] = Field(
        description="Live counters: examined, read (artists), kept, inserted, updated, contacts, "
        "profiles, skipped (pages that could not be read, by reason as skipped_<reason>), "
        "skipped_link_in_bio_<busy|host_down|timeout|failed> (optional link-in-bio pages left "
        "unread), filtered, frontier, and the scrapers' request statistics."
    )
    error: str | None = Field(
        description="Why a failed job failed: no artist could be read (with the last error), "
        "its time limit, or what broke."
    )
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DiscoveryResultRead(ReadModel):
    """An artist a job kept, with the score it ranked by."""

    artist: ArtistRead
    score: float
    depth: int = Field(description="Steps from what the query started with (0: found directly).")
    found_at: datetime
