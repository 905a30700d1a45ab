"""A workspace's private notes on artists."""

from __future__ import annotations

import uuid

from core.errors import NotFound
from storage.models import Artist, ArtistNote
from storage.repositories.base import Page, ScopedRepository


class ArtistNoteRepository(ScopedRepository[ArtistNote]):
    model = ArtistNote
    noun = "note"

    async def add(
        self, *, artist_id: uuid.UUID, author_id: uuid.UUID | None, body: str
    ) -> ArtistNote:
        if await self.session.get(Artist, artist_id) is None:
            raise NotFound(f"artist {artist_id} not found")
        return await self.create(artist_id=artist_id, author_id=author_id, body=body)

    async def for_artist(
        self, artist_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[ArtistNote]:
        return await self.list(
            where=[ArtistNote.artist_id == artist_id], limit=limit, cursor=cursor
        )
