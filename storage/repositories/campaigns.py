"""Campaigns and the artists in them. Status changes go through the state machine in
``core.campaign_rules``; a row lock keeps two concurrent changes from both succeeding.

Also what a campaign has spent (its expense transactions), and the moves the calendar makes
across every workspace (:meth:`CampaignRepository.advance_by_dates`, for the scheduler)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.campaign_rules import ensure_transition, status_by_date
from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType, TransactionType
from core.errors import FieldProblem, InvalidInput, NotFound
from core.money import check_currency_change, normalize_currency
from core.pagination import DEFAULT_PAGE_SIZE
from storage.models import Artist, Campaign, CampaignArtist, Transaction
from storage.repositories.base import (
    Page,
    ScopedRepository,
    chunks,
    paginate,
    parse_sort,
    write_guard,
)


@dataclass(frozen=True)
class Spending:
    """What a campaign has spent against its budget, in the campaign's currency (minor units).

    Only expenses in the campaign's own currency count: amounts of different currencies are
    never added together (there are no exchange rates here), as in the transaction summaries.
    """

    campaign_id: uuid.UUID
    budget_minor: int
    spent_minor: int
    currency: str


class DateMove(NamedTuple):
    """A campaign the calendar moved: from ``old_status`` to ``new_status``."""

    workspace_id: uuid.UUID
    campaign_id: uuid.UUID
    old_status: CampaignStatus
    new_status: CampaignStatus


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

    async def spending(self, campaign_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Spending]:
        """What each of these campaigns (of this workspace) has spent, summed by PostgreSQL in
        one grouped query per 16,000 ids; a page of campaigns costs one query, not one each.
        Ids that are not campaigns of this workspace are left out."""
        found: dict[uuid.UUID, Spending] = {}
        expense = and_(
            Transaction.type == TransactionType.EXPENSE, Transaction.currency == Campaign.currency
        )
        spent = func.coalesce(func.sum(Transaction.amount_minor).filter(expense), 0)
        for chunk in chunks(list(campaign_ids), values_per_item=1):
            rows = await self.session.execute(
                select(Campaign.id, Campaign.budget_minor, Campaign.currency, spent)
                .outerjoin(
                    Transaction,
                    and_(
                        Transaction.campaign_id == Campaign.id,
                        Transaction.workspace_id == Campaign.workspace_id,
                    ),
                )
                .where(Campaign.workspace_id == self.workspace_id, Campaign.id.in_(chunk))
                .group_by(Campaign.id)
            )
            for campaign_id, budget, currency, total in rows:
                found[campaign_id] = Spending(campaign_id, budget, int(total), currency)
        return found

    @staticmethod
    async def advance_by_dates(session: AsyncSession, today: date) -> list[DateMove]:
        """Move every campaign of every workspace that its dates make due on ``today``
        (``core.campaign_rules.status_by_date``), and return the moves, ordered by workspace
        and campaign.

        For the scheduler, in a transaction of its own; the caller records the moves (audit and
        live events). The due rows are locked (``FOR NO KEY UPDATE SKIP LOCKED``) before they
        are read and moved, so two callers at once never both move a row: the second skips what
        the first holds, and once the first commits the row is no longer due. A row a person is
        changing at that moment is skipped too, and is picked up by the next call if still due.
        """
        today_due = or_(
            and_(
                Campaign.status == CampaignStatus.SCHEDULED,
                or_(Campaign.start_date <= today, Campaign.end_date < today),
            ),
            and_(Campaign.status == CampaignStatus.ACTIVE, Campaign.end_date < today),
        )
        # The filter above is the rule's, so the index on status narrows the scan; the rule
        # itself still decides each row.
        due = await session.execute(
            select(
                Campaign.workspace_id,
                Campaign.id,
                Campaign.status,
                Campaign.start_date,
                Campaign.end_date,
            )
            .where(today_due)
            .order_by(Campaign.id)
            .with_for_update(skip_locked=True, key_share=True)
        )
        moves: list[DateMove] = []
        for workspace_id, campaign_id, status, start_date, end_date in due:
            target = status_by_date(status, start_date, end_date, today)
            if target is not None:
                moves.append(DateMove(workspace_id, campaign_id, status, target))
        for target in {move.new_status for move in moves}:
            ids = [move.campaign_id for move in moves if move.new_status is target]
            for chunk in chunks(ids, values_per_item=1):
                await session.execute(
                    update(Campaign)
                    .where(Campaign.id.in_(chunk))
                    .values(status=target)
                    .execution_options(synchronize_session="fetch")
                )
        return sorted(moves, key=lambda move: (move.workspace_id, move.campaign_id))

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
