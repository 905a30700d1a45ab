"""Email templates, outreach campaigns, email records, their send queue and the suppression
list."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.delivery import Delivery, Result
from core.enums import EmailStatus, OutreachStatus, SuppressionReason
from core.errors import Conflict, InvalidInput, NotFound
from core.messages import message_id_for
from storage.database import create_sessionmaker
from storage.models import OutreachCampaign, Workspace
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.email_templates import EmailTemplateRepository
from storage.repositories.outreach_campaigns import OutreachCampaignRepository
from storage.repositories.send_queue import Claimed, SendQueue
from storage.repositories.suppressions import SuppressionRepository
from tests.factories import (
    make_artist,
    make_campaign,
    make_outreach,
    make_template,
    make_workspace,
)

SENDER = "promo@label.example"


class TestTemplates:
    async def test_crud_and_unique_names_per_workspace(self, session: AsyncSession) -> None:
        workspace, other = await make_workspace(session), await make_workspace(session)
        repo = EmailTemplateRepository(session, workspace.id)
        template = await make_template(session, workspace=workspace, name="Pitch")
        with pytest.raises(Conflict):
            await make_template(session, workspace=workspace, name="Pitch")
        await make_template(session, workspace=other, name="Pitch")
        assert (await repo.update(template.id, {"subject": "New subject"})).subject == "New subject"
        assert [t.name for t in (await repo.list(sort="name")).items] == ["Pitch"]
        await repo.delete(template.id)
        assert (await repo.list()).items == []


class TestOutreachCampaigns:
    async def test_an_outreach_campaign_links_a_template_and_a_campaign(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        outreach = await make_outreach(
            session,
            workspace=workspace,
            campaign_id=campaign.id,
            sender_email="Promo@Label.Example",
            daily_limit=40,
        )
        read = await OutreachCampaignRepository(session, workspace.id).get(outreach.id)
        assert (read.campaign_id, read.status, read.sender_email, read.daily_limit) == (
            campaign.id,
            OutreachStatus.DRAFT,
            "promo@label.example",
            40,
        )

    async def test_a_bad_sender_and_a_zero_daily_limit_are_refused(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput) as bad_sender:
            await make_outreach(session, workspace=workspace, sender_email="nobody")
        assert bad_sender.value.problems[0].field == "sender_email"
        with pytest.raises(InvalidInput, match="daily_limit must be greater than 0"):
            await make_outreach(session, workspace=workspace, daily_limit=0)

    async def test_a_template_in_use_cannot_be_deleted(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace)
        repo = EmailTemplateRepository(session, workspace.id)
        with pytest.raises(Conflict, match="still in use"):
            await repo.delete(outreach.template_id)
        assert (await repo.get(outreach.template_id)).id == outreach.template_id


class TestEmailRecords:
    async def test_recipients_are_queued_once(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace)
        repo = EmailRecordRepository(session, workspace.id)
        assert (
            await repo.enqueue(
                outreach.id, [{"to_email": "a@x.example"}, {"to_email": "B@x.example"}]
            )
            == 2
        )
        assert (
            await repo.enqueue(
                outreach.id, [{"to_email": "A@x.example"}, {"to_email": "c@x.example"}]
            )
            == 1
        )
        assert await repo.count_by_status(outreach.id) == {EmailStatus.QUEUED: 3}

    async def test_recipients_may_name_catalogue_artists_only(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace)
        artist = await make_artist(session)
        repo = EmailRecordRepository(session, workspace.id)
        unknown = uuid.uuid4()
        with pytest.raises(NotFound, match=f"artist {unknown} not found"):
            await repo.enqueue(
                outreach.id,
                [{"to_email": "a@x.example"}, {"to_email": "b@x.example", "artist_id": unknown}],
            )
        assert await repo.count_by_status(outreach.id) == {}
        assert await repo.enqueue(
            outreach.id, [{"to_email": "a@x.example", "artist_id": artist.id}]
        )
        (record,) = (await repo.for_campaign(outreach.id)).items
        assert record.artist_id == artist.id


def answered(claimed: list[Claimed], *results: tuple[Result, int | None, str]) -> list[Delivery]:
    """A sender's answers to ``claimed``, one ``(result, code, message)`` per record."""
    return [
        Delivery(record.id, result, code=code, message=message, at=datetime.now(UTC))
        for record, (result, code, message) in zip(claimed, results, strict=True)
    ]


async def claim_due(queue: SendQueue, count: int) -> list[Claimed]:
    """Claim up to ``count`` due records the way an outreach actor does."""
    due = await queue.due(datetime.now(UTC), count)
    return await queue.claim([candidate.id for candidate in due], SENDER)


@pytest.fixture
async def committed_outreach(engine: AsyncEngine) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    """A committed workspace whose outreach has five queued records (``r0`` to ``r4``, in
    claim order), removed afterwards."""
    sessions = create_sessionmaker(engine)
    async with sessions.begin() as session:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace, sender_email=SENDER)
        await EmailRecordRepository(session, workspace.id).enqueue(
            outreach.id, [{"to_email": f"r{n}@x.example"} for n in range(5)]
        )
    yield workspace.id, outreach.id
    async with sessions.begin() as session:
        await session.execute(delete(OutreachCampaign).where(OutreachCampaign.id == outreach.id))
        await session.execute(delete(Workspace).where(Workspace.id == workspace.id))


class TestSendQueue:
    async def test_concurrent_claimers_never_share_a_record(
        self, engine: AsyncEngine, committed_outreach: tuple[uuid.UUID, uuid.UUID]
    ) -> None:
        workspace_id, outreach_id = committed_outreach
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as first, sessions.begin() as second:
            # Waiting for the first's locks would be a failure too: fail rather than hang.
            await second.execute(text("SET LOCAL lock_timeout = '10s'"))
            mine = await claim_due(SendQueue(first, workspace_id, outreach_id), 3)
            # The first has not committed: the second passes its records by.
            theirs = await claim_due(SendQueue(second, workspace_id, outreach_id), 3)
            assert [r.to_email for r in mine] == ["r0@x.example", "r1@x.example", "r2@x.example"]
            assert [r.to_email for r in theirs] == ["r3@x.example", "r4@x.example"]
            assert all(r.attempts == 1 and r.claim == 1 for r in mine + theirs)
        async with sessions.begin() as session:
            queue = SendQueue(session, workspace_id, outreach_id)
            assert await claim_due(queue, 3) == []
            counts = await EmailRecordRepository(session, workspace_id).count_by_status(outreach_id)
            assert counts == {EmailStatus.SENDING: 5}

    async def test_a_claim_is_settled_sent_or_failed_once(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace, sender_email=SENDER)
        repo = EmailRecordRepository(session, workspace.id)
        await repo.enqueue(outreach.id, [{"to_email": "a@x.example"}, {"to_email": "b@x.example"}])
        queue = SendQueue(session, workspace.id, outreach.id)
        claimed = await claim_due(queue, 2)
        sent, failed = claimed
        claims = {record.id: record.claim for record in claimed}
        settled = await queue.settle(
            answered(
                claimed,
                (Result.SENT, 250, "queued as 1"),
                (Result.FAILED, 550, "mailbox unavailable"),
            ),
            claims=claims,
            steps=[],
            retry_base=timedelta(minutes=1),
        )
        assert settled.counts == {Result.SENT: 1, Result.FAILED: 1}
        marked = await repo.get(sent.id)
        assert (marked.status, marked.message_id, marked.sent_at is not None) == (
            EmailStatus.SENT,
            message_id_for(sent.id, SENDER),
            True,
        )
        assert (await repo.get(failed.id)).error == "550 mailbox unavailable"
        assert await repo.count_by_status(outreach.id) == {
            EmailStatus.SENT: 1,
            EmailStatus.FAILED: 1,
        }
        assert [
            r.to_email
            for r in (await repo.for_campaign(outreach.id, status=EmailStatus.FAILED)).items
        ] == ["b@x.example"]
        events = await AnalyticsEventRepository(session, workspace.id).count_by_type(
            entity_type="email_record"
        )
        assert events == {"email.sent": 1, "email.failed": 1}

        # A second answer for a claim already settled (a late sender, a recovery racing it)
        # changes nothing: the record keeps its first outcome, and no event is added.
        again = await queue.settle(
            answered(
                claimed,
                (Result.FAILED, 554, "rejected"),
                (Result.SENT, 250, "queued as 2"),
            ),
            claims=claims,
            steps=[],
            retry_base=timedelta(minutes=1),
        )
        assert again.counts == {}
        assert (await repo.get(sent.id)).sent_at == marked.sent_at
        assert await repo.count_by_status(outreach.id) == {
            EmailStatus.SENT: 1,
            EmailStatus.FAILED: 1,
        }
        assert await AnalyticsEventRepository(session, workspace.id).count_by_type(
            entity_type="email_record"
        ) == {"email.sent": 1, "email.failed": 1}


class TestSuppressions:
    async def test_suppression_is_idempotent_and_per_workspace(self, session: AsyncSession) -> None:
        workspace, other = await make_workspace(session), await make_workspace(session)
        repo = SuppressionRepository(session, workspace.id)
        assert await repo.suppress("Gone@X.example", SuppressionReason.UNSUBSCRIBED) is True
        assert await repo.suppress("gone@x.example", SuppressionReason.BOUNCED) is False
        assert await repo.is_suppressed("GONE@x.example")
        assert not await SuppressionRepository(session, other.id).is_suppressed("gone@x.example")
        assert await repo.suppressed_among(["gone@x.example", "here@x.example"]) == {
            "gone@x.example"
        }
        assert (await repo.list()).items[0].reason is SuppressionReason.UNSUBSCRIBED

    async def test_finding_a_suppression_by_address(self, session: AsyncSession) -> None:
        workspace, other = await make_workspace(session), await make_workspace(session)
        repo = SuppressionRepository(session, workspace.id)
        await repo.suppress("gone@x.example", SuppressionReason.BOUNCED)
        found = await repo.find(" GONE@x.example")
        assert found is not None
        assert (found.email, found.reason) == ("gone@x.example", SuppressionReason.BOUNCED)
        assert await repo.find("here@x.example") is None
        assert await SuppressionRepository(session, other.id).find("gone@x.example") is None

    async def test_lifting_a_suppression(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = SuppressionRepository(session, workspace.id)
        await repo.suppress("gone@x.example", SuppressionReason.MANUAL)
        await repo.lift("gone@x.example")
        assert not await repo.is_suppressed("gone@x.example")
        with pytest.raises(NotFound):
            await repo.lift("gone@x.example")
