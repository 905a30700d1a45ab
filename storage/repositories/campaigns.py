"""Campaigns and the artists in them. Status changes go through the state machine in
``core.campaign_rules``; a row lock keeps two concurrent changes from both succeeding."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from core.campaign_rules import ensure_transition
from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType
from core.errors import FieldProblem, InvalidInput, NotFound
from core.money import check_currency_change, normalize_currency
from core.pagination import DEFAULT_PAGE_SIZE
from storage.models import Artist, Campaign, CampaignArtist
from storage.repositories.base import Page, ScopedRepository, paginate, parse_sort, write_guard


class CampaignRepository(ScopedRepository[Campaign]):
    model = Campaign
    noun = "campaign"
    sortable = {
        "created_at": "created_at",
        "updated_at": "updated_at",
        "name": "name",
        "budget": "budget_minor",
    }
    searchable = ("name",)

    async def search(
        self,
        *,
        status: CampaignStatus | None = None,
        type: CampaignType | None = None,
        q: str | None = None,
        sort: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Campaign]:
        """Campaigns in ``status``, of ``type``, whose name contains ``q``."""
        where = []
        if status is not None:
            where.append(Campaign.status == status)
        if type is not None:
            where.append(Campaign.type == type)
        return await self.list(where=where, q=q, sort=sort, limit=limit, cursor=cursor)

    async def create(self, **values: Any) -> Campaign:
        if "status" in values:
            raise InvalidInput(
                "a new campaign starts as a draft", [FieldProblem("status", "read-only")]
            )
        if "currency" in values:
            values["currency"] = normalize_currency(values["currency"])
        return await super().create(**values)

    async def update(self, row_id: uuid.UUID, values: Mapping[str, Any]) -> Campaign:
        if "status" in values:
            raise InvalidInput(
                "change status with a transition, not an update",
                [FieldProblem("status", "read-only")],
            )
        # A null currency is left to the NOT NULL constraint, which names the field.
        if values.get("currency") is not None:
            values = {**values, "currency": normalize_currency(values["currency"])}
            current = await self.get(row_id)
            check_currency_change(
                currency=current.currency,
                amount_minor=current.budget_minor,
                changes=values,
                amount_fields=("budget_minor",),
            )
        return await super().update(row_id, values)

    async def transition(self, campaign_id: uuid.UUID, target: CampaignStatus) -> Campaign:
        """Move the campaign to ``target`` if the state machine allows it from its current state."""
        campaign = await self.session.scalar(
            self._scoped().where(Campaign.id == campaign_id).with_for_update()
        )
        if campaign is None:
            raise NotFound(f"campaign {campaign_id} not found")
        ensure_transition(campaign.status, target)
        async with write_guard(self.session, self.noun):
            campaign.status = target
        await self.session.refresh(campaign)
        return campaign

    async def add_artist(
        self,
        campaign_id: uuid.UUID,
        artist_id: uuid.UUID,
        status: CampaignArtistStatus = CampaignArtistStatus.PROPOSED,
    ) -> CampaignArtist:
        await self.get(campaign_id)
        if await self.session.get(Artist, artist_id) is None:
            raise NotFound(f"artist {artist_id} not found")
        entry = CampaignArtist(
            workspace_id=self.workspace_id,
            campaign_id=campaign_id,
            artist_id=artist_id,
            status=status,
        )
        async with write_guard(self.session, "artist in this campaign"):
            self.session.add(entry)
        return entry

    async def list_artists(
        self,
        campaign_id: uuid.UUID,
        *,
        status: CampaignArtistStatus | None = None,
        sort: str = "-added_at",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[CampaignArtist]:
        await self.get(campaign_id)
        statement = (
            select(CampaignArtist)
            .where(
                CampaignArtist.workspace_id == self.workspace_id,
                CampaignArtist.campaign_id == campaign_id,
            )
            .options(selectinload(CampaignArtist.artist))
        )
        if status is not None:
            statement = statement.where(CampaignArtist.status == status)
        order = parse_sort(sort, {"added_at": CampaignArtist.added_at})
        return await paginate(
            self.session,
            statement,
            id_column=CampaignArtist.id,
            order=order,
            limit=limit,
            cursor=cursor,
        )

    async def set_artist_status(
        self, campaign_id: uuid.UUID, artist_id: uuid.UUID, status: CampaignArtistStatus
    ) -> CampaignArtist:
        entry = await self._entry(campaign_id, artist_id)
        entry.status = status
        await self.session.flush()
        await self.session.refresh(entry)
        return entry

    async def remove_artist(self, campaign_id: uuid.UUID, artist_id: uuid.UUID) -> None:
        entry = await self._entry(campaign_id, artist_id)
        await self.session.execute(delete(CampaignArtist).where(CampaignArtist.id == entry.id))

    async def _entry(self, campaign_id: uuid.UUID, artist_id: uuid.UUID) -> CampaignArtist:
        entry = await self.session.scalar(
            select(CampaignArtist).where(
                CampaignArtist.workspace_id == self.workspace_id,
                CampaignArtist.campaign_id == campaign_id,
                CampaignArtist.artist_id == artist_id,
            )
        )
        if entry is None:
            raise NotFound(f"artist {artist_id} is not in campaign {campaign_id}")
        return entry
