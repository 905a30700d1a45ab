"""A workspace's private notes on artists."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

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

    async def get_for_artist(self, artist_id: uuid.UUID, note_id: uuid.UUID) -> ArtistNote:
        """The note, if it is this workspace's and is about ``artist_id``."""
        note = await self.session.scalar(
            self._scoped().where(ArtistNote.id == note_id, ArtistNote.artist_id == artist_id)
        )
        if note is None:
            raise NotFound(f"note {note_id} not found")
        return note

    async def count_for_artist(self, artist_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.count(ArtistNote.id)).where(
                    ArtistNote.workspace_id == self.workspace_id,
                    ArtistNote.artist_id == artist_id,
                )
            )
            or 0
        )
