"""Campaigns with dates and budgets, and the artists in them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType
from storage.models.artists import Artist
from storage.models.base import Base, IdMixin, TimestampMixin, WorkspaceScopedMixin, text_enum


class Campaign(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("budget_minor >= 0", name="budget_not_negative"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="ends_after_start",
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[CampaignType] = mapped_column(text_enum(CampaignType, "campaign_type"))
    status: Mapped[CampaignStatus] = mapped_column(
        text_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT, index=True
    )
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    budget_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class CampaignArtist(IdMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "campaign_artists"
    __table_args__ = (UniqueConstraint("campaign_id", "artist_id"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    artist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    status: Mapped[CampaignArtistStatus] = mapped_column(
        text_enum(CampaignArtistStatus, "campaign_artist_status"),
        default=CampaignArtistStatus.PROPOSED,
    )
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    artist: Mapped[Artist] = relationship(lazy="raise")
