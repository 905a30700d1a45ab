"""The artists a workspace watches: kept fresh by the refresh scheduler and found with the
``watched`` search filter."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from core.errors import NotFound
from core.ids import new_id
from storage.models import Artist, WatchedArtist
from storage.repositories.base import ScopedRepository


class WatchedArtistRepository(ScopedRepository[WatchedArtist]):
    model = WatchedArtist
    noun = "watched artist"

    async def watch(self, artist_id: uuid.UUID, *, by: uuid.UUID | None) -> bool:
        """Watch the artist; ``False`` if the workspace already did (nothing changes then)."""
        if await self.session.get(Artist, artist_id) is None:
            raise NotFound(f"artist {artist_id} not found")
        added = await self.session.scalar(
            insert(WatchedArtist)
            .values(id=new_id(), workspace_id=self.workspace_id, artist_id=artist_id, created_by=by)
            .on_conflict_do_nothing(index_elements=["workspace_id", "artist_id"])
            .returning(WatchedArtist.id)
        )
        return added is not None

    async def unwatch(self, artist_id: uuid.UUID) -> bool:
        """Stop watching the artist; ``False`` if the workspace did not watch it."""
        removed = await self.session.scalar(
            delete(WatchedArtist)
            .where(
                WatchedArtist.workspace_id == self.workspace_id,
                WatchedArtist.artist_id == artist_id,
            )
            .returning(WatchedArtist.id)
        )
        return removed is not None

    async def watched_among(self, artist_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``artist_ids`` the workspace watches."""
        wanted = list(set(artist_ids))
        if not wanted:
            return set()
        found = await self.session.scalars(
            select(WatchedArtist.artist_id).where(
                WatchedArtist.workspace_id == self.workspace_id,
                WatchedArtist.artist_id.in_(wanted),
            )
        )
        return set(found)
