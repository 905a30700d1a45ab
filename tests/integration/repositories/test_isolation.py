"""Workspace A can never read or change workspace B's rows, through any repository."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ContactSource, Role, SuppressionReason, TemplateType
from core.errors import NotFound
from storage.models import Workspace
from storage.repositories.analytics_events import AnalyticsEventRepository
from storage.repositories.audit_log import AuditLogRepository
from storage.repositories.base import ScopedRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.discovery_jobs import DiscoveryJobRepository
from storage.repositories.email_records import EmailRecordRepository
from storage.repositories.email_templates import EmailTemplateRepository
from storage.repositories.mailboxes import MailboxRepository
from storage.repositories.notes import ArtistNoteRepository
from storage.repositories.outreach_campaigns import OutreachCampaignRepository
from storage.repositories.outreach_steps import OutreachStepRepository
from storage.repositories.suppressions import SuppressionRepository
from storage.repositories.transactions import TransactionRepository
from storage.repositories.watched_artists import WatchedArtistRepository
from storage.repositories.workspaces import MembershipRepository
from tests.factories import (
    make_artist,
    make_campaign,
    make_outreach,
    make_template,
    make_transaction,
    make_user,
    make_workspace,
)

Maker = Callable[[AsyncSession, Workspace], Awaitable[Any]]


async def _contact(session: AsyncSession, ws: Workspace) -> Any:
    artist = await make_artist(session)
    return await ArtistContactRepository(session, ws.id).add(
        artist_id=artist.id, email="booking@artist.example", source=ContactSource.MANUAL
    )


async def _note(session: AsyncSession, ws: Workspace) -> Any:
    artist = await make_artist(session)
    return await ArtistNoteRepository(session, ws.id).add(
        artist_id=artist.id, author_id=None, body="met at ADE"
    )


async def _watched_artist(session: AsyncSession, ws: Workspace) -> Any:
    artist = await make_artist(session)
    repo = WatchedArtistRepository(session, ws.id)
    await repo.watch(artist.id, by=None)
    return (await repo.list()).items[0]


async def _email_record(session: AsyncSession, ws: Workspace) -> Any:
    outreach = await make_outreach(session, workspace=ws)
    repo = EmailRecordRepository(session, ws.id)
    await repo.enqueue(outreach.id, [{"to_email": "dj@artist.example"}])
    return (await repo.for_campaign(outreach.id)).items[0]


async def _outreach_step(session: AsyncSession, ws: Workspace) -> Any:
    outreach = await make_outreach(session, workspace=ws)
    follow_up = await make_template(session, workspace=ws, type=TemplateType.FOLLOW_UP)
    return await OutreachStepRepository(session, ws.id).append(
        outreach.id, template_id=follow_up.id, delay_days=3
    )


async def _suppression(session: AsyncSession, ws: Workspace) -> Any:
    repo = SuppressionRepository(session, ws.id)
    await repo.suppress("gone@artist.example", SuppressionReason.UNSUBSCRIBED)
    return (await repo.list()).items[0]


async def _membership(session: AsyncSession, ws: Workspace) -> Any:
    return await MembershipRepository(session, ws.id).add(
        (await make_user(session)).id, Role.EDITOR
    )


CASES: dict[str, tuple[type[ScopedRepository[Any]], Maker, dict[str, Any]]] = {
    "campaigns": (
        CampaignRepository,
        lambda s, w: make_campaign(s, workspace=w),
        {"name": "hijacked"},
    ),
    "contacts": (ArtistContactRepository, _contact, {"consent_state": "withdrawn"}),
    "notes": (ArtistNoteRepository, _note, {"body": "hijacked"}),
    "watched artists": (WatchedArtistRepository, _watched_artist, {"created_by": uuid.uuid4()}),
    "email templates": (
        EmailTemplateRepository,
        lambda s, w: make_template(s, workspace=w),
        {"name": "hijacked"},
    ),
    "outreach campaigns": (
        OutreachCampaignRepository,
        lambda s, w: make_outreach(s, workspace=w),
        {"name": "hijacked"},
    ),
    "email records": (EmailRecordRepository, _email_record, {"error": "hijacked"}),
    "outreach steps": (OutreachStepRepository, _outreach_step, {"delay_days": 9}),
    "suppressions": (SuppressionRepository, _suppression, {"reason": "manual"}),
    "transactions": (
        TransactionRepository,
        lambda s, w: make_transaction(s, workspace=w),
        {"category": "hijacked"},
    ),
    "analytics events": (
        AnalyticsEventRepository,
        lambda s, w: AnalyticsEventRepository(s, w.id).record(
            entity_type="campaign", event_type="viewed"
        ),
        {"event_type": "hijacked"},
    ),
    "audit log": (
        AuditLogRepository,
        lambda s, w: AuditLogRepository(s, w.id).record(
            actor_user_id=None, action="create", entity_type="x"
        ),
        {"action": "hijacked"},
    ),
    "discovery jobs": (
        DiscoveryJobRepository,
        lambda s, w: DiscoveryJobRepository(s, w.id).submit(
            query={"tags": ["house"]}, created_by=None
        ),
        {"error": "hijacked"},
    ),
    "memberships": (MembershipRepository, _membership, {"role": "viewer"}),
    "mailboxes": (
        MailboxRepository,
        lambda s, w: MailboxRepository(s, w.id).create(
            name="Label",
            host="smtp.label.example",
            port=587,
            tls_mode="starttls",
            username=None,
            from_email="me@label.example",
        ),
        {"name": "hijacked"},
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
class TestCrossWorkspaceIsolation:
    async def test_another_workspace_cannot_read_list_change_or_delete_the_row(
        self, session: AsyncSession, case: str
    ) -> None:
        repository, make, change = CASES[case]
        owner, intruder = (
            await make_workspace(session, name="A"),
            await make_workspace(session, name="B"),
        )
        row = await make(session, owner)
        theirs = repository(session, intruder.id)

        with pytest.raises(NotFound):
            await theirs.get(row.id)
        assert not await theirs.exists(row.id)
        assert row.id not in {r.id for r in (await theirs.list(limit=200)).items}
        with pytest.raises(NotFound):
            await theirs.update(row.id, change)
        with pytest.raises(NotFound):
            await theirs.delete(row.id)

        mine = repository(session, owner.id)
        still = await mine.get(row.id)
        for field, value in change.items():
            assert getattr(still, field) != value
        assert row.id in {r.id for r in (await mine.list(limit=200)).items}

    async def test_a_missing_id_and_a_foreign_id_give_the_same_answer(
        self, session: AsyncSession, case: str
    ) -> None:
        repository, make, _ = CASES[case]
        owner, intruder = await make_workspace(session), await make_workspace(session)
        row = await make(session, owner)
        theirs = repository(session, intruder.id)
        with pytest.raises(NotFound) as foreign:
            await theirs.get(row.id)
        missing_id = uuid.uuid4()
        with pytest.raises(NotFound) as missing:
            await theirs.get(missing_id)
        assert str(foreign.value).replace(str(row.id), "ID") == str(missing.value).replace(
            str(missing_id), "ID"
        )


class TestReferencesAcrossWorkspaces:
    async def test_a_transaction_cannot_point_at_another_workspaces_campaign(
        self, session: AsyncSession
    ) -> None:
        owner, intruder = await make_workspace(session), await make_workspace(session)
        campaign = await make_campaign(session, workspace=owner)
        with pytest.raises(NotFound, match="campaign"):
            await make_transaction(session, workspace=intruder, campaign_id=campaign.id)

    async def test_an_outreach_campaign_cannot_use_another_workspaces_template(
        self, session: AsyncSession
    ) -> None:
        owner, intruder = await make_workspace(session), await make_workspace(session)
        template = await make_template(session, workspace=owner)
        with pytest.raises(NotFound, match="email template"):
            await make_outreach(session, workspace=intruder, template_id=template.id)

    async def test_recipients_cannot_be_queued_on_another_workspaces_outreach(
        self, session: AsyncSession
    ) -> None:
        owner, intruder = await make_workspace(session), await make_workspace(session)
        outreach = await make_outreach(session, workspace=owner)
        with pytest.raises(NotFound):
            await EmailRecordRepository(session, intruder.id).enqueue(
                outreach.id, [{"to_email": "a@b.example"}]
            )

    async def test_artists_cannot_be_added_to_another_workspaces_campaign(
        self, session: AsyncSession
    ) -> None:
        owner, intruder = await make_workspace(session), await make_workspace(session)
        campaign = await make_campaign(session, workspace=owner)
        artist = await make_artist(session)
        with pytest.raises(NotFound):
            await CampaignRepository(session, intruder.id).add_artist(campaign.id, artist.id)
        with pytest.raises(NotFound):
            await CampaignRepository(session, intruder.id).list_artists(campaign.id)
