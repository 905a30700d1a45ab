"""Campaign bodies: create, update (all optional), read, status change, campaign artists."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, computed_field, model_validator

from core.campaign_rules import is_over_budget
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
    spent_minor: int = Field(
        description="Expenses recorded for the campaign in its own currency, in minor units; "
        "expenses in other currencies are not converted or counted."
    )
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @computed_field(description="A budget is set (above 0) and spent_minor is over it.")  # type: ignore[prop-decorator]
    @property
    def over_budget(self) -> bool:
        return is_over_budget(self.budget_minor, self.spent_minor)

    @classmethod
    def of(cls, campaign: Any, spent_minor: int) -> CampaignRead:
        """The read of an ORM campaign with what it has spent (``CampaignRepository.spending``)."""
        fields = {
            name: getattr(campaign, name) for name in cls.model_fields if name != "spent_minor"
        }
        return cls.model_validate({**fields, "spent_minor": spent_minor})


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
