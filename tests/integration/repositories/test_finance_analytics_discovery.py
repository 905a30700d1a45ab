"""Transactions, analytics events and discovery jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import DiscoveryJobStatus, TransactionType
from core.errors import Conflict, InvalidInput, NotFound
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from storage.repositories.transactions import TransactionRepository
from tests.factories import make_campaign, make_transaction, make_user, make_workspace


class TestTransactions:
    async def test_amounts_are_whole_minor_units_with_a_normalised_currency(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        tx = await make_transaction(session, workspace=workspace, amount_minor=1999, currency="usd")
        read = await TransactionRepository(session, workspace.id).get(tx.id)
        assert (read.amount_minor, read.currency) == (1999, "USD")

    @pytest.mark.parametrize("amount", [0, -5])
    async def test_a_non_positive_amount_is_refused(
        self, session: AsyncSession, amount: int
    ) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput, match="amount_positive"):
            await make_transaction(session, workspace=workspace, amount_minor=amount)

    async def test_a_bad_currency_is_refused(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput, match="ISO 4217"):
            await make_transaction(session, workspace=workspace, currency="euro")

    async def test_search_filters_by_type_campaign_category_and_dates(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        repo = TransactionRepository(session, workspace.id)
        ads = await make_transaction(
            session,
            workspace=workspace,
            category="ads",
            campaign_id=campaign.id,
            occurred_on=date(2026, 10, 5),
        )
        fee = await make_transaction(
            session,
            workspace=workspace,
            type=TransactionType.INCOME,
            category="fee",
            occurred_on=date(2026, 11, 5),
        )
        assert [t.id for t in (await repo.search()).items] == [fee.id, ads.id]
        assert [t.id for t in (await repo.search(type=TransactionType.INCOME)).items] == [fee.id]
        assert [t.id for t in (await repo.search(campaign_id=campaign.id)).items] == [ads.id]
        assert [t.id for t in (await repo.search(category="ads")).items] == [ads.id]
        assert [t.id for t in (await repo.search(occurred_from=date(2026, 11, 1))).items] == [
            fee.id
        ]
        assert [t.id for t in (await repo.search(occurred_to=date(2026, 10, 31))).items] == [ads.id]

    async def test_update_and_delete(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = TransactionRepository(session, workspace.id)
        tx = await make_transaction(session, workspace=workspace)
        assert (await repo.update(tx.id, {"currency": "gbp", "amount_minor": 5})).currency == "GBP"
        await repo.delete(tx.id)
        with pytest.raises(NotFound):
            await repo.get(tx.id)

    async def test_deleting_a_campaign_keeps_its_transactions(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        tx = await make_transaction(session, workspace=workspace, campaign_id=campaign.id)
        await CampaignRepository(session, workspace.id).delete(campaign.id)
        kept = await TransactionRepository(session, workspace.id).get(tx.id)
        await session.refresh(kept)
        assert kept.campaign_id is None


class TestAnalyticsEvents:
    async def test_events_are_listed_and_counted_with_filters(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = AnalyticsEventRepository(session, workspace.id)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        campaign = await make_campaign(session, workspace=workspace)
        for hours, kind in (
            (0, "email.opened"),
            (1, "email.opened"),
            (2, "email.clicked"),
            (30, "email.opened"),
        ):
            await repo.record(
                entity_type="campaign",
                entity_id=campaign.id,
                event_type=kind,
                occurred_at=start + timedelta(hours=hours),
                data={"n": hours},
            )
        await repo.record(entity_type="artist", event_type="viewed", occurred_at=start)

        assert await repo.count_by_type(entity_id=campaign.id) == {
            "email.opened": 3,
            "email.clicked": 1,
        }
        first_day = await repo.count_by_type(since=start, until=start + timedelta(days=1))
        assert first_day == {"email.opened": 2, "email.clicked": 1, "viewed": 1}
        clicked = await repo.search(event_type="email.clicked")
        assert [e.data for e in clicked.items] == [{"n": 2}]
        newest = await repo.search(entity_type="campaign", limit=1)
        assert newest.items[0].data == {"n": 30} and newest.next_cursor is not None


class TestDiscoveryJobs:
    async def test_a_job_runs_reports_progress_and_finishes(self, session: AsyncSession) -> None:
        user = await make_user(session)
        workspace = await make_workspace(session, owner=user)
        repo = DiscoveryJobRepository(session, workspace.id)
        job = await repo.submit(
            query={"tags": ["deep house"], "min_followers": 100}, created_by=user.id
        )
        assert job.status is DiscoveryJobStatus.QUEUED

        running = await repo.set_status(job.id, DiscoveryJobStatus.RUNNING)
        assert running.started_at is not None and running.finished_at is None
        await repo.save_progress(
            job.id, {"pages": 3, "artists": 40}, checkpoint={"frontier": ["u1"]}
        )
        done = await repo.set_status(job.id, DiscoveryJobStatus.COMPLETED)
        assert (done.progress, done.checkpoint, done.finished_at is not None) == (
            {"pages": 3, "artists": 40},
            {"frontier": ["u1"]},
            True,
        )

    async def test_a_finished_job_cannot_change_status(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = DiscoveryJobRepository(session, workspace.id)
        job = await repo.submit(query={}, created_by=None)
        await repo.set_status(job.id, DiscoveryJobStatus.CANCELLED)
        with pytest.raises(Conflict, match="already cancelled"):
            await repo.set_status(job.id, DiscoveryJobStatus.RUNNING)

    async def test_progress_of_an_unknown_job_is_not_found(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(NotFound):
            await DiscoveryJobRepository(session, workspace.id).save_progress(uuid.uuid4(), {})
