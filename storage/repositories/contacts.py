"""A workspace's email contacts for artists, with their source and consent state."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from core.emails import normalize_email
from core.enums import ConsentState, ContactSource
from core.errors import NotFound
from core.ids import new_id
from storage.models import Artist, ArtistContact
from storage.repositories.base import Page, ScopedRepository


class ArtistContactRepository(ScopedRepository[ArtistContact]):
    model = ArtistContact
    noun = "contact"
    sortable = {"created_at": "created_at", "email": "email"}

    async def add(
        self,
        *,
        artist_id: uuid.UUID,
        email: str,
        source: ContactSource,
        consent_state: ConsentState = ConsentState.UNKNOWN,
    ) -> ArtistContact:
        return await self.create(
            artist_id=artist_id,
            email=normalize_email(email),
            source=source,
            consent_state=consent_state,
        )

    async def add_found(self, contacts: list[dict[str, Any]]) -> int:
        """Record contacts found by discovery (``{artist_id, email, source}``).

        Ones the workspace already holds are left as they are: their consent state is the team's
        to set, not the crawler's.
        """
        rows = {
            (c["artist_id"], normalize_email(c["email"])): {
                "id": new_id(),
                "workspace_id": self.workspace_id,
                "artist_id": c["artist_id"],
                "email": normalize_email(c["email"]),
                "source": ContactSource(c["source"]),
                "consent_state": ConsentState.PUBLIC_BUSINESS,
            }
            for c in contacts
        }
        if not rows:
            return 0
        result = await self.session.execute(
            insert(ArtistContact)
            .values(list(rows.values()))
            .on_conflict_do_nothing()
            .returning(ArtistContact.id)
        )
        return len(result.all())

    async def for_artist(
        self, artist_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[ArtistContact]:
        await self._require_artist(artist_id)
        return await self.list(
            where=[ArtistContact.artist_id == artist_id], limit=limit, cursor=cursor
        )

    async def _require_artist(self, artist_id: uuid.UUID) -> None:
        if await self.session.get(Artist, artist_id) is None:
            raise NotFound(f"artist {artist_id} not found")
