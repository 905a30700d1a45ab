"""Counts across a workspace's aggregates for its dashboard, each computed by PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import CampaignStatus, EmailStatus
from storage.models import Campaign, EmailRecord, Membership
from storage.repositories.transactions import MoneyTotals, TransactionRepository


@dataclass(frozen=True)
class WorkspaceOverview:
    """Every status appears in the counts, with 0 when no row has it."""

    campaigns_by_status: dict[CampaignStatus, int]
    email_records_by_status: dict[EmailStatus, int]
    transactions_by_currency: list[MoneyTotals]
    members: int


class DashboardRepository:
    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def campaigns_by_status(self) -> dict[CampaignStatus, int]:
        rows = await self.session.execute(
            select(Campaign.status, func.count())
            .where(Campaign.workspace_id == self.workspace_id)
            .group_by(Campaign.status)
        )
        counts: dict[Any, int] = dict(rows.all())
        return {status: counts.get(status, 0) for status in CampaignStatus}

    async def email_records_by_status(self) -> dict[EmailStatus, int]:
        rows = await self.session.execute(
            select(EmailRecord.status, func.count())
            .where(EmailRecord.workspace_id == self.workspace_id)
            .group_by(EmailRecord.status)
        )
        counts: dict[Any, int] = dict(rows.all())
        return {status: counts.get(status, 0) for status in EmailStatus}

    async def member_count(self) -> int:
        count = await self.session.scalar(
            select(func.count()).where(Membership.workspace_id == self.workspace_id)
        )
        return int(count or 0)

    async def overview(self) -> WorkspaceOverview:
        return WorkspaceOverview(
            campaigns_by_status=await self.campaigns_by_status(),
            email_records_by_status=await self.email_records_by_status(),
            transactions_by_currency=await TransactionRepository(
                self.session, self.workspace_id
            ).summarize(),
            members=await self.member_count(),
        )
