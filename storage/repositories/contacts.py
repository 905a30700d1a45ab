"""A workspace's email contacts for artists, with their source and consent state."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from core.emails import normalize_email
from core.enums import ConsentState, ContactSource
from core.errors import NotFound
from core.ids import new_id
from storage.models import Artist, ArtistContact
from storage.repositories.base import Page, ScopedRepository, chunks

# Bound values a contact row takes in an insert (the keys of ``_insert_missing``'s rows).
_VALUES_PER_ROW = 6


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
        return await self._insert_missing(
            ((c["artist_id"], c["email"], ContactSource(c["source"])) for c in contacts),
            ConsentState.PUBLIC_BUSINESS,
        )

    async def add_many(
        self,
        contacts: Iterable[tuple[uuid.UUID, str]],
        *,
        source: ContactSource,
        consent_state: ConsentState = ConsentState.UNKNOWN,
    ) -> int:
        """Add ``(artist_id, email)`` pairs in a few statements; returns how many were new.

        Pairs the workspace already holds are left as they are. Raises ``InvalidInput`` on an
        address that is not one, so validate first when a bad row must not fail the batch.
        """
        return await self._insert_missing(
            ((artist_id, email, source) for artist_id, email in contacts), consent_state
        )

    async def _insert_missing(
        self,
        contacts: Iterable[tuple[uuid.UUID, str, ContactSource]],
        consent_state: ConsentState,
    ) -> int:
        rows: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
        for artist_id, raw_email, source in contacts:
            email = normalize_email(raw_email)
            rows[(artist_id, email)] = {
                "id": new_id(),
                "workspace_id": self.workspace_id,
                "artist_id": artist_id,
                "email": email,
                "source": source,
                "consent_state": consent_state,
            }
        statement = insert(ArtistContact).on_conflict_do_nothing().returning(ArtistContact.id)
        added = 0
        for chunk in chunks(list(rows.values()), values_per_item=_VALUES_PER_ROW):
            added += len((await self.session.execute(statement, chunk)).all())
        return added

    async def update(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> ArtistContact:
        """Change a contact; a new email is normalised like one that is added."""
        if "email" in values:
            values = {**values, "email": normalize_email(values["email"])}
        return await super().update(row_id, values)

    async def get_for_artist(self, artist_id: uuid.UUID, contact_id: uuid.UUID) -> ArtistContact:
        """The contact, if it is this workspace's and belongs to ``artist_id``."""
        contact = await self.session.scalar(
            self._scoped().where(
                ArtistContact.id == contact_id, ArtistContact.artist_id == artist_id
            )
        )
        if contact is None:
            raise NotFound(f"contact {contact_id} not found")
        return contact

    async def count_for_artist(self, artist_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.count(ArtistContact.id)).where(
                    ArtistContact.workspace_id == self.workspace_id,
                    ArtistContact.artist_id == artist_id,
                )
            )
            or 0
        )

    async def emails_by_artist(self, artist_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        """The workspace's addresses for each of ``artist_ids`` that has any, sorted."""
        if not artist_ids:
            return {}
        rows = await self.session.execute(
            select(ArtistContact.artist_id, ArtistContact.email)
            .where(
                ArtistContact.workspace_id == self.workspace_id,
                ArtistContact.artist_id.in_(list(artist_ids)),
            )
            .order_by(ArtistContact.artist_id, ArtistContact.email)
        )
        emails: dict[uuid.UUID, list[str]] = {}
        for artist_id, email in rows:
            emails.setdefault(artist_id, []).append(email)
        return emails

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
