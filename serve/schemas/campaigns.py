"""Campaign bodies: create, update (all optional), read, status change, campaign artists."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType
from serve.schemas.common import Day, ReadModel
from serve.schemas.finance import MAX_AMOUNT_MINOR, CurrencyCode

# Strict like every amount: a JSON true or "1" is not a budget.
_Budget = Field(
    strict=True, ge=0, le=MAX_AMOUNT_MINOR, description="Budget in minor units, a JSON integer."
)


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    type: CampaignType = CampaignType.RELEASE
    start_date: Day | None = None
    end_date: Day | None = None
    budget_minor: Annotated[int, _Budget] = 0
    currency: CurrencyCode = "EUR"

    @model_validator(mode="after")
    def _dates_in_order(self) -> CampaignCreate:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class CampaignUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    type: CampaignType | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    budget_minor: Annotated[int, _Budget] | None = None
    currency: CurrencyCode | None = None


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
