"""Email templates, outreach campaigns, email records and the suppression list."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import EmailStatus, OutreachStatus, SuppressionReason
from core.errors import Conflict, InvalidInput, NotFound
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.email_templates import EmailTemplateRepository
from storage.repositories.outreach_campaigns import OutreachCampaignRepository
from storage.repositories.suppressions import SuppressionRepository
from tests.factories import (
    make_artist,
    make_campaign,
    make_outreach,
    make_template,
    make_workspace,
)


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

    async def test_claimed_records_are_not_claimed_again(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace)
        repo = EmailRecordRepository(session, workspace.id)
        await repo.enqueue(outreach.id, [{"to_email": f"r{n}@x.example"} for n in range(5)])
        first = await repo.claim_next(outreach.id, 3)
        second = await repo.claim_next(outreach.id, 3)
        assert [r.to_email for r in first] == ["r0@x.example", "r1@x.example", "r2@x.example"]
        assert [r.to_email for r in second] == ["r3@x.example", "r4@x.example"]
        assert all(r.status is EmailStatus.SENDING and r.attempts == 1 for r in first + second)
        assert await repo.claim_next(outreach.id, 3) == []

    async def test_a_record_is_marked_sent_once(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        outreach = await make_outreach(session, workspace=workspace)
        repo = EmailRecordRepository(session, workspace.id)
        await repo.enqueue(outreach.id, [{"to_email": "a@x.example"}, {"to_email": "b@x.example"}])
        sent, failed = await repo.claim_next(outreach.id, 2)
        marked = await repo.mark_sent(sent.id, "<m1@label.example>")
        assert (marked.status, marked.message_id, marked.sent_at is not None) == (
            EmailStatus.SENT,
            "<m1@label.example>",
            True,
        )
        with pytest.raises(Conflict, match="is sent"):
            await repo.mark_sent(sent.id, "<m2@label.example>")
        assert (
            await repo.mark_failed(failed.id, "550 mailbox unavailable")
        ).error == "550 mailbox unavailable"
        assert await repo.count_by_status(outreach.id) == {
            EmailStatus.SENT: 1,
            EmailStatus.FAILED: 1,
        }
        assert [
            r.to_email
            for r in (await repo.for_campaign(outreach.id, status=EmailStatus.FAILED)).items
        ] == ["b@x.example"]


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
