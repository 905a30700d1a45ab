"""Transactions, analytics events and discovery jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import CampaignStatus, DiscoveryJobStatus, EmailStatus, Role, TransactionType
from core.errors import Conflict, InvalidInput, NotFound
from storage.repositories.analytics_events import AnalyticsEventRepository, EventBucket
from storage.repositories.audit_log import AuditLogRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.dashboard import DashboardRepository
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.transactions import MoneyTotals, TransactionRepository
from storage.repositories.workspaces import MembershipRepository
from tests.factories import (
    make_campaign,
    make_outreach,
    make_transaction,
    make_user,
    make_workspace,
)

INCOME, EXPENSE = TransactionType.INCOME, TransactionType.EXPENSE


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
        with pytest.raises(InvalidInput, match="amount_minor must be greater than 0"):
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


class TestTransactionSummaries:
    async def test_each_group_sums_each_currency_apart(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        for type_, amount, currency, category in (
            (INCOME, 10_000, "EUR", "fees"),
            (EXPENSE, 2_500, "EUR", "fees"),
            (INCOME, 700, "USD", "fees"),
            (EXPENSE, 1_200, "EUR", "ads"),
        ):
            await make_transaction(
                session,
                workspace=workspace,
                type=type_,
                amount_minor=amount,
                currency=currency,
                category=category,
            )
        repo = TransactionRepository(session, workspace.id)
        assert await repo.summarize(group_by="category") == [
            MoneyTotals("ads", "EUR", 0, 1_200, -1_200, 1),
            MoneyTotals("fees", "EUR", 10_000, 2_500, 7_500, 2),
            MoneyTotals("fees", "USD", 700, 0, 700, 1),
        ]
        assert await repo.summarize() == [
            MoneyTotals(None, "EUR", 10_000, 3_700, 6_300, 3),
            MoneyTotals(None, "USD", 700, 0, 700, 1),
        ]

    async def test_months_and_campaigns_are_groups_and_dates_filter(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        await make_transaction(
            session, workspace=workspace, occurred_on=date(2026, 10, 31), campaign_id=campaign.id
        )
        await make_transaction(session, workspace=workspace, occurred_on=date(2026, 11, 1))
        await make_transaction(session, workspace=workspace, occurred_on=date(2026, 11, 30))
        repo = TransactionRepository(session, workspace.id)

        months = await repo.summarize(group_by="month")
        assert [(m.key, m.expense_minor, m.count) for m in months] == [
            ("2026-10", 1250, 1),
            ("2026-11", 2500, 2),
        ]
        by_campaign = await repo.summarize(group_by="campaign")
        assert [(c.key, c.count) for c in by_campaign] == [(str(campaign.id), 1), (None, 2)]
        november = await repo.summarize(
            group_by="month", occurred_from=date(2026, 11, 1), occurred_to=date(2026, 11, 30)
        )
        assert [m.key for m in november] == ["2026-11"]

    async def test_another_workspace_adds_nothing(self, session: AsyncSession) -> None:
        mine, theirs = await make_workspace(session), await make_workspace(session)
        await make_transaction(session, workspace=theirs)
        assert await TransactionRepository(session, mine.id).summarize(group_by="category") == []


class TestTransactionBatches:
    async def test_many_rows_are_inserted_at_once(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        repo = TransactionRepository(session, workspace.id)
        rows = [
            {
                "type": INCOME,
                "amount_minor": 100 * n,
                "currency": "gbp",
                "occurred_on": date(2026, 11, n),
                "campaign_id": campaign.id if n == 1 else None,
            }
            for n in (1, 2, 3)
        ]
        assert await repo.create_many(rows) == 3
        stored = await repo.matching()
        assert [(t.amount_minor, t.currency, t.category) for t in stored] == [
            (100, "GBP", "uncategorized"),
            (200, "GBP", "uncategorized"),
            (300, "GBP", "uncategorized"),
        ]
        assert [t.id for t in await repo.matching(campaign_id=campaign.id)] == [stored[0].id]

    async def test_a_campaign_of_another_workspace_fails_the_whole_batch(
        self, session: AsyncSession
    ) -> None:
        mine, theirs = await make_workspace(session), await make_workspace(session)
        their_campaign = await make_campaign(session, workspace=theirs)
        repo = TransactionRepository(session, mine.id)
        assert await repo.existing_campaign_ids({their_campaign.id}) == set()
        row = {"type": INCOME, "amount_minor": 5, "currency": "EUR", "occurred_on": date.today()}
        with pytest.raises(NotFound, match="campaign"):
            await repo.create_many([row, {**row, "campaign_id": their_campaign.id}])
        assert await repo.matching() == []

    async def test_a_bad_row_is_refused_and_leaves_the_session_usable(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        repo = TransactionRepository(session, workspace.id)
        row = {"type": INCOME, "amount_minor": 0, "currency": "EUR", "occurred_on": date.today()}
        with pytest.raises(InvalidInput, match="amount_minor must be greater than 0"):
            await repo.create_many([row])
        assert await repo.create_many([{**row, "amount_minor": 1}]) == 1


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

    async def test_counts_per_day_week_and_month_are_in_utc(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = AnalyticsEventRepository(session, workspace.id)
        # Wednesday 2026-11-04 23:30 UTC is already Thursday in Berlin: buckets follow UTC.
        wednesday = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)
        for when, kind in (
            (wednesday, "opened"),
            (wednesday + timedelta(minutes=10), "clicked"),
            (wednesday + timedelta(hours=1), "opened"),
            (wednesday + timedelta(days=30), "opened"),
        ):
            await repo.record(entity_type="campaign", event_type=kind, occurred_at=when)

        days = await repo.count_by_interval("day")
        assert days == [
            EventBucket(datetime(2026, 11, 4, tzinfo=UTC), {"clicked": 1, "opened": 1}),
            EventBucket(datetime(2026, 11, 5, tzinfo=UTC), {"opened": 1}),
            EventBucket(datetime(2026, 12, 4, tzinfo=UTC), {"opened": 1}),
        ]
        weeks = await repo.count_by_interval("week", until=datetime(2026, 12, 1, tzinfo=UTC))
        assert weeks == [
            EventBucket(datetime(2026, 11, 2, tzinfo=UTC), {"clicked": 1, "opened": 2})
        ]
        months = await repo.count_by_interval("month")
        assert [(b.start.month, b.counts) for b in months] == [
            (11, {"clicked": 1, "opened": 2}),
            (12, {"opened": 1}),
        ]

    async def test_an_unknown_interval_names_the_field(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput) as raised:
            await AnalyticsEventRepository(session, workspace.id).count_by_interval(
                "hour"  # type: ignore[arg-type]
            )
        assert [p.field for p in raised.value.problems] == ["interval"]


class TestAuditLogSearch:
    async def test_entries_are_filtered_by_action(self, session: AsyncSession) -> None:
        user = await make_user(session)
        workspace = await make_workspace(session, owner=user)
        repo = AuditLogRepository(session, workspace.id)
        for action in ("campaign.create", "campaign.update", "campaign.create"):
            await repo.record(actor_user_id=user.id, action=action, entity_type="campaign")
        created = await repo.search(action="campaign.create")
        assert [e.action for e in created.items] == ["campaign.create", "campaign.create"]
        assert (await repo.search(action="campaign.delete")).items == []


class TestDashboard:
    async def test_the_overview_counts_every_status_and_currency(
        self, session: AsyncSession
    ) -> None:
        owner = await make_user(session)
        workspace = await make_workspace(session, owner=owner)
        await MembershipRepository(session, workspace.id).add(
            (await make_user(session)).id, Role.VIEWER
        )
        campaigns = CampaignRepository(session, workspace.id)
        active = await make_campaign(session, workspace=workspace)
        await campaigns.transition(active.id, CampaignStatus.ACTIVE)
        await make_campaign(session, workspace=workspace)
        outreach = await make_outreach(session, workspace=workspace)
        await EmailRecordRepository(session, workspace.id).enqueue(
            outreach.id, [{"to_email": "a@artist.example"}, {"to_email": "b@artist.example"}]
        )
        await make_transaction(session, workspace=workspace, type=INCOME, amount_minor=900)
        await make_transaction(session, workspace=workspace, currency="JPY", amount_minor=300)
        elsewhere = await make_workspace(session)
        await make_campaign(session, workspace=elsewhere)
        await make_transaction(session, workspace=elsewhere)

        overview = await DashboardRepository(session, workspace.id).overview()

        assert overview.campaigns_by_status == {
            **dict.fromkeys(CampaignStatus, 0),
            CampaignStatus.DRAFT: 1,
            CampaignStatus.ACTIVE: 1,
        }
        assert overview.email_records_by_status == {
            **dict.fromkeys(EmailStatus, 0),
            EmailStatus.QUEUED: 2,
        }
        assert overview.transactions_by_currency == [
            MoneyTotals(None, "EUR", 900, 0, 900, 1),
            MoneyTotals(None, "JPY", 0, 300, -300, 1),
        ]
        assert overview.members == 2

    async def test_an_empty_workspace_is_all_zeros(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        overview = await DashboardRepository(session, workspace.id).overview()
        assert set(overview.campaigns_by_status.values()) == {0}
        assert set(overview.email_records_by_status.values()) == {0}
        assert (overview.transactions_by_currency, overview.members) == ([], 1)


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
