"""Campaigns: CRUD, listing, the status machine, and the artists in a campaign."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import CampaignArtistStatus, CampaignStatus, CampaignType
from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from storage.repositories.campaigns import CampaignRepository
from tests.factories import make_artist, make_campaign, make_workspace


class TestCampaignCrud:
    async def test_a_created_campaign_reads_back_as_a_draft_with_its_fields(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        created = await repo.create(
            name="Spring release",
            type=CampaignType.RELEASE,
            budget_minor=250_000,
            currency="gbp",
            start_date=date(2026, 3, 1),
            end_date=date(2026, 4, 1),
        )
        read = await repo.get(created.id)
        assert (read.name, read.status, read.budget_minor, read.currency) == (
            "Spring release",
            CampaignStatus.DRAFT,
            250_000,
            "GBP",
        )

    async def test_update_changes_only_the_given_fields(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        campaign = await make_campaign(session, workspace=workspace, name="Old", budget_minor=100)
        updated = await repo.update(campaign.id, {"name": "New"})
        assert (updated.name, updated.budget_minor) == ("New", 100)

    async def test_status_cannot_be_set_by_a_plain_update(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        with pytest.raises(InvalidInput):
            await CampaignRepository(session, workspace.id).update(
                campaign.id, {"status": CampaignStatus.ACTIVE}
            )

    async def test_delete_removes_the_campaign(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        campaign = await make_campaign(session, workspace=workspace)
        await repo.delete(campaign.id)
        with pytest.raises(NotFound):
            await repo.get(campaign.id)
        with pytest.raises(NotFound):
            await repo.delete(campaign.id)

    async def test_a_negative_budget_is_refused_naming_the_rule(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput, match="budget_minor must not be negative"):
            await make_campaign(session, workspace=workspace, budget_minor=-1)

    async def test_an_end_before_the_start_is_refused(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput, match="end_date must not be before start_date"):
            await make_campaign(
                session, workspace=workspace, start_date=date(2026, 5, 2), end_date=date(2026, 5, 1)
            )

    async def test_the_session_stays_usable_after_a_refused_write(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        with pytest.raises(InvalidInput):
            await make_campaign(session, workspace=workspace, budget_minor=-1)
        campaign = await make_campaign(session, workspace=workspace)
        assert (await CampaignRepository(session, workspace.id).get(campaign.id)).id == campaign.id


class TestStatusTransitions:
    async def test_a_campaign_walks_the_allowed_path(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        campaign = await make_campaign(session, workspace=workspace)
        for target in (
            CampaignStatus.SCHEDULED,
            CampaignStatus.ACTIVE,
            CampaignStatus.PAUSED,
            CampaignStatus.ACTIVE,
            CampaignStatus.COMPLETED,
        ):
            campaign = await repo.transition(campaign.id, target)
        assert (await repo.get(campaign.id)).status is CampaignStatus.COMPLETED

    async def test_a_forbidden_transition_is_refused_and_the_status_kept(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        campaign = await make_campaign(session, workspace=workspace)
        with pytest.raises(InvalidTransition, match="draft campaign cannot become paused"):
            await repo.transition(campaign.id, CampaignStatus.PAUSED)
        assert (await repo.get(campaign.id)).status is CampaignStatus.DRAFT


class TestCampaignArtists:
    async def test_artists_are_added_listed_updated_and_removed(
        self, session: AsyncSession
    ) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        campaign = await make_campaign(session, workspace=workspace)
        first, second = await make_artist(session), await make_artist(session)
        await repo.add_artist(campaign.id, first.id)
        await repo.add_artist(campaign.id, second.id)
        await repo.set_artist_status(campaign.id, first.id, CampaignArtistStatus.CONFIRMED)

        page = await repo.list_artists(campaign.id)
        assert {entry.artist.name for entry in page.items} == {first.name, second.name}
        confirmed = await repo.list_artists(campaign.id, status=CampaignArtistStatus.CONFIRMED)
        assert [entry.artist_id for entry in confirmed.items] == [first.id]

        await repo.remove_artist(campaign.id, second.id)
        assert [e.artist_id for e in (await repo.list_artists(campaign.id)).items] == [first.id]

    async def test_the_same_artist_cannot_be_added_twice(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        repo = CampaignRepository(session, workspace.id)
        campaign = await make_campaign(session, workspace=workspace)
        artist = await make_artist(session)
        await repo.add_artist(campaign.id, artist.id)
        with pytest.raises(Conflict):
            await repo.add_artist(campaign.id, artist.id)

    async def test_an_unknown_artist_is_not_found(self, session: AsyncSession) -> None:
        workspace = await make_workspace(session)
        campaign = await make_campaign(session, workspace=workspace)
        with pytest.raises(NotFound, match="artist"):
            await CampaignRepository(session, workspace.id).add_artist(campaign.id, uuid.uuid4())
