"""The public artist catalogue (shared by all workspaces) and each workspace's private CRM rows."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from core.enums import ConsentState, ContactSource, SocialPlatform
from storage.models.base import Base, IdMixin, TimestampMixin, WorkspaceScopedMixin, text_enum

# Growth is unknown (NULL) for young artists; sorted by it, they come last whichever way the
# sort goes. Keyset pagination needs a total order without NULLs, so each direction sorts on the
# growth with NULL read as the infinity at its far end. Literals, not bound values, so that the
# planner matches these expressions to the indexes below.
_LOWEST = literal_column("'-Infinity'::double precision", Float)
_HIGHEST = literal_column("'Infinity'::double precision", Float)


def _growth_index(column: str, end: str) -> Index:
    nulls = "'-Infinity'" if end == "low" else "'Infinity'"
    return Index(
        f"ix_artists_{column}_nulls_{end}",
        func.coalesce(literal_column(column), literal_column(f"{nulls}::double precision")),
        literal_column("id"),
    )


class Artist(IdMixin, TimestampMixin, Base):
    """One SoundCloud account, unique by its SoundCloud id. Not private to any workspace.

    ``growth_7d`` and ``growth_30d`` are the percent change of followers over that window, and
    ``*_gain`` the followers gained; ``ArtistRepository.add_snapshots`` recomputes them.
    """

    __tablename__ = "artists"
    __table_args__ = (
        Index("ix_artists_followers", "followers"),
        Index("ix_artists_genres", "genres", postgresql_using="gin"),
        _growth_index("growth_7d", "low"),
        _growth_index("growth_7d", "high"),
        _growth_index("growth_30d", "low"),
        _growth_index("growth_30d", "high"),
    )

    soundcloud_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(300))
    soundcloud_username: Mapped[str | None] = mapped_column(String(300))
    permalink: Mapped[str] = mapped_column(String(300), index=True)
    permalink_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    genres: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    followers: Mapped[int] = mapped_column(default=0)
    tracks: Mapped[int] = mapped_column(default=0)
    verified: Mapped[bool] = mapped_column(default=False)
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    fetched_at: Mapped[datetime | None]
    growth_7d: Mapped[float | None] = mapped_column(Float)
    growth_7d_gain: Mapped[int | None]
    growth_30d: Mapped[float | None] = mapped_column(Float)
    growth_30d_gain: Mapped[int | None]

    # Sort keys (see ``_LOWEST``): descending sorts page on ``*_nulls_low``, ascending ones on
    # ``*_nulls_high``.
    growth_7d_nulls_low: Mapped[float] = column_property(func.coalesce(growth_7d, _LOWEST))
    growth_7d_nulls_high: Mapped[float] = column_property(func.coalesce(growth_7d, _HIGHEST))
    growth_30d_nulls_low: Mapped[float] = column_property(func.coalesce(growth_30d, _LOWEST))
    growth_30d_nulls_high: Mapped[float] = column_property(func.coalesce(growth_30d, _HIGHEST))

    social_profiles: Mapped[list[ArtistSocialProfile]] = relationship(
        lazy="raise", back_populates="artist", order_by="ArtistSocialProfile.platform"
    )


class ArtistSocialProfile(IdMixin, TimestampMixin, Base):
    __tablename__ = "artist_social_profiles"
    __table_args__ = (UniqueConstraint("artist_id", "url"),)

    artist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[SocialPlatform] = mapped_column(text_enum(SocialPlatform, "social_platform"))
    username: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(1000))
    followers_count: Mapped[int | None]

    artist: Mapped[Artist] = relationship(lazy="raise", back_populates="social_profiles")


class ArtistSnapshot(IdMixin, Base):
    """Followers and tracks at one moment, so growth can be charted."""

    __tablename__ = "artist_snapshots"
    __table_args__ = (UniqueConstraint("artist_id", "captured_at"),)

    artist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    followers: Mapped[int]
    tracks: Mapped[int]
    captured_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ArtistContact(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    """An email address a workspace holds for an artist, with where it came from and consent."""

    __tablename__ = "artist_contacts"
    __table_args__ = (UniqueConstraint("workspace_id", "artist_id", "email"),)

    artist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    source: Mapped[ContactSource] = mapped_column(text_enum(ContactSource, "contact_source"))
    consent_state: Mapped[ConsentState] = mapped_column(
        text_enum(ConsentState, "consent_state"), default=ConsentState.UNKNOWN
    )


class ArtistNote(IdMixin, TimestampMixin, WorkspaceScopedMixin, Base):
    __tablename__ = "artist_notes"
    __table_args__ = (Index("ix_artist_notes_workspace_artist", "workspace_id", "artist_id"),)

    artist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)


class WatchedArtist(IdMixin, WorkspaceScopedMixin, Base):
    """An artist a workspace keeps an eye on: listed in its searches and refreshed on a cadence."""

    __tablename__ = "watched_artists"
    __table_args__ = (UniqueConstraint("workspace_id", "artist_id"),)

    artist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
