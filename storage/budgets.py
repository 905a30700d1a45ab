"""Spending against budget as transactions are written: which write takes a campaign over its
budget, told once, as an analytics event and a live event.

A route (or an actor step) that writes transactions watches the campaigns the write may touch
*before* writing and settles the watch *after*::

    watch = BudgetWatch(session, workspace_id)
    await watch.campaigns([body.campaign_id])
    ...the write...
    await watch.settle(activity)

Watching takes a lock per workspace held until the transaction ends, so two writes at once see
each other's spending: two expenses that only pass the budget together are told once, by the
second. One lock, taken first, cannot deadlock with another watch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.campaign_rules import crossed_budget
from storage.activity import Activity
from storage.models import Transaction
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.campaigns import CampaignRepository, Spending

OVER_BUDGET = "campaign.over_budget"


class BudgetWatch:
    """The spending of the campaigns one transaction's writes touch, before and after them.

    Args:
        session: the writer's session (the watch reads and locks in its transaction).
        workspace_id: the workspace written to.
    """

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self._campaigns = CampaignRepository(session, workspace_id)
        self._before: dict[uuid.UUID, Spending] = {}
        self._locked = False

    async def campaigns(self, campaign_ids: Iterable[uuid.UUID | None]) -> None:
        """Watch these campaigns (``None`` and ids already watched are skipped; ids of no
        campaign here are left to the write to refuse). Call before writing to them."""
        new = {i for i in campaign_ids if i is not None} - self._before.keys()
        if not new:
            return
        await self._lock()
        self._before.update(await self._campaigns.spending(new))

    async def transaction(self, transaction_id: uuid.UUID) -> None:
        """Watch the campaign the transaction belongs to now (before an update or a delete)."""
        # Locked before reading, so a concurrent write cannot move the transaction to another
        # campaign between this read and the caller's write.
        await self._lock()
        campaign_id = await self.session.scalar(
            select(Transaction.campaign_id).where(
                Transaction.workspace_id == self.workspace_id, Transaction.id == transaction_id
            )
        )
        await self.campaigns([campaign_id])

    async def settle(self, activity: Activity) -> list[Spending]:
        """After the writes: make cached campaign reads stale (their spending changed), and
        tell of every watched campaign the writes took over its budget: an analytics event
        ``campaign.over_budget`` and the same as a live event (with an audit row). Returns the
        spending of those campaigns."""
        if not self._before:
            return []
        activity.invalidate("campaign")
        after = await self._campaigns.spending(self._before.keys())
        crossed = [
            now
            for campaign_id, now in sorted(after.items())
            if crossed_budget(
                now.budget_minor, self._before[campaign_id].spent_minor, now.spent_minor
            )
        ]
        analytics = AnalyticsEventRepository(self.session, self.workspace_id)
        for spending in crossed:
            data = {
                "spent_minor": spending.spent_minor,
                "budget_minor": spending.budget_minor,
                "currency": spending.currency,
            }
            await analytics.record(
                entity_type="campaign",
                entity_id=spending.campaign_id,
                event_type=OVER_BUDGET,
                data=data,
            )
            await activity.record(OVER_BUDGET, "campaign", spending.campaign_id, data)
        if crossed:
            activity.invalidate("analytics_event")
        self._before = {}
        return crossed

    async def _lock(self) -> None:
        if not self._locked:
            key = f"campaign_budgets:{self.workspace_id}"
            await self.session.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)))
            )
            self._locked = True
