"""Campaign bodies: create, update (all optional), read, status change, campaign artists."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType
from serve.schemas.common import ReadModel

Currency = Field(default="EUR", pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code.")


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    type: CampaignType = CampaignType.RELEASE
    start_date: date | None = None
    end_date: date | None = None
    budget_minor: int = Field(default=0, ge=0, le=10**15, description="Budget in minor units.")
    currency: str = Currency

    @model_validator(mode="after")
    def _dates_in_order(self) -> CampaignCreate:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class CampaignUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    type: CampaignType | None = None
    start_date: date | None = None
    end_date: date | None = None
    budget_minor: int | None = Field(default=None, ge=0, le=10**15)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")


class CampaignRead(ReadModel):
    id: uuid.UUID
    name: str
    description: str
    type: CampaignType
    status: CampaignStatus
    start_date: date | None
    end_date: date | None
    budget_minor: int
    currency: str
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class StatusChange(BaseModel):
    status: CampaignStatus


class CampaignArtistAdd(BaseModel):
    artist_id: uuid.UUID
    status: CampaignArtistStatus = CampaignArtistStatus.PROPOSED


class CampaignArtistUpdate(BaseModel):
    status: CampaignArtistStatus


class ArtistBrief(ReadModel):
    id: uuid.UUID
    name: str
    permalink: str
    followers: int
    avatar_url: str | None


class CampaignArtistRead(ReadModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    artist_id: uuid.UUID
    status: CampaignArtistStatus
    added_at: datetime


class CampaignArtistWithArtist(CampaignArtistRead):
    artist: ArtistBrief
