"""The shared artist catalogue: batch upsert by SoundCloud id, search, social profiles and
follower snapshots. Catalogue rows are public; what a workspace knows privately about an artist
lives in contacts and notes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import SocialPlatform
from core.errors import NotFound
from core.ids import new_id
from storage.models import Artist, ArtistContact, ArtistSnapshot, ArtistSocialProfile
from storage.repositories.base import Page, chunks, paginate, parse_sort, text_search

# Columns an upsert may write; everything else (id, created_at) is the database's.
UPSERT_COLUMNS = (
    "soundcloud_id", "name", "soundcloud_username", "permalink", "permalink_url", "description",
    "genres", "city", "country", "followers", "tracks", "verified", "avatar_url", "fetched_at",
)  # fmt: skip
# Bound values an artist row takes in an insert: its columns and the id.
_VALUES_PER_ROW = len(UPSERT_COLUMNS) + 1

SORTABLE = {
    "followers": Artist.followers,
    "name": Artist.name,
    "created_at": Artist.created_at,
    "updated_at": Artist.updated_at,
}


@dataclass(frozen=True)
class UpsertResult:
    ids: dict[int, uuid.UUID]
    inserted: int
    updated: int


@dataclass(frozen=True)
class AddResult:
    """Artists by SoundCloud id, whether this call listed them or they were listed before."""

    ids: dict[int, uuid.UUID]
    # SoundCloud ids of the artists this call added to the catalogue.
    inserted: frozenset[int]


@dataclass(frozen=True)
class ArtistFilter:
    """Catalogue search criteria; every field is optional and they combine with AND."""

    text: str | None = None
    genre: str | None = None
    city: str | None = None
    country: str | None = None
    min_followers: int | None = None
    max_followers: int | None = None
    verified: bool | None = None
    # "has an email contact in this workspace"; needs ``workspace_id``.
    has_contact: bool | None = None
    workspace_id: uuid.UUID | None = None
    soundcloud_ids: Sequence[int] = field(default_factory=tuple)

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        found = text_search((Artist.name, Artist.permalink, Artist.soundcloud_username), self.text)
        if found is not None:
            where.append(found)
        if self.genre:
            where.append(Artist.genres.contains([self.genre.strip().lower()]))
        if self.city:
            where.append(func.lower(Artist.city) == self.city.strip().lower())
        if self.country:
            where.append(Artist.country == self.country.strip().upper())
        if self.min_followers is not None:
            where.append(Artist.followers >= self.min_followers)
        if self.max_followers is not None:
            where.append(Artist.followers <= self.max_followers)
        if self.verified is not None:
            where.append(Artist.verified.is_(self.verified))
        if self.soundcloud_ids:
            where.append(Artist.soundcloud_id.in_(list(self.soundcloud_ids)))
        if self.has_contact is not None:
            if self.workspace_id is None:
                raise ValueError("has_contact needs workspace_id")
            has = exists().where(
                ArtistContact.artist_id == Artist.id,
                ArtistContact.workspace_id == self.workspace_id,
            )
            where.append(has if self.has_contact else ~has)
        return where


class ArtistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, artist_id: uuid.UUID, *, with_profiles: bool = False) -> Artist:
        statement = select(Artist).where(Artist.id == artist_id)
        if with_profiles:
            statement = statement.options(selectinload(Artist.social_profiles))
        artist = await self.session.scalar(statement)
        if artist is None:
            raise NotFound(f"artist {artist_id} not found")
        return artist

    async def find_by_soundcloud_id(self, soundcloud_id: int) -> Artist | None:
        return await self.session.scalar(
            select(Artist).where(Artist.soundcloud_id == soundcloud_id)
        )

    async def upsert_many(self, records: Iterable[Mapping[str, Any]]) -> UpsertResult:
        """Insert new artists and refresh known ones (by SoundCloud id) in a few statements.

        Later records with the same SoundCloud id win, so a batch may repeat an artist.
        Genres are stored lower-case and de-duplicated.
        """
        return await self._upsert(records, UPSERT_COLUMNS[1:])

    async def add_missing(self, records: Iterable[Mapping[str, Any]]) -> AddResult:
        """List the artists the catalogue does not have yet, and leave listed ones as they are.

        For sources that do not own the catalogue, such as a workspace's CSV file: like
        ``POST /artists``, they may add an artist but not change one that others share. A
        SoundCloud id repeated in ``records`` is listed as its first record says.
        """
        by_id: dict[int, dict[str, Any]] = {}
        for record in records:
            by_id.setdefault(int(record["soundcloud_id"]), _upsert_row(record))
        ids: dict[int, uuid.UUID] = {}
        statement = (
            insert(Artist)
            .on_conflict_do_nothing(index_elements=[Artist.soundcloud_id])
            .returning(Artist.soundcloud_id, Artist.id)
        )
        for chunk in chunks(list(by_id.values()), values_per_item=_VALUES_PER_ROW):
            # Rows as parameters, not .values(): SQLAlchemy compiles one row once and repeats
            # it, where a .values() list is compiled bind by bind (about 1 ms a row).
            inserted_rows = await self.session.execute(
                statement, [{"id": new_id(), **row} for row in chunk]
            )
            ids.update((sc_id, artist_id) for sc_id, artist_id in inserted_rows)
        inserted = frozenset(ids)
        listed = [soundcloud_id for soundcloud_id in by_id if soundcloud_id not in inserted]
        for id_chunk in chunks(listed, values_per_item=1):
            found = await self.session.execute(
                select(Artist.soundcloud_id, Artist.id).where(Artist.soundcloud_id.in_(id_chunk))
            )
            ids.update((sc_id, artist_id) for sc_id, artist_id in found)
        return AddResult(ids=ids, inserted=inserted)

    async def _upsert(
        self, records: Iterable[Mapping[str, Any]], refresh: Sequence[str]
    ) -> UpsertResult:
        by_id: dict[int, dict[str, Any]] = {}
        for record in records:
            by_id[int(record["soundcloud_id"])] = _upsert_row(record)
        ids: dict[int, uuid.UUID] = {}
        inserted = 0
        for chunk in chunks(list(by_id.values()), values_per_item=_VALUES_PER_ROW):
            values = insert(Artist).values([{"id": new_id(), **row} for row in chunk])
            changed = {name: values.excluded[name] for name in refresh}
            statement = values.on_conflict_do_update(
                index_elements=[Artist.soundcloud_id],
                set_={**changed, "updated_at": func.now()},
            ).returning(
                # xmax is 0 only on a freshly inserted row version.
                Artist.soundcloud_id,
                Artist.id,
                (literal_column("xmax") == 0).label("inserted"),
            )
            for soundcloud_id, artist_id, was_inserted in await self.session.execute(statement):
                ids[soundcloud_id] = artist_id
                inserted += int(was_inserted)
        return UpsertResult(ids=ids, inserted=inserted, updated=len(ids) - inserted)

    async def update(self, artist_id: uuid.UUID, values: Mapping[str, Any]) -> Artist:
        artist = await self.get(artist_id)
        for name, value in values.items():
            setattr(artist, name, _clean_genres(value) if name == "genres" else value)
        await self.session.flush()
        await self.session.refresh(artist)
        return artist

    async def delete(self, artist_id: uuid.UUID) -> None:
        await self.session.delete(await self.get(artist_id))
        await self.session.flush()

    async def search(
        self,
        criteria: ArtistFilter | None = None,
        *,
        sort: str = "-followers",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Artist]:
        statement = select(Artist).where(*(criteria or ArtistFilter()).conditions())
        return await paginate(
            self.session,
            statement,
            id_column=Artist.id,
            order=parse_sort(sort, SORTABLE),
            limit=limit,
            cursor=cursor,
        )

    async def upsert_social_profiles(self, profiles: Iterable[Mapping[str, Any]]) -> int:
        """Add or refresh ``{artist_id, platform, url, username?, followers_count?}`` rows."""
        rows = {
            (p["artist_id"], p["url"]): {
                "id": new_id(),
                "artist_id": p["artist_id"],
                "platform": SocialPlatform(p["platform"]),
                "url": p["url"],
                "username": p.get("username"),
                "followers_count": p.get("followers_count"),
            }
            for p in profiles
        }
        if not rows:
            return 0
        statement = insert(ArtistSocialProfile).values(list(rows.values()))
        statement = statement.on_conflict_do_update(
            index_elements=[ArtistSocialProfile.artist_id, ArtistSocialProfile.url],
            set_={
                "platform": statement.excluded.platform,
                "username": func.coalesce(
                    statement.excluded.username, ArtistSocialProfile.username
                ),
                "followers_count": func.coalesce(
                    statement.excluded.followers_count, ArtistSocialProfile.followers_count
                ),
                "updated_at": func.now(),
            },
        )
        await self.session.execute(statement)
        return len(rows)

    async def add_snapshots(self, snapshots: Iterable[Mapping[str, Any]]) -> int:
        """Record ``{artist_id, followers, tracks, captured_at?}``; a repeated moment is ignored."""
        rows = [
            {
                "id": new_id(),
                "artist_id": s["artist_id"],
                "followers": s["followers"],
                "tracks": s["tracks"],
                **({"captured_at": s["captured_at"]} if s.get("captured_at") else {}),
            }
            for s in snapshots
        ]
        if not rows:
            return 0
        result = await self.session.execute(
            insert(ArtistSnapshot)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(ArtistSnapshot.id)
        )
        return len(result.all())

    async def snapshots(
        self, artist_id: uuid.UUID, *, since: datetime | None = None
    ) -> list[ArtistSnapshot]:
        statement = select(ArtistSnapshot).where(ArtistSnapshot.artist_id == artist_id)
        if since is not None:
            statement = statement.where(ArtistSnapshot.captured_at >= since)
        return list(
            (await self.session.scalars(statement.order_by(ArtistSnapshot.captured_at))).all()
        )


def _upsert_row(record: Mapping[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name in UPSERT_COLUMNS}
    row["genres"] = _clean_genres(record.get("genres") or [])
    row["followers"] = row["followers"] or 0
    row["tracks"] = row["tracks"] or 0
    row["verified"] = bool(row["verified"])
    row["country"] = row["country"].upper() if row["country"] else None
    return row


def _clean_genres(genres: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for genre in genres:
        cleaned = " ".join(genre.split()).lower()
        if cleaned:
            seen.setdefault(cleaned[:100])
    return list(seen)
