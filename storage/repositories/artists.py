"""The shared artist catalogue: batch upsert by SoundCloud id, search, social profiles, follower
snapshots and the growth they show. Catalogue rows are public; what a workspace knows privately
about an artist lives in contacts, notes and its watch list.

Growth over a window (7 or 30 days) compares an artist's latest snapshot with the last one taken
at or before the window's start. An artist followed for less than the window has no such
snapshot: then the first snapshot inside the window is the base if it covers at least
``MIN_WINDOW_COVERAGE`` of it (a day or so short of a week still says how a week went), and
growth is unknown (NULL) otherwise, because growth over two days read as "7-day growth" would
rank a lucky weekend above a steady month. The percent is unknown too when the base is 0
followers. Both are kept on the artist row, recomputed by ``add_snapshots``, so searches sort
and filter on them through indexes.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    ScalarSelect,
    Uuid,
    case,
    cast,
    column,
    exists,
    func,
    literal_column,
    select,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, selectinload

from core.enums import CampaignStatus, SocialPlatform
from core.errors import NotFound
from core.ids import new_id
from storage.models import (
    Artist,
    ArtistContact,
    ArtistSnapshot,
    ArtistSocialProfile,
    Campaign,
    CampaignArtist,
    WatchedArtist,
)
from storage.repositories.base import Page, chunks, paginate, parse_sort, text_search

# Columns an upsert may write; everything else (id, created_at) is the database's.
UPSERT_COLUMNS = (
    "soundcloud_id", "name", "soundcloud_username", "permalink", "permalink_url", "description",
    "genres", "city", "country", "followers", "tracks", "verified", "avatar_url", "fetched_at",
)  # fmt: skip
# Bound values an artist row takes in an insert: its columns and the id.
_VALUES_PER_ROW = len(UPSERT_COLUMNS) + 1
# ORM bulk INSERT leaves a None out of its row, so rows with their Nones in different places
# make different statements and go one by one; rendering NULL keeps them one multi-row INSERT.
_ALL_ROWS = {"render_nulls": True}

# Growth sorts are by percent, NULLs last both ways: a descending sort pages on the growth with
# NULL as -Infinity, an ascending one (``_ASCENDING``) with NULL as +Infinity.
SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "followers": Artist.followers,
    "name": Artist.name,
    "created_at": Artist.created_at,
    "updated_at": Artist.updated_at,
    "growth_7d": Artist.growth_7d_nulls_low,
    "growth_30d": Artist.growth_30d_nulls_low,
}
_ASCENDING: dict[str, InstrumentedAttribute[Any]] = {
    "growth_7d": Artist.growth_7d_nulls_high,
    "growth_30d": Artist.growth_30d_nulls_high,
}

# Growth windows, by the name of the column pair (percent, ``*_gain``) they fill.
GROWTH_WINDOWS = {"growth_7d": timedelta(days=7), "growth_30d": timedelta(days=30)}
# The least part of a window an artist's history must cover for its growth to be known.
MIN_WINDOW_COVERAGE = 0.8
# Campaigns whose artists are kept fresh: those not finished and not a draft.
TRACKED_CAMPAIGN_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE, CampaignStatus.PAUSED)


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
    # Growth in percent over 7 / 30 days, at least this; artists of unknown growth never pass.
    min_growth_7d: float | None = None
    min_growth_30d: float | None = None
    # "has an email contact in this workspace"; needs ``workspace_id``.
    has_contact: bool | None = None
    # "this workspace watches the artist"; needs ``workspace_id``.
    watched: bool | None = None
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
        # On the sort key (NULL as -Infinity), not the column, so that the growth index serves
        # the filter too; for any finite bound the two are the same test.
        if self.min_growth_7d is not None:
            where.append(Artist.growth_7d_nulls_low >= self.min_growth_7d)
        if self.min_growth_30d is not None:
            where.append(Artist.growth_30d_nulls_low >= self.min_growth_30d)
        if self.soundcloud_ids:
            where.append(Artist.soundcloud_id.in_(list(self.soundcloud_ids)))
        if self.has_contact is not None:
            has = exists().where(
                ArtistContact.artist_id == Artist.id,
                ArtistContact.workspace_id == self._workspace("has_contact"),
            )
            where.append(has if self.has_contact else ~has)
        if self.watched is not None:
            watched = exists().where(
                WatchedArtist.artist_id == Artist.id,
                WatchedArtist.workspace_id == self._workspace("watched"),
            )
            where.append(watched if self.watched else ~watched)
        return where

    def _workspace(self, criterion: str) -> uuid.UUID:
        if self.workspace_id is None:
            raise ValueError(f"{criterion} needs workspace_id")
        return self.workspace_id


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
                statement, [{"id": new_id(), **row} for row in chunk], execution_options=_ALL_ROWS
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
        # Rows as parameters (see ``add_missing``): the statement is compiled once and sent
        # as multi-row VALUES, where a ``.values()`` list costs about 1 ms a row to compile; a
        # discovery job writes several hundred artists a second.
        values = insert(Artist)
        statement = values.on_conflict_do_update(
            index_elements=[Artist.soundcloud_id],
            set_={
                **{name: values.excluded[name] for name in refresh},
                "updated_at": func.now(),
            },
        ).returning(
            # xmax is 0 only on a freshly inserted row version.
            Artist.soundcloud_id,
            Artist.id,
            (literal_column("xmax") == 0).label("inserted"),
        )
        for chunk in chunks(list(by_id.values()), values_per_item=_VALUES_PER_ROW):
            answer = await self.session.execute(
                statement, [{"id": new_id(), **r} for r in chunk], execution_options=_ALL_ROWS
            )
            for soundcloud_id, artist_id, was_inserted in answer:
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
        """A page of the catalogue's artists that match ``criteria``, in ``sort`` order
        (``"-growth_7d"``: fastest growing first, artists of unknown growth last)."""
        statement = select(Artist).where(*(criteria or ArtistFilter()).conditions())
        order = parse_sort(sort, SORTABLE)
        if not order.descending and order.key in _ASCENDING:
            order = dataclasses.replace(order, column=_ASCENDING[order.key])
        return await paginate(
            self.session,
            statement,
            id_column=Artist.id,
            order=order,
            limit=limit,
            cursor=cursor,
        )

    async def due_for_refresh(
        self, *, older_than: datetime, limit: int
    ) -> list[tuple[uuid.UUID, int]]:
        """``(artist id, SoundCloud id)`` of artists some workspace tracks, last read from
        SoundCloud before ``older_than`` (or never), least recently read first.

        An artist is tracked when any workspace watches it or has it in a campaign that is
        scheduled, active or paused.
        """
        watched = select(WatchedArtist.artist_id)
        in_campaign = (
            select(CampaignArtist.artist_id)
            .join(Campaign, Campaign.id == CampaignArtist.campaign_id)
            .where(Campaign.status.in_(TRACKED_CAMPAIGN_STATUSES))
        )
        tracked = watched.union(in_campaign).subquery("tracked")
        rows = await self.session.execute(
            select(Artist.id, Artist.soundcloud_id)
            .join(tracked, tracked.c.artist_id == Artist.id)
            .where((Artist.fetched_at < older_than) | Artist.fetched_at.is_(None))
            .order_by(Artist.fetched_at.asc().nulls_first(), Artist.id)
            .limit(limit)
        )
        return [(artist_id, soundcloud_id) for artist_id, soundcloud_id in rows]

    async def refresh_numbers(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write numbers re-read from SoundCloud: ``{artist_id, followers, tracks, verified,
        fetched_at}``, one UPDATE per chunk of artists. Returns how many rows changed.

        Snapshots are separate (``add_snapshots``): a refresh writes both in one transaction.
        """
        rows = list(rows)
        changed = 0
        for chunk in chunks(rows, values_per_item=5):
            numbers = values(
                column("id", Uuid),
                column("followers", Integer),
                column("tracks", Integer),
                column("verified", Boolean),
                column("fetched_at", DateTime(timezone=True)),
                name="numbers",
            ).data(
                [
                    (
                        r["artist_id"],
                        r["followers"],
                        r["tracks"],
                        bool(r["verified"]),
                        r["fetched_at"],
                    )
                    for r in chunk
                ]
            )
            result = await self.session.execute(
                update(Artist)
                .where(Artist.id == numbers.c.id)
                .values(
                    followers=numbers.c.followers,
                    tracks=numbers.c.tracks,
                    verified=numbers.c.verified,
                    fetched_at=numbers.c.fetched_at,
                    updated_at=func.now(),
                )
                .returning(Artist.id)
                .execution_options(synchronize_session=False)
            )
            changed += len(result.all())
        return changed

    async def mark_fetched(self, artist_ids: Iterable[uuid.UUID], *, at: datetime) -> int:
        """Set ``fetched_at`` alone, for artists read without numbers to keep (gone from the
        site): they are not due again before the next interval. Returns how many changed."""
        ids = sorted(set(artist_ids))
        changed = 0
        for chunk in chunks(ids, values_per_item=1):
            result = await self.session.execute(
                update(Artist)
                .where(Artist.id.in_(chunk))
                .values(fetched_at=at, updated_at=func.now())
                .returning(Artist.id)
                .execution_options(synchronize_session=False)
            )
            changed += len(result.all())
        return changed

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
        statement = insert(ArtistSocialProfile)  # rows as parameters: see _upsert
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
        for chunk in chunks(list(rows.values()), values_per_item=6):
            await self.session.execute(statement, chunk, execution_options=_ALL_ROWS)
        return len(rows)

    async def add_snapshots(self, snapshots: Iterable[Mapping[str, Any]]) -> int:
        """Record ``{artist_id, followers, tracks, captured_at?}``; a repeated moment is ignored.

        The growth of every artist named is recomputed from its snapshots (see the module's
        docstring), in one statement per chunk of artists. Returns how many snapshots were new.
        """
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
        added = 0
        statement = insert(ArtistSnapshot).on_conflict_do_nothing().returning(ArtistSnapshot.id)
        # Rows as parameters (see ``add_missing``), so every row of a statement names the same
        # columns: those without a time take the database's.
        timed = [row for row in rows if "captured_at" in row]
        untimed = [row for row in rows if "captured_at" not in row]
        for group in (timed, untimed):
            for chunk in chunks(group, values_per_item=5):
                added += len((await self.session.execute(statement, list(chunk))).all())
        await self.recompute_growth({row["artist_id"] for row in rows})
        return added

    async def recompute_growth(self, artist_ids: Iterable[uuid.UUID]) -> None:
        """Set the growth columns of these artists from their snapshots, set-based."""
        ids = sorted(set(artist_ids))
        for chunk in chunks(ids, values_per_item=1):
            await self.session.execute(_growth_update(chunk))

    async def snapshots(
        self, artist_id: uuid.UUID, *, since: datetime | None = None
    ) -> list[ArtistSnapshot]:
        statement = select(ArtistSnapshot).where(ArtistSnapshot.artist_id == artist_id)
        if since is not None:
            statement = statement.where(ArtistSnapshot.captured_at >= since)
        return list(
            (await self.session.scalars(statement.order_by(ArtistSnapshot.captured_at))).all()
        )


def _growth_update(artist_ids: Sequence[uuid.UUID]) -> Any:
    """One UPDATE setting the growth columns of ``artist_ids`` from their snapshots."""
    latest = (
        select(ArtistSnapshot.artist_id, ArtistSnapshot.followers, ArtistSnapshot.captured_at)
        .where(ArtistSnapshot.artist_id.in_(artist_ids))
        .ext(distinct_on(ArtistSnapshot.artist_id))
        .order_by(ArtistSnapshot.artist_id, ArtistSnapshot.captured_at.desc())
        .subquery("latest")
    )
    bases = select(
        latest.c.artist_id,
        latest.c.followers.label("now"),
        *(
            _base_followers(latest.c.artist_id, latest.c.captured_at, window).label(name)
            for name, window in GROWTH_WINDOWS.items()
        ),
    ).subquery("bases")
    values: dict[str, Any] = {}
    for name in GROWTH_WINDOWS:
        base = bases.c[name]
        gain = bases.c.now - base
        values[f"{name}_gain"] = gain
        values[name] = case((base > 0, cast(gain, Float) * 100.0 / base), else_=None)
    return (
        update(Artist)
        .where(Artist.id == bases.c.artist_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


def _base_followers(artist_id: Any, latest_at: Any, window: timedelta) -> ScalarSelect[Any]:
    """Followers at the start of ``window`` before ``latest_at``: the last snapshot at or
    before it, else the first after it that still covers ``MIN_WINDOW_COVERAGE`` of it.
    Each is one step of the (artist_id, captured_at) index."""
    start = latest_at - window
    before = aliased(ArtistSnapshot)
    after = aliased(ArtistSnapshot)
    at_or_before = (
        select(before.followers)
        .where(before.artist_id == artist_id, before.captured_at <= start)
        .order_by(before.captured_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    first_inside = (
        select(after.followers)
        .where(
            after.artist_id == artist_id,
            after.captured_at > start,
            after.captured_at <= latest_at - window * MIN_WINDOW_COVERAGE,
        )
        .order_by(after.captured_at.asc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(at_or_before, first_inside)  # type: ignore[return-value]


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
