"""A workspace's email contacts for artists, with their source and consent state."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from core.emails import normalize_email
from core.enums import ConsentState, ContactSource
from core.errors import NotFound
from core.ids import new_id
from core.outreach_rules import CONSENT_PREFERENCE, USABLE_CONSENT
from storage.models import Artist, ArtistContact, Campaign, CampaignArtist, EmailRecord, Suppression
from storage.repositories.base import Page, ScopedRepository, chunks

# Bound values a contact row takes in an insert (the keys of ``_insert_missing``'s rows).
_VALUES_PER_ROW = 6


class _Reach(IntEnum):
    """What stands between a campaign's artist and a message; lower is better, so an artist's
    best contact is the first in this order."""

    USABLE = 0
    SUPPRESSED = 1
    WITHDRAWN = 2
    NO_CONTACT = 3
    # Not a property of a contact: the artist, or the chosen address, is already in the outreach.
    DUPLICATE = 4


@dataclass(frozen=True)
class CampaignRecipients:
    """A campaign's artists sorted for an outreach: the best address of each artist that may be
    written to (``chosen``, at most the limit asked for, by artist id) and how many were set
    aside, and why. ``remaining`` usable artists did not fit under the limit."""

    chosen: list[tuple[uuid.UUID, str]]
    remaining: int
    suppressed: int
    withdrawn_consent: int
    no_contact: int
    duplicates: int


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

    async def recipients_for_campaign(
        self, campaign_id: uuid.UUID, outreach_campaign_id: uuid.UUID, *, limit: int
    ) -> CampaignRecipients:
        """The best address of each artist of ``campaign_id`` (a campaign of this workspace) to
        queue on ``outreach_campaign_id``.

        An artist's contacts are taken in this order: one that may be written to (consent not
        withdrawn, see ``core.outreach_rules``) and is not suppressed, best consent first, then
        oldest; so an artist whose booking address bounced is still reached at their other one.
        An artist is set aside when every contact is suppressed or withdrawn, when the workspace
        holds none, or when the artist or the chosen address is already in the outreach.
        """
        await self.require(Campaign, campaign_id, "campaign")
        workspace = self.workspace_id
        consent_rank = case(
            *(
                (ArtistContact.consent_state == state, rank)
                for state, rank in CONSENT_PREFERENCE.items()
            ),
            else_=len(CONSENT_PREFERENCE),
        )
        reach = case(
            (ArtistContact.id.is_(None), _Reach.NO_CONTACT.value),
            (ArtistContact.consent_state.not_in(USABLE_CONSENT), _Reach.WITHDRAWN.value),
            (Suppression.id.is_not(None), _Reach.SUPPRESSED.value),
            else_=_Reach.USABLE.value,
        )
        ranked = (
            select(
                CampaignArtist.artist_id,
                ArtistContact.email,
                reach.label("reach"),
                func.row_number()
                .over(
                    partition_by=CampaignArtist.artist_id,
                    order_by=(reach, consent_rank, ArtistContact.created_at, ArtistContact.id),
                )
                .label("rank"),
            )
            .select_from(CampaignArtist)
            .outerjoin(
                ArtistContact,
                (ArtistContact.artist_id == CampaignArtist.artist_id)
                & (ArtistContact.workspace_id == workspace),
            )
            .outerjoin(
                Suppression,
                (Suppression.workspace_id == workspace)
                & (Suppression.email == ArtistContact.email),
            )
            .where(
                CampaignArtist.workspace_id == workspace, CampaignArtist.campaign_id == campaign_id
            )
            .subquery()
        )
        queued = exists().where(
            EmailRecord.outreach_campaign_id == outreach_campaign_id,
            or_(
                EmailRecord.artist_id == ranked.c.artist_id, EmailRecord.to_email == ranked.c.email
            ),
        )
        best = (
            select(
                ranked.c.artist_id,
                ranked.c.email,
                case(
                    (
                        (ranked.c.reach == _Reach.USABLE.value) & queued,
                        _Reach.DUPLICATE.value,
                    ),
                    else_=ranked.c.reach,
                ).label("reach"),
            )
            .where(ranked.c.rank == 1)
            .cte("best")
        )
        counts = {
            _Reach(reach): int(count)
            for reach, count in await self.session.execute(
                select(best.c.reach, func.count()).group_by(best.c.reach)
            )
        }
        chosen = [
            (artist_id, email)
            for artist_id, email in await self.session.execute(
                select(best.c.artist_id, best.c.email)
                .where(best.c.reach == _Reach.USABLE.value)
                .order_by(best.c.artist_id)
                .limit(limit)
            )
        ]
        return CampaignRecipients(
            chosen=chosen,
            remaining=counts.get(_Reach.USABLE, 0) - len(chosen),
            suppressed=counts.get(_Reach.SUPPRESSED, 0),
            withdrawn_consent=counts.get(_Reach.WITHDRAWN, 0),
            no_contact=counts.get(_Reach.NO_CONTACT, 0),
            duplicates=counts.get(_Reach.DUPLICATE, 0),
        )
